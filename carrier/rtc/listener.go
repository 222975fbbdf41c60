//go:build !js

package rtc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/dtlsrec"
	"github.com/mpgs/mpgameserver/internal/sctp"
)

// A Listener accepts browser peers and is a transport.Conn of their
// datagrams: each peer is known by the address its datagrams come from,
// the browser's side of the ICE candidate pair.
//
// Every browser peer reaches one UDP socket (Config.ICE.Port, or a port
// the system picks), and the listener handles their datagrams in the
// reader's and writer's own calls, as a UDP client's: an ICE-lite answer
// to the browser's connectivity checks, DTLS records and SCTP packets of
// one data channel, without a goroutine or an allocation per packet. Only
// the DTLS handshake runs on a goroutine of the peer's (pion's, handed
// over to the listener's record layer once it completes).
//
// Every peer holds memory, so every one is bounded: at most MaxPeers in
// all, MaxPeersPerIP from one host (setting up or open, counted by its
// signaling request's address) and MaxSetupsPerIP of those setting up; a
// peer whose channel does not open in time, or whose client completes no
// handshake with the server in time, is closed; so is one whose session
// the server ended, and every peer of a blocked address. The server says
// what became of each address through transport.PeerConn (Merge passes it
// on). The listener sends nothing to an address that has not proven, by a
// check signed with the password the signaling gave, that it asked.
type Listener struct {
	cfg   Config
	local netip.AddrPort
	log   *slog.Logger
	sock  transport.Conn
	port  uint16
	v4    bool // the socket's family: the addresses offered are of it
	cert  certificate
	stop  chan struct{}
	done  chan struct{}

	wmu sync.Mutex // held while writing the socket, inside mu when both are

	mu      sync.Mutex
	closed  bool
	all     map[*peer]struct{}       // every peer holding a place
	byUfrag map[string]*peer         // by our ICE ufrag, until released
	byAddr  map[netip.AddrPort]*peer // by the address of its checks, then of its datagrams
	open    map[netip.AddrPort]*peer // those whose channel is open, by address
	hosts   map[netip.Addr]places    // the places of each host (transport.HostKey of the signaling address)
	blocked func(netip.Addr) bool
	stats   transport.PeerStats
	dp      datapath
}

// places is what one host holds.
type places struct{ peers, setups int }

// peerState is where a peer is on its way to an open channel.
type peerState uint8

const (
	answered    peerState = iota // the signaling answered; no check came
	checked                      // a check came: its address is known
	handshaking                  // its DTLS handshake runs
	connected                    // DTLS is done; the SCTP association and the channel follow
)

// peer is one browser's connection.
type peer struct {
	from netip.Addr // its signaling request's IP address
	host netip.Addr // transport.HostKey(from), or invalid when not counted

	// under the listener's lock
	state       peerState
	ufrag       string    // ours
	remoteUfrag string    // the browser's
	mac         hash.Hash // HMAC-SHA1 under our ICE password
	fingerprint [32]byte  // of the browser's DTLS certificate
	sctpPort    uint16    // the browser's SCTP port
	addr        netip.AddrPort
	local       netip.Addr // the address its datagrams reach (PacketInfo)
	checks      tokens     // the checks it may still have answered
	pipe        *dtlsrec.Pipe
	rec         *dtlsrec.Conn
	assoc       *sctp.Assoc
	sink        peerSink
	touched     uint64 // the last ReadBatch that gave its association a packet
	cands       [maxCandidates]netip.AddrPort
	ncand       int
	flight      [][]byte // our final DTLS flight, for a browser that missed it
	flightAt    time.Time
	isOpen      bool // its channel is open: in Listener.open
	setup       bool // counted as setting up
	session     bool // the server holds a completed session for it
	born        time.Time
	opened      time.Time
	closeAt     time.Time
	released    bool
}

