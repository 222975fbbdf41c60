package loadgen_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/loadgen"
	"github.com/mpgs/mpgameserver/server"
)

// echoServer runs our echo server on the loopback; with a lossy profile,
// its socket drops datagrams on the way out.
func echoServer(t *testing.T, lossOut float64) (*server.Server, *conn.PublicKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	// The runs' clients all come from 127.0.0.1 but in the shared mode:
	// no bound per host.
	cfg := server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler), MaxSessionsPerHost: -1}
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

// The tests below assert what must hold on any machine, however busy:
// how many messages a run sends, how fast echoes come back and how many
// plain messages the loopback loses depend on the CPU the generator and
// the server get, so they are not asserted; the accounting (every message
// echoed or lost), that a guaranteed message is echoed, and what the
// report says about failures are. Handshakes get a generous timeout:
// a machine too busy to answer one in 2 s is not a failure here.
const generous = 30 * time.Second

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
				cfg := loadgen.Config{
					Server: srv.Addr(), ServerKey: key, Clients: 20, Rate: 30, Size: 64,
					Duration: 1500 * time.Millisecond, ConnectRate: 200, Sockets: mode, Guaranteed: guaranteed,
					HandshakeTimeout: generous,
					Progress:         func(p loadgen.Progress) { progress = append(progress, p) },
				}
				if guaranteed {
					// Wait as long as it takes for every echo: a message is
					// resent until the server has it, and so is its echo.
					cfg.EchoWindow, cfg.Drain = time.Minute, time.Minute
				}
				rep, err := loadgen.Run(context.Background(), cfg)
				require.NoError(t, err)
				assert.Equal(t, mode, rep.Sockets)
				assert.Equal(t, 20, rep.Connected)
				assert.Zero(t, rep.Failed+rep.Dropped+rep.NotStarted)
				assert.Zero(t, rep.Failures)
				assert.Empty(t, rep.Problem())
				assert.Positive(t, rep.Sent)
				assert.Positive(t, rep.Echoed)
				assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost, "every message echoed or counted lost")
				if guaranteed {
					assert.Equal(t, rep.Sent, rep.Echoed, "every guaranteed message echoed")
					assert.Zero(t, rep.Lost+rep.Late)
				}
				assert.Zero(t, rep.Duplicates+rep.Corrupt)
				assert.Equal(t, rep.Echoed, rep.RTT.Count)
				assert.Positive(t, rep.RTT.P50)
				assert.LessOrEqual(t, rep.RTT.P50, rep.RTT.P99)
				assert.LessOrEqual(t, rep.RTT.P99, rep.RTT.Max)
				// A datagram carries one message or several (a frame that
				// runs late packs the messages due since).
				assert.Positive(t, rep.DatagramsOut)
				assert.Positive(t, rep.DatagramsIn)
				assert.Positive(t, rep.DatagramsOutPerSec())
				assert.Positive(t, rep.Ramp)
				assert.GreaterOrEqual(t, rep.Duration, cfg.Duration, "measured at least as long as asked")
				assert.False(t, rep.Interrupted)
				require.NotEmpty(t, progress)
				assert.Equal(t, 20, progress[0].Clients)
			})
		}
	}
	t.Cleanup(func() {
		var sn server.Snapshot
		srv.Snapshot(&sn)
		assert.Zero(t, sn.Stats.BadHeader, "the generator sent nothing the server could not parse")
	})
}

// TestRunCountsLoss: with a fifth of the server's datagrams dropped, the
// report's accounting still closes: every message sent is echoed or lost.
func TestRunCountsLoss(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0.2)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 10, Rate: 30, Size: 40,
		Duration: 2 * time.Second, ConnectRate: 100, HandshakeTimeout: generous,
	})
	require.NoError(t, err)
	// A handshake fails only when every SERVER_HELLO of its 30 s (one
	// per 500 ms resend) is lost: 0.2^60.
	assert.Equal(t, 10, rep.Connected)
	assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost)
	assert.Positive(t, rep.Echoed)
	// The link drops a fifth of the echoes; a busy machine may drop more
	// (full socket buffers), never fewer.
	assert.GreaterOrEqual(t, rep.LossPercent(), 5.0, "about the link's loss, or more")
	assert.Zero(t, rep.Corrupt+rep.Duplicates)
	assert.Empty(t, rep.Problem())
}

