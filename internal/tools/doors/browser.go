//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// The new browser players.
const (
	// newBrowsers is how many new browser players try to join.
	newBrowsers = 5
	// browserAddrs is the last byte of the first new browser's address
	// (127.0.0.20): each comes from an address of its own, as real
	// players do, not from the attacker's.
	browserAddrs = 20
	// joinBrowserWithin bounds a browser's join: the server closes a
	// channel that did not open in 15 s.
	joinBrowserWithin = 15 * time.Second
	// signalWithin bounds a signaling request.
	signalWithin = 15 * time.Second
	// maxAnswer bounds the answer read from the signaling.
	maxAnswer = 64 << 10
)

// quietPion is a pion logger factory that logs nothing.
func quietPion() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}

// pionAPI returns a pion API whose peers offer one host candidate: sock
// (a UDP socket bound to a loopback address) when not nil, else every
// port it likes on 127.0.0.1.
func pionAPI(sock *net.UDPConn) *webrtc.API {
	var se webrtc.SettingEngine
	se.LoggerFactory = quietPion()
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	if sock != nil {
		se.SetICEUDPMux(ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: sock, Logger: quietPion().NewLogger("ice")}))
	} else {
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(loopback().AsSlice()) })
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// httpFrom returns an HTTP client whose connections come from local
// (the default source when not valid), each request on a fresh one.
func httpFrom(local netip.Addr, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if local.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// newOffer makes pc's offer with its data channel, once its candidates
// are gathered.
func newOffer(ctx context.Context, pc *webrtc.PeerConnection) (*webrtc.SessionDescription, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return pc.LocalDescription(), nil
}

// newDataChannel adds the game's data channel (unordered, never
// retransmitted, as a browser opens it) to pc.
func newDataChannel(pc *webrtc.PeerConnection) (*webrtc.DataChannel, error) {
	ordered, retransmits := false, uint16(0)
	return pc.CreateDataChannel(rtc.Label, &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retransmits})
}

// signaled is the outcome of a POST of an offer.
type signaled struct {
	status int           // 0: no answer (err says why)
	took   time.Duration // until the answer, or the failure
	answer *webrtc.SessionDescription
	err    error
}

// postOffer posts an SDP offer to the signaling URL.
func postOffer(ctx context.Context, hc *http.Client, url string, offer *webrtc.SessionDescription) signaled {
	body, err := json.Marshal(offer)
	if err != nil {
		return signaled{err: err}
	}
	return postSignal(ctx, hc, url, body)
}

// postSignal posts body (a JSON offer) to the signaling URL and reads
// the answer when it is 200.
func postSignal(ctx context.Context, hc *http.Client, url string, body []byte) signaled {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return signaled{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return signaled{took: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	s := signaled{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		s.took, s.err = time.Since(start), fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
		return s
	}
	var answer webrtc.SessionDescription
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&answer); err != nil {
		s.took, s.err = time.Since(start), fmt.Errorf("the answer: %w", err)
		return s
	}
	s.took, s.answer = time.Since(start), &answer
	return s
}

// browserConn is a client's transport.Conn over a data channel, like
// carrier/rtc's Dial, but from an address of its own: its signaling
// request and its ICE candidate both come from local.
type browserConn struct {
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
	sock   *net.UDPConn
	cancel context.CancelFunc
	open   atomic.Bool

	mu     sync.Mutex
	q      [][]byte
	err    error
	closed bool
	ready  chan struct{}
}

// maxBrowserQueue bounds the datagrams a browserConn holds unread.
const maxBrowserQueue = 1024

// dialBrowser starts connecting to the signaling URL from local and
// returns at once, as carrier/rtc's Dial does.
func dialBrowser(url string, local netip.Addr) (*browserConn, error) {
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: local.AsSlice()})
	if err != nil {
		return nil, err
	}
	pc, err := pionAPI(sock).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		sock.Close()
		return nil, err
	}
	dc, err := newDataChannel(pc)
	if err != nil {
		_ = pc.Close()
		sock.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &browserConn{pc: pc, dc: dc, sock: sock, cancel: cancel, ready: make(chan struct{}, 1)}
	dc.OnOpen(func() { c.open.Store(true) })
	dc.OnClose(func() { c.fail(errors.New("the server closed the channel")) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) { c.push(m.Data) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			c.fail(errors.New("the connection failed"))
		}
	})
	go func() {
		offer, err := newOffer(ctx, pc)
		if err != nil {
			c.fail(err)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, signalWithin)
		defer cancel()
		s := postOffer(ctx, httpFrom(local, signalWithin), url, offer)
		if s.answer == nil {
			c.fail(fmt.Errorf("signaling: %w", s.err))
			return
		}
		if err := pc.SetRemoteDescription(*s.answer); err != nil {
			c.fail(fmt.Errorf("the answer: %w", err))
		}
	}()
	return c, nil
}

// wake ends a Wait.
func (c *browserConn) wake() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// push keeps a copy of a datagram received, unless the queue is full.
func (c *browserConn) push(d []byte) {
	c.mu.Lock()
	if !c.closed && len(c.q) < maxBrowserQueue {
		c.q = append(c.q, bytes.Clone(d))
	}
	c.mu.Unlock()
	c.wake()
}

