//go:build !js

package rtc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// A Listener accepts browser peers and is a transport.Conn of their
// datagrams: each peer is known by the address of its side of the ICE
// candidate pair, the address its datagrams come from.
//
// Every peer holds memory and goroutines, so every one is bounded: at
// most MaxPeers in all, MaxPeersPerIP from one host (setting up or open,
// counted by its signaling request's address) and MaxSetupsPerIP of those
// setting up; a peer whose channel does not open in time, or whose client
// completes no handshake with the server in time, is closed; so is one
// whose session the server ended, and every peer of a blocked address.
// The server says what became of each address through transport.PeerConn
// (Merge passes it on). The listener is ICE-lite: it sends nothing to an
// address that has not reached it first (see checkOffer).
type Listener struct {
	cfg   Config
	api   *webrtc.API
	local netip.AddrPort
	log   *slog.Logger
	fixed bool // the addresses offered are chosen (Host or Public), not every interface's

	in   *inbox
	mux  io.Closer // the one UDP port of Config.ICE.Port, or nil
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	peers   map[netip.AddrPort]*peer // open ones, by their address
	all     map[*peer]struct{}       // every peer holding a place
	hosts   map[netip.Addr]places    // the places of each host (transport.HostKey of the signaling address)
	blocked func(netip.Addr) bool
	stats   transport.PeerStats
}

// places is what one host holds.
type places struct{ peers, setups int }

// peer is one browser's connection.
type peer struct {
	pc     *webrtc.PeerConnection
	from   netip.Addr   // its signaling request's IP address
	host   netip.Addr   // transport.HostKey(from), or invalid when not counted
	queued atomic.Int32 // its datagrams waiting in the inbox
	open   atomic.Pointer[netip.AddrPort]

	// under the listener's lock
	dc       *webrtc.DataChannel
	addr     netip.AddrPort // its address once open
	setup    bool           // counted as setting up
	session  bool           // the server holds a completed session for it
	born     time.Time      // answered
	opened   time.Time      // its channel opened
	closeAt  time.Time      // its session ended: close it then
	released bool
}

// Listen returns a Listener. local is the address it reports as its own
// (the server's UDP address, for logs). It fails only when cfg.ICE.Port
// cannot be bound.
func Listen(cfg Config, local netip.AddrPort) (*Listener, error) {
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	if cfg.MaxPeersPerIP == 0 {
		cfg.MaxPeersPerIP = DefaultMaxPeersPerIP
	}
	if cfg.MaxSetupsPerIP == 0 {
		cfg.MaxSetupsPerIP = DefaultMaxSetupsPerIP
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	l := &Listener{cfg: cfg, api: cfg.API, local: local, log: cfg.Logger, in: newInbox(maxQueued),
		peers: map[netip.AddrPort]*peer{}, all: map[*peer]struct{}{}, hosts: map[netip.Addr]places{},
		stop: make(chan struct{}), done: make(chan struct{})}
	host := cfg.ICE.Host.Unmap()
	l.fixed = (host.IsValid() && !host.IsUnspecified()) || len(cfg.ICE.Public) > 0
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.api == nil {
		se := cfg.ICE.settings(l.log)
		// ICE-lite: the listener answers the browser's checks and sends
		// none, so an offer cannot make it send to an address that did
		// not reach it first; and it waits for the browser's DTLS hello
		// rather than sending its own.
		se.SetLite(true)
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			return nil, fmt.Errorf("rtc: %w", err)
		}
		// A peer's SCTP association holds at most this much received and
		// not yet delivered (partial messages), and no message may be
		// larger than a datagram.
		se.SetSCTPMaxReceiveBufferSize(maxReceiveBuffer)
		se.SetSCTPMaxMessageSize(transport.RecvSize)
		if cfg.ICE.Port != 0 {
			mux, err := oneUDPPort(cfg.ICE, l.log)
			if err != nil {
				return nil, fmt.Errorf("rtc: the browser peers' UDP port: %w", err)
			}
			se.SetICEUDPMux(mux)
			l.mux = mux
		}
		l.api = webrtc.NewAPI(webrtc.WithSettingEngine(se))
	}
	go l.sweeper()
	return l, nil
}

