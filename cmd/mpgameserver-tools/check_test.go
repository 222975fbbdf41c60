package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/server"
)

// TestCheckAgainstNothing: with nothing listening at --server, check
// says so on its connect line, runs nothing else and exits 1.
func TestCheckAgainstNothing(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--server", addr, "--connect-timeout", "1s", "--frame", "5ms"}, &out, &errOut)
	assert.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.NotEmpty(t, lines)
	want := "FAIL connect connection refused: nothing listens at " + addr + ": is an echo server running there?"
	if runtime.GOOS != "linux" {
		want = "FAIL connect " // a portable socket is not told of the refusal: "no answer"
	}
	assert.True(t, strings.HasPrefix(lines[0], want), lines[0])
	assert.Equal(t, "0 passed, 1 failed, 8 skipped", lines[len(lines)-1])
	assert.NotContains(t, out.String(), "PASS")
}

// TestCheckAgainstOurServer: every scenario passes, exit 0; with another
// key pinned, connect fails for a bad signature and exits 1.
func TestCheckAgainstOurServer(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	dir := t.TempDir()
	require.NoError(t, conn.SavePublicKey(filepath.Join(dir, "root.pub"), root.Public()))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--server", srv.Addr().String(), "--pubkey", filepath.Join(dir, "root.pub"), "--frame", "5ms"}, &out, &errOut)
	assert.Equal(t, 0, code, out.String())
	assert.Contains(t, out.String(), "PASS wrong_key refused, as it should be: the server's hello is not signed by the pinned key")
	assert.Contains(t, out.String(), "9 passed, 0 failed\n")

	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, conn.SavePublicKey(filepath.Join(dir, "other.pub"), other.Public()))
	out.Reset()
	code = run(context.Background(), []string{"check", "--server", srv.Addr().String(), "--pubkey", filepath.Join(dir, "other.pub"), "--frame", "5ms"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(out.String(), "FAIL connect bad signature: the server's key does not match the pinned key"), out.String())
	assert.Contains(t, out.String(), "0 passed, 1 failed, 8 skipped\n")
}
