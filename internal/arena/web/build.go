package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Package is the import path of the arena's browser program.
const Package = "github.com/mpgs/mpgameserver/internal/arena/browser"

// Build compiles Package for GOOS=js GOARCH=wasm with the go command on
// the PATH, from the directory dir (a directory of this module), and
// returns it with the matching wasm_exec.js: what go generate and the
// tests run, never a server. The Go build cache makes it quick after the
// first time.
func Build(ctx context.Context, dir string) (Assets, error) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return Assets{}, errors.New("the go command is not on the PATH")
	}
	tmp, err := os.MkdirTemp("", "mpgs-arena-wasm")
	if err != nil {
		return Assets{}, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "arena.wasm")
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, gocmd, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				// Stopped (Ctrl-C), not a tree that does not build.
				return "", fmt.Errorf("go %s: interrupted: %w", args[0], ctx.Err())
			}
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return "", fmt.Errorf("go %s: %s", args[0], msg)
		}
		return strings.TrimSpace(stdout.String()), nil
	}
	if _, err := run("build", "-trimpath", "-ldflags=-s -w", "-o", out, Package); err != nil {
		return Assets{}, err
	}
	goroot, err := run("env", "GOROOT")
	if err != nil {
		return Assets{}, err
	}
	var js []byte
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} { // Go 1.24 moved it to lib
		if js, err = os.ReadFile(filepath.Join(goroot, p)); err == nil {
			break
		}
	}
	if err != nil {
		return Assets{}, fmt.Errorf("no wasm_exec.js in %s: %w", goroot, err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return Assets{}, err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil {
		return Assets{}, err
	}
	if err := zw.Close(); err != nil {
		return Assets{}, err
	}
	return Assets{WASM: z.Bytes(), ExecJS: js}, nil
}

// FromDir reads the assets from dir, where Build's files were written
// (go run ./internal/arena/web/internal/gen -o DIR): arena.wasm.gz and
// wasm_exec.js.
func FromDir(dir string) (Assets, error) {
	w, err := os.ReadFile(filepath.Join(dir, wasmFile))
	if err != nil {
		return Assets{}, err
	}
	js, err := os.ReadFile(filepath.Join(dir, execFile))
	if err != nil {
		return Assets{}, err
	}
	a := Assets{WASM: w, ExecJS: js}
	if a.Empty() {
		return Assets{}, fmt.Errorf("%s: empty arena files", dir)
	}
	if _, err := gzip.NewReader(bytes.NewReader(w)); err != nil {
		return Assets{}, fmt.Errorf("%s: %s is not gzip-compressed: %w", dir, wasmFile, err)
	}
	return a, nil
}

// Write writes a into dir as FromDir reads them.
func (a Assets) Write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, wasmFile), a.WASM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, execFile), a.ExecJS, 0o644)
}
