package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Package is the import path of the arena's browser program.
const Package = "github.com/mpgs/mpgameserver/internal/arena/browser"

// Build compiles Package for GOOS=js GOARCH=wasm with the go command on
// the PATH, from the directory dir (a directory of this module, or of a
// module that requires it), and returns it with the matching
// wasm_exec.js. The Go build cache makes it quick after the first time.
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

// Load returns the embedded assets or, in a binary built without them,
// builds them from the working directory's source tree, logging that it
// does and how long it took. Its error says how to get them.
func Load(ctx context.Context, log *slog.Logger) (Assets, error) {
	if a, ok := Embedded(); ok {
		return a, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return Assets{}, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("building the arena for the browser (go generate ./internal/arena/web embeds it instead)", "package", Package)
	start := time.Now()
	a, err := Build(ctx, dir)
	if err != nil {
		return Assets{}, fmt.Errorf("this binary has no arena for the browser in it, and building one in %s failed (%w): "+
			"run it in the source tree, or run go generate ./internal/arena/web before go build", dir, err)
	}
	log.Info("built the arena for the browser", "took", time.Since(start).Round(time.Millisecond), "bytes", len(a.WASM))
	return a, nil
}
