package loadgen_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/loadgen"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/engine/transport"
	"github.com/mpgs/mpgameserver/internal/echo"
)

// echoServer runs our echo server on the loopback; with a lossy profile,
// its socket drops datagrams on the way out.
func echoServer(t *testing.T, lossOut float64) (*server.Server, *conn.PublicKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	cfg := server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}
	sock, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	if lossOut > 0 {
		sock = netsim.Wrap(sock, netsim.Profile{Loss: lossOut}, netsim.Profile{}, 7)
	}
	srv, err := server.NewWithConn(cfg, sock)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, root.Public()
}

func modes() []loadgen.Sockets {
	if runtime.GOOS == "linux" {
		return []loadgen.Sockets{loadgen.SocketsShared, loadgen.SocketsPerClient, loadgen.SocketsPortable}
	}
	return []loadgen.Sockets{loadgen.SocketsPortable}
}

func TestRunAgainstOurEchoServer(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	for _, mode := range modes() {
		for _, guaranteed := range []bool{false, true} {
			name := mode.String()
			if guaranteed {
				name += "/guaranteed"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var progress []loadgen.Progress
				rep, err := loadgen.Run(context.Background(), loadgen.Config{
					Server: srv.Addr(), ServerKey: key, Clients: 20, Rate: 30, Size: 64,
					Duration: 1500 * time.Millisecond, ConnectRate: 200, Sockets: mode, Guaranteed: guaranteed,
					Progress: func(p loadgen.Progress) { progress = append(progress, p) },
				})
				require.NoError(t, err)
				assert.Equal(t, mode, rep.Sockets)
				assert.Equal(t, 20, rep.Connected)
				assert.Zero(t, rep.Failed+rep.Dropped+rep.NotStarted)
				assert.Greater(t, rep.Sent, uint64(20*30/2), "about 45 messages per client in 1.5 s")
				assert.Equal(t, rep.Sent, rep.Echoed, "every message echoed on the loopback")
				assert.Zero(t, rep.Lost+rep.Late+rep.Duplicates+rep.Corrupt)
				assert.Equal(t, rep.Echoed, rep.RTT.Count)
				assert.Positive(t, rep.RTT.P50)
				assert.LessOrEqual(t, rep.RTT.P50, rep.RTT.P99)
				assert.LessOrEqual(t, rep.RTT.P99, rep.RTT.Max)
				// About a message per datagram at this rate; a frame that runs late
				// (a loaded machine, -race) packs the messages due since.
				assert.GreaterOrEqual(t, rep.DatagramsOut, rep.Sent/2)
				assert.Positive(t, rep.DatagramsIn)
				assert.Positive(t, rep.Ramp)
				assert.InDelta(t, 1.5, rep.Duration.Seconds(), 0.5)
				require.NotEmpty(t, progress)
				assert.Equal(t, 20, progress[0].Clients)
			})
		}
	}
	t.Cleanup(func() {
		var sn server.Snapshot
		srv.Snapshot(&sn)
		assert.Zero(t, sn.Stats.BadHeader+sn.Stats.Unexpected+sn.Stats.Overflow, "the generator sent nothing the server refused")
	})
}

// TestRunCountsLoss: with a fifth of the server's datagrams dropped, the
// report's accounting still closes: every message sent is echoed or lost.
func TestRunCountsLoss(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0.2)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 10, Rate: 30, Size: 40,
		Duration: 2 * time.Second, ConnectRate: 100,
	})
	require.NoError(t, err)
	// A handshake fails when all four of its SERVER_HELLOs (one per
	// 500 ms resend in the 2 s handshake timeout) are lost: 0.2^4 per
	// client, so about one run in sixty loses a client that way.
	assert.Equal(t, 10, rep.Connected+rep.Failed)
	assert.GreaterOrEqual(t, rep.Connected, 8)
	assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost)
	assert.InDelta(t, 20, rep.LossPercent(), 10, "about the link's loss")
	assert.Zero(t, rep.Corrupt+rep.Duplicates)
}

// TestRunWithTheWrongKey: a server that cannot prove it holds the pinned
// key gets no client.
func TestRunWithTheWrongKey(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t, 0)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: other.Public(), Clients: 4, Rate: 10, Size: 20,
		Duration: time.Hour, ConnectRate: 100,
	})
	require.NoError(t, err)
	assert.Zero(t, rep.Connected)
	assert.Equal(t, 4, rep.Failed)
	assert.Zero(t, rep.Sent)
	assert.Zero(t, rep.Duration, "no client, so no measured phase")
	assert.Less(t, time.Since(start), 30*time.Second, "ended at once instead of waiting out the hour")
}

