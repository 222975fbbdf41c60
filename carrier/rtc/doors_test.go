//go:build !js

package rtc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/server"
)

// These tests try the browser door as an attacker would, on real
// WebRTC peers on the loopback, beside real players, and assert what the
// players saw. Their limits end a broken test; they do not measure.

// pumpUntil runs the clients' frames until cond holds or the (generous)
// limit passes; it reports whether cond held.
func pumpUntil(limit time.Duration, cond func() bool, cs ...*client.Client) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		for _, c := range cs {
			c.Update()
		}
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

// echoes sends a guaranteed message from c and waits for its echo,
// keeping the others' frames running.
func echoes(t *testing.T, c *client.Client, msg string, others ...*client.Client) {
	t.Helper()
	require.NoError(t, c.SendGuaranteed([]byte(msg), nil))
	got := false
	ok := pumpUntil(30*time.Second, func() bool {
		for _, m := range c.Messages() {
			got = got || string(m.Data) == msg
		}
		return got
	}, append([]*client.Client{c}, others...)...)
	require.True(t, ok, "no echo of %q (%v)", msg, c.Err())
}

// junkPeer opens a peer to url whose channel opens and which then sends
// junk (never the game's handshake) every few milliseconds until the
// test ends or its channel closes; sent counts what it managed.
func junkPeer(t *testing.T, url string) (closed func() bool, sent *atomic.Int64) {
	t.Helper()
	c, err := rtc.Dial(url, rtc.NewAPI(loopback()))
	require.NoError(t, err)
	sent = &atomic.Int64{}
	var gone atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; c.Close() })
	go func() {
		defer close(done)
		junk := []transport.Datagram{{Data: bytes.Repeat([]byte{0xAB}, 100)}}
		for ctx.Err() == nil {
			if _, err := c.WriteBatch(junk); err != nil {
				gone.Store(true)
				return
			}
			sent.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return gone.Load, sent
}

// TestJunkPeerIsClosedWithoutAHandshake: a peer that opens its channel
// and sends junk, never the game's handshake, is closed once the
// handshake timeout passes, however much it sends (its junk never moves
// a clock), while a real browser player beside it plays on.
func TestJunkPeerIsClosedWithoutAHandshake(t *testing.T) {
	srv, l, url := startServerWith(t, rtc.Config{ICE: loopback(), HandshakeTimeout: time.Second}, 0)
	player, ok := connectWeb(t, url, 15*time.Second)
	require.True(t, ok, "%v", player.Err())

	closed, sent := junkPeer(t, url)
	require.True(t, pumpUntil(30*time.Second, func() bool { return l.PeerStats().Open == 2 }, player), "the junk peer opens")
	require.True(t, pumpUntil(30*time.Second, closed, player), "the junk peer is closed")
	assert.Positive(t, sent.Load(), "it sent junk all along")
	st := l.PeerStats()
	assert.EqualValues(t, 1, st.ClosedHandshake)
	assert.Equal(t, 1, st.Open)
	assert.Equal(t, 1, st.Sessions)
	echoes(t, player, "G after the junk peer")
	assert.True(t, player.Connected())
	var s server.Snapshot
	require.True(t, pumpUntil(10*time.Second, func() bool {
		srv.Snapshot(&s)
		return s.Browsers.ClosedHandshake == 1 && s.Browsers.Sessions == 1
	}, player), "the server's snapshot counts the browser peers: %+v", s.Browsers)
	assert.Equal(t, 1, s.Connections)
}

// TestPeersPerIPCountOpenPeers: the places of one host count its open
// peers, not only those setting up: beyond MaxPeersPerIP its offers get
// 429, and a place given back is taken again.
func TestPeersPerIPCountOpenPeers(t *testing.T) {
	l, url := listen(t, rtc.Config{ICE: loopback(), MaxPeersPerIP: 2})
	a := dial(t, url)
	b := dial(t, url)
	addrA := firstPeer(t, l, a)
	firstPeer(t, l, b)
	require.Equal(t, 2, l.PeerStats().Open)
	code, body := offer(t, url)
	assert.Equal(t, http.StatusTooManyRequests, code, string(body))
	assert.EqualValues(t, 1, l.PeerStats().RefusedPerHost)
	require.NoError(t, a.Close())
	// The listener learns of a's leaving as a server reading it does.
	in := make([]transport.Datagram, 8)
	for i := range in {
		in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	require.Eventually(t, func() bool {
		_, err := l.ReadBatch(in)
		require.NoError(t, err)
		return !l.Has(addrA) && l.Peers() == 1
	}, 30*time.Second, 10*time.Millisecond)
	code, body = offer(t, url)
	assert.Equal(t, http.StatusOK, code, string(body))
}

// TestSessionEndClosesThePeer: once the server forgets a browser's
// session (it left, or went silent), its peer is closed: no place is held
// by a peer the server has no use for.
func TestSessionEndClosesThePeer(t *testing.T) {
	_, l, url := startServerWith(t, rtc.Config{ICE: loopback()}, 0, func(c *server.Config) { c.ConnectionTimeout = time.Second })
	c, ok := connectWeb(t, url, 15*time.Second)
	require.True(t, ok, "%v", c.Err())
	require.True(t, pumpUntil(10*time.Second, func() bool { return l.PeerStats().Sessions == 1 }, c))
	c.Disconnect()
	require.True(t, pumpUntil(30*time.Second, func() bool { return l.Peers() == 0 }, c), "the peer of a client that left is closed")

	// A client that stops without a word: the server times it out.
	quiet, ok := connectWeb(t, url, 15*time.Second)
	require.True(t, ok, "%v", quiet.Err())
	require.True(t, pumpUntil(10*time.Second, func() bool { return l.PeerStats().Sessions == 1 }, quiet))
	require.Eventually(t, func() bool { return l.Peers() == 0 }, 30*time.Second, 10*time.Millisecond,
		"the peer of a client the server timed out is closed")
	assert.EqualValues(t, 2, l.PeerStats().ClosedSession)
}

// TestBlockClosesPeersAndRefusesSignaling: blocking an address closes
// its browser peers, those with a session and those without, and its
// signaling is refused with 403; a UDP player from another address plays
// on.
func TestBlockClosesPeersAndRefusesSignaling(t *testing.T) {
	srv, l, url := startServerWith(t, rtc.Config{ICE: loopback(), HandshakeTimeout: time.Minute}, 0)
	web, ok := connectWeb(t, url, 15*time.Second)
	require.True(t, ok, "%v", web.Err())
	// The UDP player sends from 127.0.0.2, the browsers from 127.0.0.1.
	udp := client.New(client.Config{ServerKey: srv.RootKey().Public(), Dial: func(addr string) (transport.Conn, error) {
		c, err := transport.Listen("127.0.0.2:0", transport.Config{})
		if err != nil {
			return nil, err
		}
		return sendTo{c, srv.Addr()}, nil
	}})
	t.Cleanup(udp.ForceDisconnect)
	var okUDP *bool
	require.NoError(t, udp.Connect(srv.Addr().String(), func(ok bool) { okUDP = &ok }))
	require.True(t, pumpUntil(30*time.Second, func() bool { return okUDP != nil }, web, udp))
	require.True(t, *okUDP, "%v", udp.Err())
	junk, err := rtc.Dial(url, rtc.NewAPI(loopback()))
	require.NoError(t, err)
	t.Cleanup(func() { junk.Close() })
	firstPeer(t, l, junk)
	require.Equal(t, 2, l.PeerStats().Open)

	srv.Block(netip.MustParseAddr("127.0.0.1"))
	require.True(t, pumpUntil(30*time.Second, func() bool { return l.Peers() == 0 }, web, udp), "the blocked address's peers are closed")
	assert.EqualValues(t, 2, l.PeerStats().ClosedBlocked)
	echoes(t, udp, "G beside the block", web)

	resp, err := http.Post(url, "application/json", strings.NewReader(offerBody(t)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the blocked address's signaling")
	assert.EqualValues(t, 1, l.PeerStats().RefusedBlocked)
	assert.Zero(t, l.Peers())
}

// sendTo is a socket that sends every datagram to one address: a
// listening socket used as a client's.
type sendTo struct {
	transport.Conn
	to netip.AddrPort
}

func (c sendTo) WriteBatch(ds []transport.Datagram) (int, error) {
	for i := range ds {
		ds[i].Addr = c.to
	}
	return c.Conn.WriteBatch(ds)
}

// offerBody returns the JSON of a pion peer's offer of a data channel.
func offerBody(t *testing.T) string {
	t.Helper()
	pc, err := rtc.NewAPI(loopback()).NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	_, err = pc.CreateDataChannel(rtc.Label, nil)
	require.NoError(t, err)
	o, err := pc.CreateOffer(nil)
	require.NoError(t, err)
	gathered := webrtc.GatheringCompletePromise(pc)
	require.NoError(t, pc.SetLocalDescription(o))
	<-gathered
	b, err := json.Marshal(pc.LocalDescription())
	require.NoError(t, err)
	return string(b)
}

// sinks binds n UDP sockets on the loopback and counts what reaches
// them until the test ends.
func sinks(t *testing.T, n int) ([]int, *atomic.Int64) {
	t.Helper()
	var got atomic.Int64
	ports := make([]int, n)
	for i := range ports {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		ports[i] = c.LocalAddr().(*net.UDPAddr).Port
		go func() {
			buf := make([]byte, 2048)
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				// What a server reflecting an offer would send: STUN
				// checks or a DTLS hello. Other datagrams are strays
				// from other packages' tests, whose stopped servers'
				// ports a sink took (their clients still send).
				if isSTUN(buf[:n]) || isDTLS(buf[:n]) {
					got.Add(1)
				}
			}
		}()
	}
	return ports, &got
}

// isSTUN reports whether d is a STUN message (RFC 8489: the top two bits
// zero, the magic cookie at bytes 4-7).
func isSTUN(d []byte) bool {
	return len(d) >= 20 && d[0]&0xC0 == 0 && d[4] == 0x21 && d[5] == 0x12 && d[6] == 0xA4 && d[7] == 0x42
}

// isDTLS reports whether d looks like a DTLS record (RFC 9147: content
// types 20 to 63 in the first byte, version 0xFEFD or 0xFEFF).
func isDTLS(d []byte) bool {
	return len(d) >= 13 && d[0] >= 20 && d[0] <= 63 && d[1] == 0xFE && (d[2] == 0xFD || d[2] == 0xFF)
}

// withCandidates returns an offer's JSON whose candidates are replaced by
// one host candidate at each port on 127.0.0.1.
func withCandidates(t *testing.T, ports []int) string {
	t.Helper()
	var o webrtc.SessionDescription
	require.NoError(t, json.Unmarshal([]byte(offerBody(t)), &o))
	var b strings.Builder
	for _, line := range strings.SplitAfter(o.SDP, "\r\n") {
		if strings.HasPrefix(line, "a=candidate:") || strings.HasPrefix(line, "a=end-of-candidates") {
			continue
		}
		b.WriteString(line)
	}
	for i, p := range ports {
		fmt.Fprintf(&b, "a=candidate:%d 1 udp %d 127.0.0.1 %d typ host\r\n", i+1, 2130706431-i, p)
	}
	o.SDP = b.String()
	body, err := json.Marshal(o)
	require.NoError(t, err)
	return string(body)
}

// TestSignalingReflectsNothing: an offer can make the server send nothing
// to the addresses it names. One of 1,000 candidates is refused outright;
// one of 30 candidates, each a socket of the test's, is answered, and in
// the seconds after not one datagram reaches those sockets (the listener
// is ICE-lite: it never sends a check); an offer that claims to be
// ICE-lite too is refused (two lite ends would pick a pair unchecked).
func TestSignalingReflectsNothing(t *testing.T) {
	l, url := listen(t, rtc.Config{ICE: loopback()})
	ports, got := sinks(t, 1000)
	resp, err := http.Post(url, "application/json", strings.NewReader(withCandidates(t, ports)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "1,000 candidates")

	resp, err = http.Post(url, "application/json", strings.NewReader(withCandidates(t, ports[:30])))
	require.NoError(t, err)
	var a webrtc.SessionDescription
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, a.SDP, "a=ice-lite", "the answer says the server is ICE-lite")
	assert.Contains(t, a.SDP, "a=setup:passive", "the server waits for the browser's DTLS hello")
	assert.Equal(t, 1, l.Peers())

	var lite webrtc.SessionDescription
	require.NoError(t, json.Unmarshal([]byte(withCandidates(t, ports[:2])), &lite))
	lite.SDP = strings.Replace(lite.SDP, "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1)
	body, err := json.Marshal(lite)
	require.NoError(t, err)
	resp, err = http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an ICE-lite offer")

	time.Sleep(3 * time.Second) // a full agent checks its pairs at once, and again every few hundred ms
	assert.Zero(t, got.Load(), "datagrams sent to the offer's candidates")
	assert.EqualValues(t, 2, l.PeerStats().RefusedOffer)
}