// oneUDPPort binds o.Port on o.Host, or on every interface's address when
// Host is not specified, for all of a Listener's peers.
func oneUDPPort(o Options, log *slog.Logger) (interface {
	ice.UDPMux
	io.Closer
}, error) {
	host := o.Host.Unmap()
	if host.IsValid() && !host.IsUnspecified() {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(host, o.Port)))
		if err != nil {
			return nil, err
		}
		return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: c, Logger: pionLogs(log).NewLogger("ice")}), nil
	}
	return ice.NewMultiUDPMuxFromPort(int(o.Port), ice.UDPMuxFromPortWithLoopback(), ice.UDPMuxFromPortWithLogger(pionLogs(log).NewLogger("ice")),
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6))
}

// Peers returns how many browser peers are set up or connected.
func (l *Listener) Peers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// PeerStats returns the counts of the peers now and of those refused and
// closed since the listener started.
func (l *Listener) PeerStats() transport.PeerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	st.SettingUp, st.Open, st.Sessions = 0, 0, 0
	for p := range l.all {
		switch {
		case p.addr.IsValid():
			st.Open++
			if p.session {
				st.Sessions++
			}
		default:
			st.SettingUp++
		}
	}
	return st
}

// Handler returns the signaling handler: POST an SDP offer (JSON, as
// RTCSessionDescription) and receive the answer, with every ICE candidate
// in it. Serve it on the server's HTTP listener, for example at /rtc. It
// answers 400 to what is not an offer it takes (checkOffer), 403 to a
// blocked address, 429 to a host that holds its share of peers, 503 when
// the listener is full.
func (l *Listener) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "rtc: POST an SDP offer", http.StatusMethodNotAllowed)
			return
		}
		var from netip.Addr
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			from = ap.Addr().Unmap()
		}
		var local netip.Addr
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if ap, err := netip.ParseAddrPort(a.String()); err == nil {
				local = ap.Addr()
			}
		}
		var offer webrtc.SessionDescription
		err := json.NewDecoder(io.LimitReader(r.Body, maxSignal)).Decode(&offer)
		if err != nil || offer.Type != webrtc.SDPTypeOffer {
			err = errOffer
		}
		var answer *webrtc.SessionDescription
		if err == nil {
			answer, err = l.accept(offer, from, local)
		} else {
			l.mu.Lock()
			l.stats.RefusedOffer++
			l.mu.Unlock()
		}
		if err != nil {
			code, msg := http.StatusInternalServerError, "rtc: the peer could not be set up"
			switch {
			case errors.Is(err, errOffer):
				code, msg = http.StatusBadRequest, err.Error()
			case errors.Is(err, errBlocked):
				code, msg = http.StatusForbidden, err.Error()
			case errors.Is(err, errFull):
				code, msg = http.StatusServiceUnavailable, err.Error()
			case errors.Is(err, errBusy):
				code, msg = http.StatusTooManyRequests, err.Error()
			case errors.Is(err, transport.ErrClosed):
				code, msg = http.StatusServiceUnavailable, "rtc: the server is stopping"
			default:
				// pion's reasons name the peer's fault or ours; they go to
				// the log, at debug level (a peer may cause them at will).
				l.log.Debug("browser peer not set up", "client", from.String(), "err", err)
			}
			if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "5")
			}
			http.Error(w, msg, code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(answer)
	})
}

var (
	errFull    = errors.New("rtc: too many browser peers")
	errBusy    = errors.New("rtc: too many browser peers from this address")
	errBlocked = errors.New("rtc: this address is blocked")
)

// take counts a new peer from the IP address from, or says why it is
// refused.
func (l *Listener) take(p *peer, from netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.in.isClosed():
		return transport.ErrClosed
	case from.IsValid() && l.blocked != nil && l.blocked(from):
		l.stats.RefusedBlocked++
		return errBlocked
	case len(l.all) >= l.cfg.MaxPeers:
		l.stats.RefusedFull++
		return errFull
	}
	if from.IsValid() {
		host := transport.HostKey(from)
		h := l.hosts[host]
		if (l.cfg.MaxPeersPerIP > 0 && h.peers >= l.cfg.MaxPeersPerIP) || (l.cfg.MaxSetupsPerIP > 0 && h.setups >= l.cfg.MaxSetupsPerIP) {
			l.stats.RefusedPerHost++
			return errBusy
		}
		h.peers++
		h.setups++
		l.hosts[host] = h
		p.host, p.setup = host, true
	}
	p.born = time.Now()
	l.all[p] = struct{}{}
	return nil
}

