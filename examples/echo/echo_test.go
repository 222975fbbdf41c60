package echo_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"context"
	"log/slog"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/loadgen"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/examples/echo"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write and
// the test to read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startEcho(t *testing.T, addr string) (*server.Server, *conn.PrivateKey, *syncBuffer) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	out := &syncBuffer{}
	ctx, err := server.NewContext(echo.NewHandler(out), root)
	require.NoError(t, err)
	srv, err := server.New(ctx, addr)
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

// TestStatsFloodLogsLittle: a client packing 143 STATS requests in every
// packet makes the game answer within its share of each tick and the log
// carry a few lines a second, not one per failed reply.
func TestStatsFloodLogsLittle(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	ctx, err := server.NewContext(echo.NewHandler(nil), root)
	require.NoError(t, err)
	log := &syncBuffer{}
	ctx.SetLogger(slog.New(slog.NewTextHandler(log, nil)))
	srv, err := server.New(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: root.Public(), Clients: 4, Rate: 20, Size: 32,
		Duration: 2 * time.Second, ConnectRate: 100, Attack: "stats-pack", AttackRate: 200,
	})
	require.NoError(t, err)
	require.NotNil(t, rep.Attack)
	assert.Positive(t, rep.Attack.Messages)
	assert.Equal(t, 4, rep.Connected)
	lines := strings.Count(log.String(), "echo: stats reply")
	// A client's logger lets 10 lines through, then one a second.
	assert.Positive(t, lines, "replies failed: the queue filled")
	assert.LessOrEqual(t, lines, 10+int(time.Since(start)/time.Second)+1, "log lines")
}
