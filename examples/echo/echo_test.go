package echo_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/examples/echo"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
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
	passed, failed := echo.Run(echo.Options{Server: srv.Addr().String(), Key: root.Public(), Out: &report, Frame: 5 * time.Millisecond})
	t.Log("\n" + report.String())
	assert.Zero(t, failed)
	assert.Equal(t, len(echo.Scenarios()), passed)
	for _, name := range echo.Scenarios() {
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