// Listen returns a Listener. local is the address it reports as its own
// (the server's UDP address, for logs). It fails when the UDP socket of
// its peers (cfg.ICE: Port on Host) cannot be bound.
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
	l := &Listener{cfg: cfg, local: local, log: cfg.Logger,
		all: map[*peer]struct{}{}, byUfrag: map[string]*peer{}, byAddr: map[netip.AddrPort]*peer{},
		open: map[netip.AddrPort]*peer{}, hosts: map[netip.Addr]places{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if l.cert, err = newCertificate(); err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	host := cfg.ICE.Host.Unmap()
	bind := netip.AddrPortFrom(host, cfg.ICE.Port)
	wildcard := !host.IsValid() || host.IsUnspecified()
	addr := bind.String()
	if wildcard {
		// Every IPv4 address, each datagram answered from the address it
		// came to (PacketInfo is for IPv4 sockets).
		addr = fmt.Sprintf("0.0.0.0:%d", cfg.ICE.Port)
	}
	l.sock, err = transport.Listen(addr, transport.Config{Buffer: 1 << 20, PacketInfo: wildcard})
	if err != nil {
		return nil, fmt.Errorf("rtc: the browser peers' UDP port: %w", err)
	}
	l.port = l.sock.LocalAddr().Port()
	l.v4 = wildcard || host.Is4()
	l.dp.init(l)
	go l.sweeper()
	return l, nil
}

// Port returns the UDP port every browser peer reaches.
func (l *Listener) Port() uint16 { return l.port }

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
		case p.isOpen:
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
// answers 400 to what is not an offer it takes (parseOffer), 403 to a
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
				local = ap.Addr().Unmap()
			}
		}
		var offer webrtc.SessionDescription
		err := json.NewDecoder(io.LimitReader(r.Body, maxSignal)).Decode(&offer)
		if err != nil || offer.Type != webrtc.SDPTypeOffer {
			err = errOffer
		}
		var answer string
		if err == nil {
			answer, err = l.accept(offer.SDP, from, local)
		}
		if err != nil {
			code, msg := http.StatusInternalServerError, "rtc: the peer could not be set up"
			switch {
			case errors.Is(err, errOffer):
				code, msg = http.StatusBadRequest, err.Error()
				l.mu.Lock()
				l.stats.RefusedOffer++
				l.mu.Unlock()
			case errors.Is(err, errBlocked):
				code, msg = http.StatusForbidden, err.Error()
			case errors.Is(err, errFull):
				code, msg = http.StatusServiceUnavailable, err.Error()
			case errors.Is(err, errBusy):
				code, msg = http.StatusTooManyRequests, err.Error()
			case errors.Is(err, transport.ErrClosed):
				code, msg = http.StatusServiceUnavailable, "rtc: the server is stopping"
			default:
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
		_ = json.NewEncoder(w).Encode(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
	})
}

var (
	errFull    = errors.New("rtc: too many browser peers")
	errBusy    = errors.New("rtc: too many browser peers from this address")
	errBlocked = errors.New("rtc: this address is blocked")
)

// take counts a new peer from the IP address from, or says why it is
// refused; the caller holds the lock.
func (l *Listener) take(p *peer, from netip.Addr, now time.Time) error {
	switch {
	case l.closed:
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
	p.born = now
	l.all[p] = struct{}{}
	l.byUfrag[p.ufrag] = p
	return nil
}

// accept makes a peer for an offer that came from the IP address from to
// the address local, and returns the answer.
func (l *Listener) accept(raw string, from, local netip.Addr) (string, error) {
	o, err := parseOffer(raw)
	if err != nil {
		return "", err
	}
	var secret [30]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", err
	}
	ufrag, pwd := iceString(secret[:6]), iceString(secret[6:])
	p := &peer{from: from, ufrag: ufrag, remoteUfrag: o.ufrag, fingerprint: o.fingerprint, sctpPort: o.sctpPort,
		mac: hmac.New(sha1.New, []byte(pwd)), checks: tokens{n: checkBurst}}
	l.mu.Lock()
	err = l.take(p, from, time.Now())
	l.mu.Unlock()
	if err != nil {
		return "", err
	}
	a := answer{session: binary.BigEndian.Uint64(secret[:8]) >> 1, mid: o.mid, ufrag: ufrag, pwd: pwd,
		fingerprint: l.cert.fingerprint, candidates: l.candidates(local), maxMessage: transport.RecvSize}
	return a.sdp(), nil
}

// iceString returns b as ICE characters (base64's alphabet without
// padding): 4 characters for every 3 bytes.
func iceString(b []byte) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, 0, len(b)*4/3+3)
	for i := 0; i+2 < len(b); i += 3 {
		v := uint32(b[i])<<16 | uint32(b[i+1])<<8 | uint32(b[i+2])
		out = append(out, chars[v>>18&63], chars[v>>12&63], chars[v>>6&63], chars[v&63])
	}
	return string(out)
}