// TestRunWithTheWrongKey: a server that cannot prove it holds the pinned
// key gets no client, and the report says so.
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
	assert.Equal(t, loadgen.Failures{BadSignature: 4}, rep.Failures)
	assert.Zero(t, rep.Sent)
	assert.Zero(t, rep.Duration, "no client, so no measured phase")
	assert.Less(t, time.Since(start), 30*time.Second, "ended at once instead of waiting out the hour")
	assert.Equal(t, "no client connected: the server's key does not match the pinned key (4 of 4 handshakes: bad signature)", rep.Problem())

	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	assert.Contains(t, b.String(), "0 connected, 4 failed (4 bad signature), 0 dropped")
	assert.Contains(t, b.String(), "\nproblem    no client connected: the server's key does not match")
	j, err := json.Marshal(rep)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(j, &m))
	assert.Equal(t, map[string]any{"no_answer": 0.0, "refused": 0.0, "bad_signature": 4.0, "rejected": 0.0, "socket": 0.0}, m["failures"])
	assert.Equal(t, rep.Problem(), m["problem"])
	assert.Equal(t, 4.0, m["failed"], "the old keys stay")
}

// freePort returns a loopback UDP address where nothing listens.
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	require.NoError(t, pc.Close())
	return addr
}

// TestRunAgainstNothing: nothing listens at the address; the system says
// so (Linux: a connected socket reads the ICMP port unreachable as
// ECONNREFUSED), and the report names it, whichever sockets the clients
// use.
func TestRunAgainstNothing(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Server: addr, Clients: 3, Rate: 10, Size: 20, Duration: time.Hour,
				Sockets: mode, HandshakeTimeout: 300 * time.Millisecond,
			})
			require.NoError(t, err)
			assert.Zero(t, rep.Connected)
			assert.Equal(t, 3, rep.Failed)
			if runtime.GOOS != "linux" {
				assert.Equal(t, 3, rep.Failures.Refused+rep.Failures.NoAnswer)
				return
			}
			assert.Equal(t, loadgen.Failures{Refused: 3}, rep.Failures)
			assert.Equal(t, "no client connected: nothing listens at "+addr.String()+" (3 of 3 handshakes: connection refused): is the server running?", rep.Problem())
		})
	}
}

// TestRunAgainstASilentPort: something holds the port but never answers.
func TestRunAgainstASilentPort(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer pc.Close()
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: addr, Clients: 2, Rate: 10, Size: 20, Duration: time.Hour, HandshakeTimeout: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Equal(t, loadgen.Failures{NoAnswer: 2}, rep.Failures)
	assert.Equal(t, "no client connected: no answer from "+addr.String()+" within 300ms (2 of 2 handshakes: no answer): is a server running there, and does UDP reach it?", rep.Problem())
}

// TestRunAgainstAReflector: a UDP echo of another kind sends every
// datagram back as it is, which is no handshake.
func TestRunAgainstAReflector(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer pc.Close()
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			_, _ = pc.WriteToUDPAddrPort(b[:n], from)
		}
	}()
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: addr, Clients: 2, Rate: 10, Size: 20, Duration: time.Hour, HandshakeTimeout: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Equal(t, loadgen.Failures{Rejected: 2}, rep.Failures)
	assert.Contains(t, rep.Problem(), addr.String()+" answered, but not with a handshake the client could complete (2 of 2 handshakes: answered but rejected)")
}

// notEcho answers every message with something else, guaranteed.
type notEcho struct{ server.BaseHandler }

func (notEcho) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	p.SendGuaranteed([]byte("not what you sent"), nil)
}

// TestRunAgainstAServerThatDoesNotEcho: clients connect, but what comes
// back is not their messages (or nothing comes back): the report says
// the server does not echo.
func TestRunAgainstAServerThatDoesNotEcho(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]server.EventHandler{"answers": notEcho{}, "silent": server.BaseHandler{}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root, err := conn.GenerateKey(nil)
			require.NoError(t, err)
			srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
			require.NoError(t, err)
			go srv.Run()
			defer func() { srv.Stop(); <-srv.Done() }()
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Server: srv.Addr(), ServerKey: root.Public(), Clients: 2, Rate: 20, Size: 20,
				Duration: 500 * time.Millisecond, HandshakeTimeout: generous,
				Drain: 3 * time.Second, // the answers are guaranteed: time for them to come
			})
			require.NoError(t, err)
			assert.Equal(t, 2, rep.Connected)
			assert.Zero(t, rep.Echoed+rep.RampEchoed)
			if name == "answers" {
				assert.Positive(t, rep.Corrupt)
				assert.Contains(t, rep.Problem(), "the server at "+srv.Addr().String()+" does not echo: ")
			} else {
				assert.Zero(t, rep.Corrupt)
				assert.Contains(t, rep.Problem(), "the server at "+srv.Addr().String()+" echoed none of the ")
			}
			assert.Contains(t, rep.Problem(), "is it an echo server (mpgameserver serve --game echo)?")
		})
	}
}

