package main

import (
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// swarmRun runs the command in the background; the channel gets its exit
// status.
func swarmRun(args ...string) (<-chan int, *syncbuf.Buffer, *syncbuf.Buffer, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, out, errOut) }()
	return done, out, errOut, cancel
}

// exitWithin waits (generously) for the command to end by itself.
func exitWithin(t *testing.T, done <-chan int, errOut *syncbuf.Buffer) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(time.Minute):
		t.Fatalf("swarm still runs a minute on; stderr: %s", errOut.String())
		return -1
	}
}

// TestSwarmExitsWhenTheServerGoesAway runs the swarm against an echo
// server on loopback, then stops the server: once every client lost it
// and none could come back for --give-up, the swarm exits 1 and says so,
// instead of running on.
func TestSwarmExitsWhenTheServerGoesAway(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Stop()
			<-srv.Done()
		}
	}
	defer stop()
	addr := srv.Addr().String()
	done, out, errOut, cancel := swarmRun("--server", addr, "--clients", "3", "--rate", "10", "--give-up", "5s")
	defer cancel()
	all := regexp.MustCompile(`(?m)^connected 3 `)
	for deadline := time.Now().Add(20 * time.Second); !all.MatchString(out.String()); time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the clients never all connected: %s %s", out.String(), errOut.String())
	}
	select {
	case code := <-done:
		t.Fatalf("swarm exited %d with its server up: %s", code, errOut.String())
	default:
	}
	stop()
	code := exitWithin(t, done, errOut)
	assert.Equal(t, 1, code)
	// The stopping server says goodbye; were that lost, the clients
	// would time out.
	assert.Regexp(t, `^swarm: all 3 clients lost the server at `+regexp.QuoteMeta(addr)+
		` \((the server closed the connection|the connection timed out: the server stopped answering)\) and none came back within 5s\n$`, errOut.String())
	assert.Contains(t, out.String(), "connected 0 ")
}

// TestSwarmExitsWithoutAServer: with nothing listening, the swarm exits 1
// after --give-up.
func TestSwarmExitsWithoutAServer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	done, _, errOut, cancel := swarmRun("--server", addr, "--clients", "2", "--give-up", "1s")
	defer cancel()
	assert.Equal(t, 1, exitWithin(t, done, errOut))
	assert.Equal(t, "swarm: no client could connect to "+addr+" within 1s (no answer: is the server running?)\n", errOut.String())
}

// TestSwarmStopsCleanly: interrupted, or at the end of --duration, it
// exits 0 with its totals.
func TestSwarmStopsCleanly(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	done, out, errOut, cancel := swarmRun("--server", srv.Addr().String(), "--clients", "2", "--duration", "1500ms")
	defer cancel()
	assert.Equal(t, 0, exitWithin(t, done, errOut), errOut.String())
	assert.True(t, strings.HasPrefix(out.String()[strings.LastIndex(strings.TrimSuffix(out.String(), "\n"), "\n")+1:], "done: sent "), out.String())

	done, _, errOut, cancel2 := swarmRun("--clients", "0")
	defer cancel2()
	assert.Equal(t, 2, exitWithin(t, done, errOut))
	assert.Contains(t, errOut.String(), "must be positive")
}