// candidates returns the addresses offered to a browser whose signaling
// reached the server at local: the public addresses when given, else the
// listening host, else the address the browser reached (it can reach the
// server there), else every interface's address; those of the socket's
// family (IPv4 when listening on every interface).
func (l *Listener) candidates(local netip.Addr) []netip.AddrPort {
	var ips []netip.Addr
	host := l.cfg.ICE.Host.Unmap()
	switch {
	case len(l.cfg.ICE.Public) > 0:
		ips = l.cfg.ICE.Public
	case host.IsValid() && !host.IsUnspecified():
		ips = []netip.Addr{host}
	case local.IsValid() && !local.IsUnspecified() && local.Is4():
		ips = []netip.Addr{local}
	default:
		ips = interfaceAddrs()
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() == l.v4 {
			out = append(out, netip.AddrPortFrom(ip, l.port))
		}
	}
	return out
}

// interfaceAddrs returns the machine's unicast addresses, loopback
// included, link-local ones left out.
func interfaceAddrs() []netip.Addr {
	as, _ := net.InterfaceAddrs()
	var out []netip.Addr
	for _, a := range as {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
			continue
		}
		out = append(out, ip)
	}
	return out
}

// sweeper closes, every sweepEvery, the peers whose time is up (see
// due), until the listener closes.
func (l *Listener) sweeper() {
	defer close(l.done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		l.sweep(time.Now())
		l.mu.Unlock()
	}
}

// sweep closes the peers whose time is up at now: a channel that did not
// open in time, an open one whose client completed no handshake in time,
// one whose session ended a moment ago, one of a blocked address. It
// counts them by reason; the caller holds the lock.
func (l *Listener) sweep(now time.Time) {
	for p := range l.all {
		switch {
		case l.blocked != nil && (l.blocked(p.from) || (p.addr.IsValid() && l.blocked(p.addr.Addr()))):
			l.stats.ClosedBlocked++
		case !p.isOpen && now.Sub(p.born) > setupTimeout:
			l.stats.ClosedSetup++
		case p.isOpen && !p.session && p.closeAt.IsZero() && l.cfg.HandshakeTimeout > 0 && now.Sub(p.opened) > l.cfg.HandshakeTimeout:
			l.stats.ClosedHandshake++
		case !p.closeAt.IsZero() && now.After(p.closeAt):
			l.stats.ClosedSession++
		default:
			continue
		}
		l.release(p)
	}
	l.dp.flush()
}

// release forgets p and closes it, once: a peer with a record layer is
// told (an SCTP ABORT, a DTLS close_notify). The caller holds the lock
// and flushes the datapath.
func (l *Listener) release(p *peer) {
	if p.released {
		return
	}
	p.released = true
	delete(l.all, p)
	if l.byUfrag[p.ufrag] == p {
		delete(l.byUfrag, p.ufrag)
	}
	l.setupDone(p)
	if p.host.IsValid() {
		h := l.hosts[p.host]
		if h.peers--; h.peers <= 0 && h.setups <= 0 {
			delete(l.hosts, p.host)
		} else {
			l.hosts[p.host] = h
		}
	}
	if p.addr.IsValid() {
		if l.byAddr[p.addr] == p {
			delete(l.byAddr, p.addr)
		}
		if l.open[p.addr] == p {
			delete(l.open, p.addr)
		}
	}
	if p.pipe != nil {
		p.pipe.Close()
	}
	if p.rec != nil && !l.closed {
		if p.assoc != nil && !p.assoc.Closed() {
			p.assoc.Close(l.dp.to(p))
		}
		l.dp.alert(p)
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
	if p := l.open[addr]; p != nil {
		p.session, p.closeAt = true, time.Time{}
	}
	l.mu.Unlock()
}

// SessionClosed records that the server forgot the session at addr
// (transport.PeerConn): the peer there is closed a moment later, once
// what the server sent it last has gone out.
func (l *Listener) SessionClosed(addr netip.AddrPort) {
	l.mu.Lock()
	if p := l.open[addr]; p != nil {
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
	l.sweep(time.Now())
	l.mu.Unlock()
}

// Has reports whether addr is a browser peer's.
func (l *Listener) Has(addr netip.AddrPort) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[addr] != nil
}

// LocalAddr returns the address given to Listen.
func (l *Listener) LocalAddr() netip.AddrPort { return l.local }

// Close closes every peer and the listener.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	for p := range l.all {
		l.release(p)
	}
	l.dp.flush()
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	return l.sock.Close()
}