// TestRunEndsWhenEveryClientIsDropped: when the server goes away in the
// middle of a run, the run ends early, marked interrupted, with what it
// measured until then.
func TestRunEndsWhenEveryClientIsDropped(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	connected := make(chan struct{})
	var once sync.Once
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 3, Rate: 20, Size: 20, Duration: time.Hour,
		Progress: func(p loadgen.Progress) {
			if p.Phase == "steady" && p.Connected == 3 {
				once.Do(func() {
					close(connected)
					srv.Stop() // a graceful stop disconnects every client
				})
			}
		},
	})
	require.NoError(t, err)
	select {
	case <-connected:
	default:
		t.Fatal("the clients never all connected")
	}
	assert.Less(t, time.Since(start), 30*time.Second, "ended early instead of waiting out the hour")
	assert.True(t, rep.Interrupted)
	assert.Equal(t, 3, rep.Connected)
	assert.Equal(t, 3, rep.Dropped)
	assert.Positive(t, rep.Sent, "it measured until the server left")
	assert.Positive(t, rep.Duration)
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := loadgen.Run(ctx, loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 5, Rate: 30, Size: 64,
		Duration: time.Hour, ConnectRate: 100,
	})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 30*time.Second, "stopped long before the hour")
	assert.True(t, rep.Interrupted)
	assert.Equal(t, 5, rep.Connected)
	assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost)
}

func TestConfigErrors(t *testing.T) {
	good := loadgen.Config{Server: netip.MustParseAddrPort("127.0.0.1:9"), Clients: 1, Rate: 1, Size: loadgen.MinSize, Duration: time.Second}
	for name, mod := range map[string]func(*loadgen.Config){
		"no server":     func(c *loadgen.Config) { c.Server = netip.AddrPort{} },
		"no clients":    func(c *loadgen.Config) { c.Clients = 0 },
		"no rate":       func(c *loadgen.Config) { c.Rate = 0 },
		"small message": func(c *loadgen.Config) { c.Size = loadgen.MinSize - 1 },
		"huge message":  func(c *loadgen.Config) { c.Size = 1 << 20 },
		"no duration":   func(c *loadgen.Config) { c.Duration = 0 },
		"bad sockets":   func(c *loadgen.Config) { c.Sockets = 99 },
	} {
		c := good
		mod(&c)
		_, err := loadgen.Run(context.Background(), c)
		assert.Error(t, err, name)
	}
}

func TestParseSockets(t *testing.T) {
	for _, m := range []loadgen.Sockets{loadgen.SocketsAuto, loadgen.SocketsPerClient, loadgen.SocketsShared, loadgen.SocketsPortable} {
		got, err := loadgen.ParseSockets(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := loadgen.ParseSockets("many")
	assert.Error(t, err)
}

func TestReportText(t *testing.T) {
	rep := &loadgen.Report{
		Server: "127.0.0.1:1474", Clients: 3, Rate: 30, Size: 64, Sockets: loadgen.SocketsShared,
		Duration: 10 * time.Second, Ramp: time.Second, Connected: 3,
		Sent: 900, Echoed: 899, Lost: 1, DatagramsOut: 900, DatagramsIn: 880, GeneratorDrops: 1,
		RTT: loadgen.RTT{Count: 899, P50: 9 * time.Millisecond, P90: 15 * time.Millisecond, P99: 17 * time.Millisecond, Max: 20 * time.Millisecond},
	}
	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	out := b.String()
	for _, want := range []string{"3 clients x 30 msg/s x 64 B (shared sockets)", "3 connected, 0 failed", "900 sent, 899 echoed, 1 lost (0.111%)",
		"90/s out, 88/s in", "1 dropped by the generator's full socket buffer", "p50 9.0ms  p90 15.0ms  p99 17.0ms  max 20.0ms"} {
		assert.Contains(t, out, want)
	}
	j, err := json.Marshal(rep)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(j, &m))
	assert.Equal(t, 9.0, m["rtt_p50_ms"])
	assert.Equal(t, 90.0, m["datagrams_out_per_s"])
	assert.InDelta(t, 0.111, m["loss_percent"], 0.001)
	assert.Equal(t, "shared", m["sockets"])
	assert.Equal(t, 1.0, m["generator_drops"])
	assert.Equal(t, 1.0, m["sent_share"], "3 clients x 30/s x 10 s = 900")
	assert.NotContains(t, out, "could not keep up")

	rep.Sent = 600
	b.Reset()
	require.NoError(t, rep.WriteText(&b))
	assert.Contains(t, b.String(), "the generator sent 67% of the messages asked")
}