// TestRunEndsWhenEveryClientIsDropped: when the server goes away in the
// middle of a run, the run ends early, marked interrupted, with what it
// measured until then.
func TestRunEndsWhenEveryClientIsDropped(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	connected := make(chan struct{})
	var once sync.Once
	var (
		steadySent uint64 // Sent at the first steady progress
		seen       bool
	)
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 3, Rate: 20, Size: 20, Duration: time.Hour,
		HandshakeTimeout: generous,
		Progress: func(p loadgen.Progress) {
			if p.Phase != "steady" || p.Connected != 3 {
				return
			}
			// Stop the server once messages were sent in the steady
			// phase: the first steady progress may have counted only the
			// ramp's.
			if !seen {
				steadySent, seen = p.Sent, true
				return
			}
			if p.Sent > steadySent {
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

// TestRunInterrupted: a run stopped (its context cancelled) once every
// client connected reports what it measured, accounting closed.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	rep, err := loadgen.Run(ctx, loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 5, Rate: 30, Size: 64,
		Duration: time.Hour, ConnectRate: 100, HandshakeTimeout: generous,
		Progress: func(p loadgen.Progress) {
			if p.Phase == "steady" {
				cancel()
			}
		},
	})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 60*time.Second, "stopped long before the hour")
	assert.True(t, rep.Interrupted)
	assert.Equal(t, 5, rep.Connected)
	assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost)
}

func TestConfigErrors(t *testing.T) {
	good := loadgen.Config{Server: netip.MustParseAddrPort("127.0.0.1:9"), Clients: 1, Rate: 1, Size: loadgen.MinSize, Duration: time.Second}
	for name, mod := range map[string]func(*loadgen.Config){
		"no server":        func(c *loadgen.Config) { c.Server = netip.AddrPort{} },
		"no clients":       func(c *loadgen.Config) { c.Clients = 0 },
		"no rate":          func(c *loadgen.Config) { c.Rate = 0 },
		"small message":    func(c *loadgen.Config) { c.Size = loadgen.MinSize - 1 },
		"huge message":     func(c *loadgen.Config) { c.Size = loadgen.MaxSize + 1 },
		"bare, large":      func(c *loadgen.Config) { c.Bare, c.Size = true, loadgen.MaxBareSize+1 },
		"bare, guaranteed": func(c *loadgen.Config) { c.Bare, c.Guaranteed = true, true },
		"bare, attack":     func(c *loadgen.Config) { c.Bare, c.Attack = true, "replay" },
		"no duration":      func(c *loadgen.Config) { c.Duration = 0 },
		"bad sockets":      func(c *loadgen.Config) { c.Sockets = 99 },
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

// reflector sends every datagram back to its sender until the test ends.
func reflector(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			_, _ = pc.WriteToUDPAddrPort(b[:n], from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestRunBare(t *testing.T) {
	t.Parallel()
	addr := reflector(t)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Server: addr, Clients: 5, Rate: 20, Size: loadgen.MaxBareSize, Duration: time.Second, Sockets: mode, Bare: true,
			})
			require.NoError(t, err)
			assert.True(t, rep.Bare)
			assert.Equal(t, 5, rep.Connected)
			assert.Zero(t, rep.Failed+rep.Dropped+rep.NotStarted)
			assert.GreaterOrEqual(t, rep.Sent, uint64(1))
			assert.Positive(t, rep.Echoed)
			assert.Equal(t, rep.Sent-rep.Echoed, rep.Lost)
			assert.Zero(t, rep.Corrupt+rep.Duplicates)
			assert.Equal(t, rep.Echoed, rep.RTT.Count)
			assert.Equal(t, rep.Sent, rep.DatagramsOut, "a datagram a message")
			assert.Empty(t, rep.Problem())
			var b strings.Builder
			require.NoError(t, rep.WriteText(&b))
			assert.Contains(t, b.String(), "sockets, bare UDP)")
		})
	}
}

func TestRunLargeMessages(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t, 0)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: srv.Addr(), ServerKey: key, Clients: 2, Rate: 4, Size: 20000, Guaranteed: true,
		Duration: time.Second, HandshakeTimeout: generous, EchoWindow: time.Minute,
	})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Connected)
	assert.GreaterOrEqual(t, rep.Sent, uint64(1))
	assert.Equal(t, rep.Sent, rep.Echoed, "every fragmented message echoed")
	assert.Zero(t, rep.Lost+rep.Corrupt+rep.Duplicates)
	assert.Equal(t, rep.Echoed, rep.RTT.Count)
	assert.Greater(t, rep.DatagramsOut, rep.Sent, "fragments: more datagrams than messages")
}
