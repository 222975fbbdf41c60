//go:build !js

package rtc_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/echocheck"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// These tests run real WebRTC (ICE, DTLS, SCTP) between pion peers on the
// loopback, in real time; their limits end a broken test, they do not
// measure.

const vectorKeys = "../../internal/vectors/testdata/"

// signaling serves l's Handler over HTTP on the loopback and returns its
// URL.
func signaling(t testing.TB, l *rtc.Listener) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/rtc", l.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL + "/rtc"
}

func TestDatagramsBothWays(t *testing.T) {
	l, err := rtc.Listen(rtc.Config{ICE: loopback(), HandshakeTimeout: -1}, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	url := signaling(t, l)
	c, err := rtc.Dial(url, rtc.NewAPI(loopback()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	// Until the channel opens, writes are dropped: keep writing, as the
	// protocol's hello repeats.
	in := make([]transport.Datagram, 8)
	for i := range in {
		in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	var from transport.Datagram
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; n == 0; {
		require.True(t, time.Now().Before(deadline), "no datagram reached the listener")
		_, err := c.WriteBatch([]transport.Datagram{{Data: []byte("hello")}})
		require.NoError(t, err)
		require.NoError(t, l.Wait(time.Now().Add(50*time.Millisecond)))
		n, err = l.ReadBatch(in)
		require.NoError(t, err)
		if n > 0 {
			from = in[0]
		}
	}
	assert.Equal(t, "hello", string(from.Data))
	opener, ok := c.(transport.Opener)
	require.True(t, ok, "a dialed connection tells when it opens, for the client's handshake to wait")
	assert.True(t, opener.Opened(), "a datagram went through a channel that says it is not open")
	assert.True(t, from.Addr.IsValid(), "the peer is known by its address (its side of the ICE pair): %s", from.Addr)
	assert.Equal(t, 1, l.Peers())

	// The listener answers that address; a datagram of the largest size
	// goes through whole.
	big := bytes.Repeat([]byte{7}, 1472)
	n, err := l.WriteBatch([]transport.Datagram{{Data: []byte("world"), Addr: from.Addr}, {Data: big, Addr: from.Addr}})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	var got []string
	for len(got) < 2 {
		require.True(t, time.Now().Before(deadline), "the answers did not arrive")
		require.NoError(t, c.Wait(time.Now().Add(50*time.Millisecond)))
		k, err := c.ReadBatch(in)
		require.NoError(t, err)
		for _, d := range in[:k] {
			got = append(got, string(d.Data))
		}
	}
	assert.Equal(t, []string{"world", string(big)}, got)

	// An address that is no peer's is refused, as an unreachable one.
	_, err = l.WriteBatch([]transport.Datagram{{Data: []byte("x"), Addr: netip.MustParseAddrPort("127.0.0.9:9")}})
	assert.Error(t, err)
}

func TestSignalingRefusesGarbage(t *testing.T) {
	l, err := rtc.Listen(rtc.Config{ICE: loopback(), MaxPeers: 1}, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	url := signaling(t, l)
	for _, body := range []string{"", "{", `{"type":"answer","sdp":"v=0"}`, `{"type":"offer","sdp":"not sdp"}`} {
		resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.GreaterOrEqual(t, resp.StatusCode, 400, "body %q", body)
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Zero(t, l.Peers(), "a refused offer holds nothing")
}

// startServer runs an echo server (ticking at interval; 0 for 60 Hz) on a
// UDP socket and a WebRTC listener merged, and returns it and its
// signaling URL.
func startServer(t testing.TB, interval time.Duration, opts ...func(*server.Config)) (*server.Server, string) {
	t.Helper()
	srv, _, url := startServerWith(t, rtc.Config{ICE: loopback()}, interval, opts...)
	return srv, url
}

// startServerWith is startServer with a listener of rcfg, which it
// returns too.
func startServerWith(t testing.TB, rcfg rtc.Config, interval time.Duration, opts ...func(*server.Config)) (*server.Server, *rtc.Listener, string) {
	t.Helper()
	root, err := conn.LoadPrivateKey(vectorKeys + "server_root.key.pem")
	require.NoError(t, err)
	udp, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	l, err := rtc.Listen(rcfg, udp.LocalAddr())
	require.NoError(t, err)
	cfg := server.Config{Handler: echogame.NewHandler(nil), RootKey: root, Interval: interval, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.NewWithConn(cfg, rtc.Merge(udp, l))
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, l, signaling(t, l)
}

// TestEchoScenariosOverWebRTC: the nine echo scenarios (handshake,
// packing, fragments of 10 and 100 KB, guaranteed callbacks, a wrong key,
// a graceful disconnect) pass over the browser carrier as over UDP.
func TestEchoScenariosOverWebRTC(t *testing.T) {
	_, url := startServer(t, 0)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	var report bytes.Buffer
	passed, failed := echocheck.Run(echocheck.Options{Server: url, Key: pub, Out: &report, Dial: rtc.Dialer(rtc.NewAPI(loopback())), ConnectTimeout: 8 * time.Second})
	t.Logf("over WebRTC:\n%s", report.String())
	assert.Zero(t, failed)
	assert.Equal(t, len(echocheck.Scenarios()), passed)
}

// TestBrowserAndUDPClientsTogether: a client over WebRTC and one over UDP
// are two connections of the same server, in the same table, and both
// get their echoes.
func TestBrowserAndUDPClientsTogether(t *testing.T) {
	srv, url := startServer(t, 0)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	// A native game asks for the browser carrier with Dial; Connect takes
	// the signaling URL as it takes host:port.
	web := client.New(client.Config{ServerKey: pub, HandshakeTimeout: 15 * time.Second, Dial: rtc.Dialer(nil)})
	udp := client.New(client.Config{ServerKey: pub})
	t.Cleanup(web.ForceDisconnect)
	t.Cleanup(udp.ForceDisconnect)
	var okWeb, okUDP *bool
	require.NoError(t, web.Connect(url, func(ok bool) { okWeb = &ok }))
	require.NoError(t, udp.Connect(srv.Addr().String(), func(ok bool) { okUDP = &ok }))
	deadline := time.Now().Add(20 * time.Second)
	for okWeb == nil || okUDP == nil {
		require.True(t, time.Now().Before(deadline), "connect never ended")
		web.Update()
		udp.Update()
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, *okWeb, "over WebRTC: %v", web.Err())
	require.True(t, *okUDP, "over UDP: %v", udp.Err())
	for i, c := range []*client.Client{web, udp} {
		require.NoError(t, c.SendGuaranteed([]byte(fmt.Sprintf("G%d", i)), nil))
	}
	got := map[string]bool{}
	for len(got) < 2 {
		require.True(t, time.Now().Before(deadline), "echoes missing: %v", got)
		for _, c := range []*client.Client{web, udp} {
			c.Update()
			for _, m := range c.Messages() {
				got[string(m.Data)] = true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, map[string]bool{"G0": true, "G1": true}, got)
	var s server.Snapshot
	require.Eventually(t, func() bool { srv.Snapshot(&s); return len(s.Peers) == 2 }, 10*time.Second, 20*time.Millisecond)
	carriers := map[uint32]string{}
	for _, p := range s.Peers {
		carriers[p.Token] = p.Carrier
	}
	assert.Equal(t, map[uint32]string{web.Token(): "webrtc", udp.Token(): "udp"}, carriers, "the client table says how each client came")
}

// connectWeb connects a client to the signaling URL and reports whether
// it connected.
func connectWeb(t *testing.T, url string, timeout time.Duration) (*client.Client, bool) {
	t.Helper()
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	c := client.New(client.Config{ServerKey: pub, HandshakeTimeout: timeout, Dial: rtc.Dialer(rtc.NewAPI(loopback()))})
	t.Cleanup(c.ForceDisconnect)
	var ok *bool
	require.NoError(t, c.Connect(url, func(r bool) { ok = &r }))
	for deadline := time.Now().Add(timeout + 20*time.Second); ok == nil; {
		require.True(t, time.Now().Before(deadline), "connect never ended")
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	return c, *ok
}

// TestBlockListAndAccessLogByBrowserIP: a browser peer is known by its
// IP address like a UDP client: the block list refuses its signaling
// (403, counted), and the access log names it.
func TestBlockListAndAccessLogByBrowserIP(t *testing.T) {
	var access syncbuf.Buffer
	srv, url := startServer(t, 0, func(c *server.Config) {
		c.BlockList = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		c.AccessLog = slog.New(slog.NewTextHandler(&access, nil))
	})
	c, ok := connectWeb(t, url, 3*time.Second)
	assert.False(t, ok, "a blocked browser does not connect")
	assert.ErrorContains(t, c.Err(), "403 Forbidden: rtc: this address is blocked")
	var s server.Snapshot
	require.Eventually(t, func() bool { srv.Snapshot(&s); return s.Browsers.RefusedBlocked > 0 }, 10*time.Second, 10*time.Millisecond,
		"its signaling was refused as blocked")
	assert.Zero(t, s.Connections)
	assert.Zero(t, s.Browsers.Open+s.Browsers.SettingUp, "it holds no peer")

	srv.SetBlockList(nil)
	c, ok = connectWeb(t, url, 15*time.Second)
	require.True(t, ok, "unblocked: %v", c.Err())
	require.Eventually(t, func() bool { return strings.Contains(access.String(), "client=127.0.0.1:") }, 10*time.Second, 10*time.Millisecond,
		"the access log names the browser's address: %s", access.String())
}

// TestPeerLimit: beyond MaxPeers, an offer is refused with 503 and holds
// nothing, and a client refused so says why; once a peer goes, another
// may come.
func TestPeerLimit(t *testing.T) {
	l, url := listen(t, rtc.Config{ICE: loopback(), MaxPeers: 1})
	first := dial(t, url)
	require.Eventually(t, func() bool { return l.Peers() == 1 }, 10*time.Second, 10*time.Millisecond)
	code, _ := offer(t, url)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, 1, l.Peers())

	// A client refused by the signaling fails with the server's reason,
	// not a handshake timeout (a minute here).
	c := client.New(client.Config{HandshakeTimeout: time.Minute, Dial: rtc.Dialer(rtc.NewAPI(loopback()))})
	var ok *bool
	require.NoError(t, c.Connect(url, func(r bool) { ok = &r }))
	for deadline := time.Now().Add(30 * time.Second); ok == nil; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the refused client is still connecting")
		c.Update()
	}
	assert.False(t, *ok)
	assert.ErrorIs(t, c.Err(), transport.ErrBroken)
	assert.ErrorContains(t, c.Err(), "503 Service Unavailable: rtc: too many browser peers")
	assert.Equal(t, conn.Dropped, c.Status())
	assert.Equal(t, 1, l.Peers())
	require.NoError(t, first.Close())
	require.Eventually(t, func() bool { return l.Peers() == 0 }, 20*time.Second, 20*time.Millisecond, "a closed peer is forgotten")
}

// TestRetryModesOverLossyWebRTC: behind a link that drops 20% of the
// datagrams each way, duplicates 10% and reorders, the three retry modes
// keep their promises over WebRTC as over UDP (server's
// TestGuaranteedDeliveryOverLossyLink): every guaranteed message a client
// sends (some fragmented) comes back exactly once; a message sent with
// RetryOnTimeout gets its callback exactly once; none comes back twice.
func TestRetryModesOverLossyWebRTC(t *testing.T) {
	root, err := conn.LoadPrivateKey(vectorKeys + "server_root.key.pem")
	require.NoError(t, err)
	udp, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	l, err := rtc.Listen(rtc.Config{ICE: loopback()}, udp.LocalAddr())
	require.NoError(t, err)
	bad := netsim.Profile{Loss: 0.2, Duplicate: 0.1, Delay: 5 * time.Millisecond, Jitter: 10 * time.Millisecond, Reorder: 0.05, ReorderDelay: 40 * time.Millisecond}
	srv, err := server.NewWithConn(server.Config{Handler: echogame.NewHandler(nil), RootKey: root,
		Logger: slog.New(slog.DiscardHandler)}, netsim.Wrap(rtc.Merge(udp, l), bad, bad, 42))
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	url := signaling(t, l)

	// A lost handshake fails an attempt: the client's (no SERVER_HELLO
	// in time), or the server's (its CHALLENGE_RESP lost until the
	// server's 2 s ran out, while the client thinks itself connected:
	// the listener then never hears of the session).
	var c *client.Client
	for attempt := 0; attempt < 5 && c == nil; attempt++ {
		cc := client.New(client.Config{ServerKey: root.Public(), HandshakeTimeout: 10 * time.Second, Dial: rtc.Dialer(rtc.NewAPI(loopback()))})
		var ok *bool
		require.NoError(t, cc.Connect(url, func(r bool) { ok = &r }))
		for deadline := time.Now().Add(15 * time.Second); ok == nil && time.Now().Before(deadline); {
			cc.Update()
			time.Sleep(5 * time.Millisecond)
		}
		for deadline := time.Now().Add(5 * time.Second); ok != nil && *ok && l.PeerStats().Sessions == 0 && time.Now().Before(deadline); {
			cc.Update()
			time.Sleep(5 * time.Millisecond)
		}
		if ok != nil && *ok && l.PeerStats().Sessions == 1 {
			c = cc
		} else {
			cc.ForceDisconnect()
		}
	}
	require.NotNil(t, c, "could not connect over the lossy link")
	t.Cleanup(c.ForceDisconnect)
	const n = 200
	want := map[string]bool{}
	guaranteed := 0
	callbacks := map[int]int{} // RetryOnTimeout message -> callbacks
	for i := range n {
		size := 20 + (i*37)%300
		if i%50 == 0 {
			size = 5000 // fragmented
		}
		mode := "GNT"[i%3] // the echo game answers G guaranteed, the others plainly
		m := append([]byte(fmt.Sprintf("%c%04d:", mode, i)), bytes.Repeat([]byte{byte(i)}, size)...)
		want[string(m)] = true
		switch mode {
		case 'G':
			guaranteed++
			require.NoError(t, c.SendGuaranteed(m, nil))
		case 'N':
			require.NoError(t, c.Send(m, conn.RetryNone, nil))
		case 'T':
			callbacks[i] = 0
			require.NoError(t, c.Send(m, conn.RetryOnTimeout, func(bool) { callbacks[i]++ }))
		}
	}
	counts := map[string]int{}
	echoed := func() int {
		k := 0
		for m := range counts {
			if m[0] == 'G' {
				k++
			}
		}
		return k
	}
	called := func() bool {
		for _, k := range callbacks {
			if k == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(time.Minute)
	for echoed() < guaranteed || !called() {
		require.True(t, time.Now().Before(deadline), "%d of %d guaranteed echoes, callbacks %v", echoed(), guaranteed, callbacks)
		c.Update()
		for _, m := range c.Messages() {
			counts[string(m.Data)]++
		}
		time.Sleep(5 * time.Millisecond)
	}
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		c.Update() // late copies would show now
		for _, m := range c.Messages() {
			counts[string(m.Data)]++
		}
		time.Sleep(5 * time.Millisecond)
	}
	for m, k := range counts {
		require.True(t, want[m], "unexpected message")
		require.Equal(t, 1, k, "an echo arrived %d times", k)
	}
	for i, k := range callbacks {
		require.Equal(t, 1, k, "message %d: %d callbacks", i, k)
	}
	t.Logf("echoed: %d guaranteed of %d, %d others of %d", guaranteed, guaranteed, len(counts)-guaranteed, n-guaranteed)
}

// TestFloodingBrowserPeer: a browser peer that floods the server with junk
// over its data channel is one more hostile client: the junk is dropped
// before it reaches a connection (counted), and a UDP client beside it
// gets every echo.
func TestFloodingBrowserPeer(t *testing.T) {
	srv, url := startServer(t, 0)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	flood, err := rtc.Dial(url, rtc.NewAPI(loopback()))
	require.NoError(t, err)
	t.Cleanup(func() { flood.Close() })
	junk := make([]transport.Datagram, 64)
	for i := range junk {
		junk[i].Data = bytes.Repeat([]byte{byte(i)}, 200)
	}
	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		n := 0
		defer func() { flooded <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			k, err := flood.WriteBatch(junk)
			if err != nil {
				return
			}
			n += k
			time.Sleep(time.Millisecond)
		}
	}()

	c := client.New(client.Config{ServerKey: pub})
	t.Cleanup(c.ForceDisconnect)
	var ok *bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(r bool) { ok = &r }))
	deadline := time.Now().Add(20 * time.Second)
	for ok == nil {
		require.True(t, time.Now().Before(deadline), "connect never ended")
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, *ok, "%v", c.Err())
	const n = 100
	got := 0
	for i := 0; got < n; i++ {
		require.True(t, time.Now().Before(deadline), "%d of %d echoes beside the flood", got, n)
		if i < n {
			require.NoError(t, c.SendGuaranteed([]byte(fmt.Sprintf("G%d", i)), nil))
		}
		c.Update()
		got += len(c.Messages())
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	sent := <-flooded
	var s server.Snapshot
	// A snapshot is published once a second: wait for one that has the
	// client in it.
	hasClient := func() bool {
		for _, p := range s.Peers {
			if p.Token == c.Token() {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool { srv.Snapshot(&s); return s.Stats.Junk > 0 && hasClient() }, 10*time.Second, 20*time.Millisecond)
	t.Logf("the browser peer sent %d junk datagrams; the server dropped %d as junk, %d for want of room", sent, s.Stats.Junk, s.Stats.KernelDrops)
	assert.Equal(t, n, got)
	assert.Len(t, s.Peers, 1, "the flood never became a connection")
}

// loopback offers the loopback address only: the tests' traffic stays on
// 127.0.0.1.
func loopback() rtc.Options { return rtc.Options{Host: netip.MustParseAddr("127.0.0.1")} }

// offer posts a pion peer's offer to url and returns the response's
// status and body.
func offer(t *testing.T, url string) (int, []byte) {
	t.Helper()
	pc, err := rtc.NewAPI(loopback()).NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	_, err = pc.CreateDataChannel(rtc.Label, nil)
	require.NoError(t, err)
	o, err := pc.CreateOffer(nil)
	require.NoError(t, err)
	body, err := json.Marshal(o)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, got
}

// answer posts a pion peer's offer to url and returns the answer's SDP.
func answer(t *testing.T, url string) string {
	t.Helper()
	code, body := offer(t, url)
	require.Equal(t, http.StatusOK, code, string(body))
	var a webrtc.SessionDescription
	require.NoError(t, json.Unmarshal(body, &a))
	return a.SDP
}

// candidates returns the address:port of each candidate line in sdp.
func candidates(sdp string) []string {
	var out []string
	for _, line := range strings.Split(sdp, "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) >= 6 && strings.HasPrefix(f[0], "a=candidate:") {
			out = append(out, net.JoinHostPort(f[4], f[5]))
		}
	}
	return out
}

// TestOnePortForAllPeers: with ICE.Port, every browser peer is offered
// that one UDP port on the listener's host, and two clients echo through
// it side by side; closing the listener frees the port.
func TestOnePortForAllPeers(t *testing.T) {
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	port := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	require.NoError(t, probe.Close())
	ice := loopback()
	ice.Port = port
	l, err := rtc.Listen(rtc.Config{ICE: ice, HandshakeTimeout: -1}, netip.AddrPort{})
	require.NoError(t, err)
	url := signaling(t, l)
	want := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	for range 2 {
		cs := candidates(answer(t, url))
		require.NotEmpty(t, cs)
		for _, c := range cs {
			assert.Equal(t, want, c)
		}
	}

	_, err = rtc.Listen(rtc.Config{ICE: ice}, netip.AddrPort{})
	assert.ErrorContains(t, err, "UDP port", "a port in use is an error, not a silent fallback")

	echoes := func(name string) {
		c, err := rtc.Dial(url, rtc.NewAPI(loopback()))
		require.NoError(t, err)
		defer c.Close()
		in := make([]transport.Datagram, 8)
		for i := range in {
			in[i].Data = make([]byte, 0, transport.RecvSize)
		}
		for deadline := time.Now().Add(20 * time.Second); ; {
			require.True(t, time.Now().Before(deadline), "%s: no echo", name)
			_, err := c.WriteBatch([]transport.Datagram{{Data: []byte(name)}})
			require.NoError(t, err)
			if l.Wait(time.Now().Add(20*time.Millisecond)) == nil {
				n, err := l.ReadBatch(in)
				require.NoError(t, err)
				for _, d := range in[:n] {
					_, err := l.WriteBatch([]transport.Datagram{{Addr: d.Addr, Data: d.Data}})
					require.NoError(t, err)
				}
			}
			if c.Wait(time.Now().Add(20*time.Millisecond)) == nil {
				n, err := c.ReadBatch(in)
				require.NoError(t, err)
				if n > 0 && string(in[0].Data) == name {
					return
				}
			}
		}
	}
	echoes("one")
	echoes("two")
	require.NoError(t, l.Close())
	again, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(want)))
	require.NoError(t, err, "the listener released its port")
	again.Close()
}

// TestAnswerBoundsMessages: the answer tells the browser the largest
// message the listener takes, a datagram (pion's default is 64 KiB, held
// in reassembly).
func TestAnswerBoundsMessages(t *testing.T) {
	_, url := listen(t, rtc.Config{ICE: loopback()})
	assert.Contains(t, answer(t, url), fmt.Sprintf("a=max-message-size:%d\r\n", transport.RecvSize))
}

// TestPublicAddress: a server behind a one-to-one NAT offers its public
// address instead of the ones it found.
func TestPublicAddress(t *testing.T) {
	ice := loopback()
	ice.Public = []netip.Addr{netip.MustParseAddr("203.0.113.7")}
	l, err := rtc.Listen(rtc.Config{ICE: ice}, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	cs := candidates(answer(t, signaling(t, l)))
	require.NotEmpty(t, cs)
	for _, c := range cs {
		assert.True(t, strings.HasPrefix(c, "203.0.113.7:"), "offered %s", c)
	}
}

// TestSetupsPerIP: one address may have MaxSetupsPerIP peers setting up
// at a time (answered, channel not open); more are refused with 429 and
// hold nothing, while peers whose channel opened do not count.
func TestSetupsPerIP(t *testing.T) {
	l, url := listen(t, rtc.Config{ICE: loopback(), MaxSetupsPerIP: 2})
	c := dial(t, url)
	require.Eventually(t, func() bool { return l.Has(firstPeer(t, l, c)) }, 20*time.Second, 10*time.Millisecond, "the dialed peer opens")

	// Offers whose answers are never applied stay setting up.
	for range 2 {
		code, body := offer(t, url)
		require.Equal(t, http.StatusOK, code, string(body))
	}
	code, body := offer(t, url)
	assert.Equal(t, http.StatusTooManyRequests, code, string(body))
	assert.Equal(t, 3, l.Peers(), "the refused offer holds nothing")
}

// listen starts a Listener of cfg, closed when the test ends, and
// serves its signaling. Read by no server, its peers stay open without a
// session unless cfg says otherwise.
func listen(t testing.TB, cfg rtc.Config) (*rtc.Listener, string) {
	t.Helper()
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = -1
	}
	l, err := rtc.Listen(cfg, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l, signaling(t, l)
}

// dial dials url on the loopback; the connection is closed when the test
// ends.
func dial(t *testing.T, url string) transport.Conn {
	t.Helper()
	c, err := rtc.Dial(url, rtc.NewAPI(loopback()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// firstPeer writes a datagram from c until the listener reads one, and
// returns the address it came from.
func firstPeer(t *testing.T, l *rtc.Listener, c transport.Conn) netip.AddrPort {
	t.Helper()
	in := make([]transport.Datagram, 8)
	for i := range in {
		in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		_, err := c.WriteBatch([]transport.Datagram{{Data: []byte("hi")}})
		require.NoError(t, err)
		if l.Wait(time.Now().Add(20*time.Millisecond)) == nil {
			n, err := l.ReadBatch(in)
			require.NoError(t, err)
			if n > 0 {
				return in[0].Addr
			}
		}
	}
	t.Fatal("no datagram reached the listener")
	return netip.AddrPort{}
}

// TestJunkAtThePortLogsNothing: junk at the browser peers' UDP port and
// checks signed with a wrong password, for a peer setting up, are dropped
// without a log line above debug (a peer cannot fill the server's log),
// and a real peer connects beside them.
func TestJunkAtThePortLogsNothing(t *testing.T) {
	var logs syncbuf.Buffer
	ice := loopback()
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	ice.Port = uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	require.NoError(t, probe.Close())
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, url := listen(t, rtc.Config{ICE: ice, Logger: log})
	sdp := answer(t, url) // a peer setting up, whose checks the junk imitates
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(sdp)
	require.NotNil(t, ufrag, sdp)
	junk, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", fmt.Sprint(ice.Port)))
	require.NoError(t, err)
	defer junk.Close()
	for i := 0; i < 50; i++ {
		_, _ = junk.Write(bytes.Repeat([]byte{byte(i)}, 40))
	}
	for range 5 {
		m, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(ufrag[1]+":nobody"),
			stun.NewShortTermIntegrity("not the password"), stun.Fingerprint)
		require.NoError(t, err)
		_, _ = junk.Write(m.Raw)
	}
	c := dial(t, url)
	firstPeer(t, l, c)
	_ = junk.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = junk.Read(make([]byte, 2048))
	assert.Error(t, err, "nothing answers the junk or the forged checks")
	assert.NotContains(t, logs.String(), "level=WARN")
	assert.NotContains(t, logs.String(), "level=ERROR")
}
