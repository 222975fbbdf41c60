package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The loadgen fails, saying why in one line, when it measured nothing
// worth reading: no client connected, or the server does not echo.

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestLoadgenWithTheWrongKey(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"root", "other"} {
		keygen(t, dir, name)
	}
	addr := gameServer(t, "echo", filepath.Join(dir, "root.key"))
	other := filepath.Join(dir, "other.pub")
	code, out, errOut := runArgs("loadgen", "--server", addr, "--pubkey", other, "--clients", "4", "--duration", "1s", "--quiet", "--json")
	assert.Equal(t, 1, code)
	assert.Equal(t, "mpgameserver-tools loadgen: no client connected: the server's key does not match --pubkey "+other+" (4 of 4 handshakes: bad signature)",
		lastLine(errOut))
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 4.0, rep["failed"])
	assert.Equal(t, 4.0, rep["failures"].(map[string]any)["bad_signature"])
	assert.Contains(t, rep["problem"], "the server's key does not match")
}

func TestLoadgenAgainstNothing(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	for _, sockets := range []string{"auto", "per-client"} {
		code, out, errOut := runArgs("loadgen", "--server", addr, "--clients", "3", "--duration", "1s", "--quiet",
			"--handshake-timeout", "300ms", "--sockets", sockets)
		assert.Equal(t, 1, code, sockets)
		assert.Contains(t, out, "0 connected, 3 failed", sockets)
		if runtime.GOOS != "linux" {
			assert.Contains(t, lastLine(errOut), "mpgameserver-tools loadgen: no client connected: ", sockets)
			continue
		}
		assert.Equal(t, "mpgameserver-tools loadgen: no client connected: nothing listens at "+addr+" (3 of 3 handshakes: connection refused): is the server running?",
			lastLine(errOut), sockets)
	}
}

func TestLoadgenAgainstAnArenaServer(t *testing.T) {
	addr := gameServer(t, "arena", "")
	code, out, errOut := runArgs("loadgen", "--server", addr, "--clients", "3", "--rate", "10", "--duration", "1s", "--quiet",
		"--handshake-timeout", "30s")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "3 connected", "it connects: an mpgameserver server")
	line := lastLine(errOut)
	assert.True(t, strings.HasPrefix(line, "mpgameserver-tools loadgen: the server at "+addr+" "), line)
	assert.True(t, strings.HasSuffix(line, ": is it an echo server (mpgameserver serve --game echo)?"), line)
	assert.Contains(t, out, "\nproblem    the server at "+addr)
}