// fail records why nothing more will come, once.
func (c *browserConn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = transport.Broken(err)
	}
	c.mu.Unlock()
	c.wake()
}

// ReadBatch moves the datagrams received into ds.
func (c *browserConn) ReadBatch(ds []transport.Datagram) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, transport.ErrClosed
	}
	n := min(len(ds), len(c.q))
	for i := range n {
		ds[i].Data = append(ds[i].Data[:0], c.q[i]...)
		ds[i].Addr = netip.AddrPort{}
	}
	c.q = append(c.q[:0], c.q[n:]...)
	if n == 0 {
		return 0, c.err
	}
	return n, nil
}

// WriteBatch sends ds on the channel; before it opens they are dropped
// (the protocol repeats its hello).
func (c *browserConn) WriteBatch(ds []transport.Datagram) (int, error) {
	c.mu.Lock()
	closed, err := c.closed, c.err
	c.mu.Unlock()
	switch {
	case closed:
		return 0, transport.ErrClosed
	case err != nil:
		return 0, err
	case !c.open.Load():
		return len(ds), nil
	}
	for i, d := range ds {
		if err := c.dc.Send(d.Data); err != nil {
			return i, err
		}
	}
	return len(ds), nil
}

// Wait blocks until a datagram waits, the deadline passes or the
// connection is closed.
func (c *browserConn) Wait(deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	for {
		c.mu.Lock()
		closed, n, err := c.closed, len(c.q), c.err
		c.mu.Unlock()
		switch {
		case closed:
			return transport.ErrClosed
		case n > 0 || err != nil:
			return nil
		}
		select {
		case <-c.ready:
		case <-timeout:
			return nil
		}
	}
}

// LocalAddr returns the channel's local address (unknown).
func (c *browserConn) LocalAddr() netip.AddrPort { return netip.AddrPort{} }

// Stats returns no counts.
func (c *browserConn) Stats() transport.Stats { return transport.Stats{} }

// Close closes the peer connection.
func (c *browserConn) Close() error {
	c.mu.Lock()
	was := !c.closed
	c.closed, c.q = true, nil
	c.mu.Unlock()
	if !was {
		return nil
	}
	c.wake()
	c.cancel()
	err := c.pc.Close()
	c.sock.Close()
	return err
}

// browsersJoined is how many new browser players joined, of how many,
// and why the others did not.
type browsersJoined struct {
	tried, joined int
	why           map[string]int
}

// String is the table cell.
func (b browsersJoined) String() string {
	if b.tried == 0 {
		return "—"
	}
	s := fmt.Sprintf("%d of %d", b.joined, b.tried)
	if len(b.why) > 0 {
		var reasons []string
		for k, v := range b.why {
			reasons = append(reasons, fmt.Sprintf("%d× %s", v, k))
		}
		sort.Strings(reasons)
		s += " (" + strings.Join(reasons, "; ") + ")"
	}
	return s
}

// joinBrowsers has newBrowsers new browser players, each from an address
// of its own, connect to the server through its signaling URL and do the
// protocol's handshake (the client package), and counts those connected
// within joinBrowserWithin. They disconnect before it returns.
func joinBrowsers(ctx context.Context, url string, key *conn.PublicKey) browsersJoined {
	res := browsersJoined{tried: newBrowsers, why: map[string]int{}}
	clients := make([]*client.Client, newBrowsers)
	for i := range clients {
		local := lo(byte(browserAddrs + i))
		clients[i] = client.New(client.Config{ServerKey: key, HandshakeTimeout: joinBrowserWithin,
			Dial: func(url string) (transport.Conn, error) {
				c, err := dialBrowser(url, local)
				if err != nil {
					return nil, err
				}
				return c, nil
			}})
		if err := clients[i].Connect(url, nil); err != nil {
			res.why[short(err)]++
			clients[i] = nil
		}
	}
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	deadline := time.Now().Add(joinBrowserWithin + time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		<-frame.C
		busy := false
		for _, c := range clients {
			if c == nil {
				continue
			}
			c.Update()
			if !c.Connected() && !c.Status().Closed() {
				busy = true
			}
		}
		if !busy {
			break
		}
	}
	for _, c := range clients {
		switch {
		case c == nil:
		case c.Connected():
			res.joined++
		case c.Err() != nil:
			res.why[short(c.Err())]++
		default:
			res.why["no handshake in time"]++
		}
	}
	for _, c := range clients {
		if c != nil {
			c.WaitForDisconnect()
		}
	}
	return res
}

// short is an error's message without the addresses and ports that make
// each one different, cut to a table cell's length.
func short(err error) string {
	s := regexp.MustCompile(`\[?[0-9a-fA-F.:]*[0-9a-fA-F]\]?:[0-9]+\b`).ReplaceAllStringFunc(err.Error(), func(m string) string {
		if _, e := netip.ParseAddrPort(m); e != nil {
			return m
		}
		return "ADDR"
	})
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
