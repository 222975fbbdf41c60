package echo_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/loadgen"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// TestStatsFloodLogsLittle: a client packing 143 STATS requests in every
// packet makes the game answer within its share of each tick and the log
// carry a few lines a second, not one per failed reply.
func TestStatsFloodLogsLittle(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	log := &syncbuf.Buffer{}
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.NewTextHandler(log, nil))}, "127.0.0.1:0")
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
