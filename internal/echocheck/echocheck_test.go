package echocheck_test

import (
	"bytes"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/echocheck"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

func startEcho(t *testing.T, addr string) (*server.Server, *conn.PrivateKey, *syncbuf.Buffer) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	out := &syncbuf.Buffer{}
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(out), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, addr)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		<-srv.Done()
	})
	return srv, root, out
}

func TestScenariosAgainstOurServer(t *testing.T) {
	srv, root, out := startEcho(t, "127.0.0.1:0")
	var report bytes.Buffer
	passed, failed := echocheck.Run(echocheck.Options{Server: srv.Addr().String(), Key: root.Public(), Out: &report, Frame: 5 * time.Millisecond})
	t.Log("\n" + report.String())
	assert.Zero(t, failed)
	assert.Equal(t, len(echocheck.Scenarios()), passed)
	for _, name := range echocheck.Scenarios() {
		assert.Contains(t, report.String(), "PASS "+name+" ")
	}
	assert.Contains(t, report.String(), "9 passed, 0 failed")
	// One client connected and left; wrong_key's never got in.
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "DISCONNECT ") }, 3*time.Second, 10*time.Millisecond)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	assert.Regexp(t, `^CONNECT 127\.0\.0\.1:\d+ token=\d+ active=1$`, lines[0])
	assert.Regexp(t, `^DISCONNECT 127\.0\.0\.1:\d+ msgs=92 bytes=\d+ active=0$`, lines[1])
}

// TestScenariosAgainstNothing: with nothing listening, connect fails and
// says why, and nothing else runs: wrong_key in particular does not pass
// (a connection that fails for any other reason than a bad signature
// proves nothing about the server's key).
func TestScenariosAgainstNothing(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	var report bytes.Buffer
	passed, failed := echocheck.Run(echocheck.Options{Server: addr, Out: &report, Frame: 5 * time.Millisecond, ConnectTimeout: time.Second})
	t.Log("\n" + report.String())
	assert.Zero(t, passed)
	assert.Equal(t, 1, failed)
	lines := strings.Split(strings.TrimSpace(report.String()), "\n")
	require.Len(t, lines, len(echocheck.Scenarios())+1)
	if runtime.GOOS == "linux" {
		assert.Equal(t, "FAIL connect connection refused: nothing listens at "+addr+": is an echo server running there?", lines[0])
	} else {
		assert.True(t, strings.HasPrefix(lines[0], "FAIL connect "), lines[0])
	}
	for i, name := range echocheck.Scenarios()[1:] {
		assert.Equal(t, "SKIP "+name+" not run: connect failed", lines[i+1])
	}
	assert.Equal(t, "0 passed, 1 failed, 8 skipped", lines[len(lines)-1])
	assert.NotContains(t, report.String(), "PASS wrong_key")
}

// TestScenariosAgainstASilentPort: something holds the port but never
// answers.
func TestScenariosAgainstASilentPort(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	addr := pc.LocalAddr().String()
	var report bytes.Buffer
	_, failed := echocheck.Run(echocheck.Options{Server: addr, Out: &report, Frame: 5 * time.Millisecond, ConnectTimeout: 500 * time.Millisecond})
	assert.Equal(t, 1, failed)
	assert.True(t, strings.HasPrefix(report.String(), "FAIL connect no answer from "+addr+" within 500ms: is an echo server running there?\n"), report.String())
	assert.NotContains(t, report.String(), "PASS")
}