// accept sets up a peer connection for an offer that came from the IP
// address from to the address local, and returns the answer.
func (l *Listener) accept(offer webrtc.SessionDescription, from, local netip.Addr) (*webrtc.SessionDescription, error) {
	checked, _, err := checkOffer(offer.SDP, from)
	if err != nil {
		l.mu.Lock()
		l.stats.RefusedOffer++
		l.mu.Unlock()
		return nil, err
	}
	offer.SDP = checked
	p := &peer{from: from}
	if err := l.take(p, from); err != nil {
		return nil, err
	}
	pc, err := l.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		l.release(p)
		return nil, fmt.Errorf("rtc: %w", err)
	}
	l.mu.Lock()
	p.pc = pc
	l.mu.Unlock()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateDisconnected {
			l.release(p)
		}
	})
	var chosen atomic.Bool // the peer's one channel
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != Label || !chosen.CompareAndSwap(false, true) {
			_ = dc.Close()
			return
		}
		dc.OnOpen(func() { l.opened(p, dc) })
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			// Before the channel's open callback has placed the peer, its
			// datagrams are dropped (the protocol resends).
			if from := p.open.Load(); from != nil {
				l.in.pushFrom(*from, m.Data, &p.queued, peerQueued)
			}
		})
	})
	if err := pc.SetRemoteDescription(offer); err != nil {
		l.release(p)
		return nil, fmt.Errorf("rtc: the offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		l.release(p)
		return nil, fmt.Errorf("rtc: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		l.release(p)
		return nil, fmt.Errorf("rtc: %w", err)
	}
	<-gathered
	a := pc.LocalDescription()
	if a == nil {
		l.release(p)
		return nil, errors.New("rtc: no answer")
	}
	if !l.fixed {
		a.SDP = answerFor(a.SDP, local)
	}
	return a, nil
}

// opened places p, whose channel dc just opened, among the open peers.
func (l *Listener) opened(p *peer, dc *webrtc.DataChannel) {
	addr, ok := remoteAddr(p.pc)
	if !ok {
		l.release(p)
		return
	}
	l.mu.Lock()
	if p.released || l.in.isClosed() || l.peers[addr] != nil {
		l.mu.Unlock()
		l.release(p)
		return
	}
	if l.blocked != nil && l.blocked(addr.Addr()) {
		l.stats.ClosedBlocked++
		l.mu.Unlock()
		l.release(p)
		return
	}
	p.dc, p.addr, p.opened = dc, addr, time.Now()
	l.peers[addr] = p
	l.setupDone(p)
	l.mu.Unlock()
	p.open.Store(&addr)
	l.log.Debug("browser peer open", "client", addr.String())
}

// sweeper closes, every sweepEvery, the peers whose time is up (see
// due), until the listener closes.
func (l *Listener) sweeper() {
	defer close(l.done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	var expired []*peer
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		expired = l.due(time.Now(), expired[:0])
		for _, p := range expired {
			l.release(p)
		}
		clear(expired)
	}
}

// due returns the peers to close at now: a channel that did not open in
// time, an open one whose client completed no handshake in time, one
// whose session ended a moment ago, one of a blocked address. It counts
// them by reason.
func (l *Listener) due(now time.Time, out []*peer) []*peer {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range l.all {
		switch {
		case p.released:
			continue
		case l.blocked != nil && (l.blocked(p.from) || (p.addr.IsValid() && l.blocked(p.addr.Addr()))):
			l.stats.ClosedBlocked++
		case !p.addr.IsValid() && now.Sub(p.born) > setupTimeout:
			l.stats.ClosedSetup++
		case p.addr.IsValid() && !p.session && p.closeAt.IsZero() && l.cfg.HandshakeTimeout > 0 && now.Sub(p.opened) > l.cfg.HandshakeTimeout:
			l.stats.ClosedHandshake++
		case !p.closeAt.IsZero() && now.After(p.closeAt):
			l.stats.ClosedSession++
		default:
			continue
		}
		out = append(out, p)
	}
	return out
}

// release forgets p and closes it, once.
func (l *Listener) release(p *peer) {
	l.mu.Lock()
	if p.released {
		l.mu.Unlock()
		return
	}
	p.released = true
	delete(l.all, p)
	l.setupDone(p)
	if p.host.IsValid() {
		h := l.hosts[p.host]
		if h.peers--; h.peers <= 0 && h.setups <= 0 {
			delete(l.hosts, p.host)
		} else {
			l.hosts[p.host] = h
		}
	}
	if p.addr.IsValid() && l.peers[p.addr] == p {
		delete(l.peers, p.addr)
	}
	pc := p.pc
	l.mu.Unlock()
	p.open.Store(nil)
	if pc != nil {
		go func() { _ = pc.Close() }() // never from a pion callback's goroutine
	}
}

// setupDone stops counting p as setting up, once; the caller holds the
// listener's lock.
func (l *Listener) setupDone(p *peer) {
	if !p.setup {
		return
	}
	p.setup = false
	h := l.hosts[p.host]
	h.setups--
	l.hosts[p.host] = h
}

// SessionOpened records that the server completed a handshake with the
// peer at addr (transport.PeerConn): it may stay open past
// Config.HandshakeTimeout.
func (l *Listener) SessionOpened(addr netip.AddrPort) {
	l.mu.Lock()
	if p := l.peers[addr]; p != nil {
		p.session, p.closeAt = true, time.Time{}
	}
	l.mu.Unlock()
}

// SessionClosed records that the server forgot the session at addr
// (transport.PeerConn): the peer there is closed a moment later, once
// what the server sent it last has gone out.
func (l *Listener) SessionClosed(addr netip.AddrPort) {
	l.mu.Lock()
	if p := l.peers[addr]; p != nil {
		p.session, p.closeAt = false, time.Now().Add(sessionGrace)
	}
	l.mu.Unlock()
}

// SetBlocked sets the predicate of blocked IP addresses
// (transport.PeerConn): their signaling is refused (403), and their peers,
// by the address of their signaling or of their datagrams, are closed.
func (l *Listener) SetBlocked(blocked func(netip.Addr) bool) {
	l.mu.Lock()
	l.blocked = blocked
	l.mu.Unlock()
	for _, p := range l.due(time.Now(), nil) {
		l.release(p)
	}
}

// remoteAddr returns the address of the peer's side of the selected ICE
// candidate pair.
func remoteAddr(pc *webrtc.PeerConnection) (netip.AddrPort, bool) {
	sctp := pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return netip.AddrPort{}, false
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote == nil {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), pair.Remote.Port), true
}

