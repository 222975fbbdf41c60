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

	"github.com/mpgs/mpgameserver/engine/transport"
)

// A Listener accepts browser peers and is a transport.Conn of their
// datagrams: each peer is known by the address of its side of the ICE
// candidate pair, the address its datagrams come from.
type Listener struct {
	cfg   Config
	api   *webrtc.API
	local netip.AddrPort
	log   *slog.Logger

	in  *inbox
	mux io.Closer // the one UDP port of Config.ICE.Port, or nil

	mu    sync.Mutex
	peers map[netip.AddrPort]*peer
	count int // peers set up or open
	// setups counts the peers setting up (answered, channel not open)
	// by the IP address of their signaling request.
	setups map[netip.Addr]int
}

// peer is one browser's connection.
type peer struct {
	pc    *webrtc.PeerConnection
	dc    *webrtc.DataChannel
	addr  netip.AddrPort // set under the listener's lock
	setup netip.Addr     // while it sets up: its signaling request's IP address, under the listener's lock
	from  atomic.Pointer[netip.AddrPort]
	last  atomic.Int64 // Unix nanoseconds of its last datagram
}

// Listen returns a Listener. local is the address it reports as its own
// (the server's UDP address, for logs). It fails only when cfg.ICE.Port
// cannot be bound.
func Listen(cfg Config, local netip.AddrPort) (*Listener, error) {
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	l := &Listener{cfg: cfg, api: cfg.API, local: local, log: cfg.Logger, peers: map[netip.AddrPort]*peer{}, in: newInbox(maxQueued),
		setups: map[netip.Addr]int{}}
	if cfg.MaxSetupsPerIP == 0 {
		l.cfg.MaxSetupsPerIP = DefaultMaxSetupsPerIP
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.api == nil {
		se := cfg.ICE.settings(l.log)
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
	return l.count
}

// Handler returns the signaling handler: POST an SDP offer (JSON, as
// RTCSessionDescription) and receive the answer, with every ICE candidate
// in it. Serve it on the server's HTTP listener, for example at /rtc.
func (l *Listener) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "rtc: POST an SDP offer", http.StatusMethodNotAllowed)
			return
		}
		var offer webrtc.SessionDescription
		if err := json.NewDecoder(io.LimitReader(r.Body, maxSignal)).Decode(&offer); err != nil || offer.Type != webrtc.SDPTypeOffer {
			http.Error(w, "rtc: the body must be an SDP offer", http.StatusBadRequest)
			return
		}
		var from netip.Addr
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			from = ap.Addr().Unmap()
		}
		answer, err := l.accept(offer, from)
		if err != nil {
			code := http.StatusInternalServerError
			switch {
			case errors.Is(err, errFull):
				code = http.StatusServiceUnavailable
			case errors.Is(err, errBusy):
				code = http.StatusTooManyRequests
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	})
}

var (
	errFull = errors.New("rtc: too many browser peers")
	errBusy = errors.New("rtc: too many browser peers setting up from this address")
)

// accept sets up a peer connection for an offer that came from the IP
// address from, and returns the answer.
func (l *Listener) accept(offer webrtc.SessionDescription, from netip.Addr) (*webrtc.SessionDescription, error) {
	p := &peer{}
	l.mu.Lock()
	if l.in.isClosed() {
		l.mu.Unlock()
		return nil, transport.ErrClosed
	}
	if l.count >= l.cfg.MaxPeers {
		l.mu.Unlock()
		return nil, errFull
	}
	if from.IsValid() && l.cfg.MaxSetupsPerIP > 0 {
		if l.setups[from] >= l.cfg.MaxSetupsPerIP {
			l.mu.Unlock()
			return nil, errBusy
		}
		l.setups[from]++
		p.setup = from
	}
	l.count++
	l.mu.Unlock()
	pc, err := l.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		l.release(p)
		return nil, fmt.Errorf("rtc: %w", err)
	}
	p.pc = pc
	p.last.Store(time.Now().UnixNano())
	var once sync.Once
	end := func() { once.Do(func() { l.release(p) }) }
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateDisconnected {
			end()
		}
	})
	var chosen atomic.Bool // the peer's one channel
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != Label || !chosen.CompareAndSwap(false, true) {
			_ = dc.Close()
			return
		}
		dc.OnOpen(func() {
			addr, ok := remoteAddr(pc)
			if !ok {
				end()
				return
			}
			l.mu.Lock()
			if l.in.isClosed() || l.peers[addr] != nil {
				l.mu.Unlock()
				end()
				return
			}
			p.dc, p.addr = dc, addr
			l.peers[addr] = p
			l.setupDone(p)
			l.mu.Unlock()
			p.from.Store(&addr)
			l.log.Debug("browser peer open", "client", addr.String())
		})
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			// Before the channel's open callback has placed the peer, its
			// datagrams are dropped (the protocol resends).
			if from := p.from.Load(); from != nil {
				p.last.Store(time.Now().UnixNano())
				l.in.push(*from, m.Data)
			}
		})
	})
	// A peer that never opens, or goes silent, is closed.
	go l.watch(p, end)
	if err := pc.SetRemoteDescription(offer); err != nil {
		end()
		return nil, fmt.Errorf("rtc: the offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		end()
		return nil, fmt.Errorf("rtc: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		end()
		return nil, fmt.Errorf("rtc: %w", err)
	}
	<-gathered
	return pc.LocalDescription(), nil
}

// watch closes p when its channel did not open within setupTimeout or it
// sent nothing for idleClose.
func (l *Listener) watch(p *peer, end func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	start := time.Now()
	for range t.C {
		l.mu.Lock()
		closed, open := l.in.isClosed(), p.addr.IsValid() && l.peers[p.addr] == p
		l.mu.Unlock()
		switch {
		case closed:
			end()
			return
		case !open && time.Since(start) > setupTimeout,
			open && time.Since(time.Unix(0, p.last.Load())) > idleClose:
			end()
			return
		case p.pc.ConnectionState() == webrtc.PeerConnectionStateClosed:
			return
		}
	}
}

// release forgets p and closes it.
func (l *Listener) release(p *peer) {
	l.mu.Lock()
	l.count--
	l.setupDone(p)
	if p.addr.IsValid() && l.peers[p.addr] == p {
		delete(l.peers, p.addr)
	}
	l.mu.Unlock()
	if p.pc != nil {
		go func() { _ = p.pc.Close() }() // never from a pion callback's goroutine
	}
}

// setupDone stops counting p as setting up, once; the caller holds the
// listener's lock.
func (l *Listener) setupDone(p *peer) {
	if !p.setup.IsValid() {
		return
	}
	if l.setups[p.setup]--; l.setups[p.setup] <= 0 {
		delete(l.setups, p.setup)
	}
	p.setup = netip.Addr{}
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
		l.mu.Unlock()
		if l.in.isClosed() {
			return i, transport.ErrClosed
		}
		if p == nil {
			return i, fmt.Errorf("rtc: no browser peer at %s", d.Addr)
		}
		if p.dc.BufferedAmount() > maxBuffered {
			l.in.drops.Add(1)
			continue
		}
		if err := p.dc.Send(d.Data); err != nil {
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
	l.mu.Lock()
	peers := l.peers
	l.peers = map[netip.AddrPort]*peer{}
	l.mu.Unlock()
	for _, p := range peers {
		_ = p.pc.Close()
	}
	if l.mux != nil {
		return l.mux.Close()
	}
	return nil
}
