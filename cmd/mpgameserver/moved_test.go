package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMovedCommands: loadgen and bare-echo moved to mpgameserver-tools,
// which the server binary does not link; the old names still run them,
// through that binary on the PATH, and say so. Without it they say how
// to get it.
func TestMovedCommands(t *testing.T) {
	gocmd := goCommand(t)         // before PATH changes
	t.Setenv("PATH", t.TempDir()) // nothing there
	code, _, errOut := runArgs("loadgen", "--help")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "loadgen moved to mpgameserver-tools")
	assert.Contains(t, errOut, "go build -o mpgameserver-tools ./cmd/mpgameserver-tools")

	dir := t.TempDir()
	bin := filepath.Join(dir, "mpgameserver-tools")
	build := exec.Command(gocmd, "build", "-o", bin, "../mpgameserver-tools")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Setenv("PATH", dir)
	code, stdout, errOut := runArgs("loadgen", "--help")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "mpgameserver loadgen: moved to mpgameserver-tools; running "+bin+" loadgen")
	assert.Contains(t, errOut, "usage: mpgameserver-tools loadgen", "the tool's own help")
	assert.Empty(t, stdout)
	code, _, errOut = runArgs("bare-echo", "--listen", "nowhere")
	assert.Equal(t, 1, code, "the tool's status is the command's")
	assert.Contains(t, errOut, `--listen "nowhere"`)
}

// goCommand returns the go command this test runs with.
func goCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build mpgameserver-tools with")
	}
	return p
}

// TestServerLinksNoTooling: the binary that serves (the production
// build, -tags headless, as the container builds it) links no load
// generator and no attack kit.
func TestServerLinksNoTooling(t *testing.T) {
	gocmd := goCommand(t)
	for _, tags := range []string{"headless", ""} {
		out, err := exec.Command(gocmd, "list", "-deps", "-tags", tags, ".").CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, tool := range []string{"/internal/loadgen", "/internal/attack", "/internal/tools/"} {
			assert.NotContains(t, string(out), "github.com/mpgs/mpgameserver"+tool, "tags %q", tags)
		}
	}
}