// ReadBatch moves the datagrams received into ds (copying into their
// buffers), without waiting.
func (l *Listener) ReadBatch(ds []transport.Datagram) (int, error) { return l.in.read(ds) }

// WriteBatch sends each datagram to its peer's channel. A datagram to an
// address that is no peer's is refused with an error, as the system
// refuses an unreachable one; one to a peer whose channel is backed up is
// dropped.
func (l *Listener) WriteBatch(ds []transport.Datagram) (int, error) {
	for i, d := range ds {
		l.mu.Lock()
		p := l.peers[d.Addr]
		var dc *webrtc.DataChannel
		if p != nil {
			dc = p.dc
		}
		l.mu.Unlock()
		if l.in.isClosed() {
			return i, transport.ErrClosed
		}
		if dc == nil {
			return i, fmt.Errorf("rtc: no browser peer at %s", d.Addr)
		}
		if dc.BufferedAmount() > maxBuffered {
			l.in.drops.Add(1)
			continue
		}
		if err := dc.Send(d.Data); err != nil {
			return i, fmt.Errorf("rtc: to %s: %w", d.Addr, err)
		}
	}
	if len(ds) > 0 {
		l.in.writes.Add(1)
	}
	return len(ds), nil
}

// Has reports whether addr is a browser peer's.
func (l *Listener) Has(addr netip.AddrPort) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peers[addr] != nil
}

// Wait blocks until a datagram may be read, the deadline passes or the
// listener is closed.
func (l *Listener) Wait(deadline time.Time) error { return l.in.wait(deadline) }

// LocalAddr returns the address given to Listen.
func (l *Listener) LocalAddr() netip.AddrPort { return l.local }

// Stats returns the listener's counters: datagrams dropped because the
// queue or a peer's channel was full count as kernel drops do.
func (l *Listener) Stats() transport.Stats { return l.in.stats() }

// Close closes every peer connection and the listener.
func (l *Listener) Close() error {
	if !l.in.close() {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	var pcs []*webrtc.PeerConnection
	for p := range l.all {
		p.released = true
		if p.pc != nil {
			pcs = append(pcs, p.pc)
		}
	}
	clear(l.all)
	clear(l.peers)
	clear(l.hosts)
	l.mu.Unlock()
	for _, pc := range pcs {
		_ = pc.Close()
	}
	if l.mux != nil {
		return l.mux.Close()
	}
	return nil
}
