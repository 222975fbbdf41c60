// Package server is the mpgameserver UDP game server: it runs every
// client's connection (a state machine of internal/session) on one
// goroutine at a fixed tick and
// calls the game's EventHandler there, in order. It is the Go
// counterpart of the Python ServerContext, EventHandler and
// TwistedServer.
//
// A game is an EventHandler; a Server serves it:
//
//	type Echo struct{ server.BaseHandler }
//
//	func (Echo) HandleMessage(p *server.Peer, seq conn.Seq, msg []byte) {
//		p.Send(msg, conn.RetryNone, nil)
//	}
//
//	srv, err := server.New(server.Config{Handler: Echo{}, RootKey: key}, ":1474")
//	...
//	err = srv.Serve(ctx) // until ctx is done or Stop; then a graceful stop
//
// Every datagram is treated as hostile: work per datagram and memory are
// bounded, each client gets at most its share of a tick, handshakes cost
// nothing until the client proved its address, and every drop is counted
// by reason (Snapshot). HTTP, signals and log files are the program's:
// serve a status page with net/http beside Serve, stop on a signal with
// signal.NotifyContext, give Config.AccessLog a logger on a file.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/dgram"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// maxQueued and maxQueuedBytes bound the datagrams waiting for the next
// tick; beyond them, datagrams wait in the socket (a flood must not grow
// memory). Junk never takes room: the reader's filter drops it before it
// is copied.
const (
	maxQueued      = 1 << 16
	maxQueuedBytes = 8 << 20
)

// A Server is the headless server (the reference's TwistedServer): one
// datagram socket, and the event goroutine that runs every tick:
//
//  1. message handling: the datagrams received since the last tick go to
//     their connections; new clients start their handshake; messages reach
//     HandleMessage;
//  2. update: the handler's Update;
//  3. network: every connection runs its timers and sends what is due;
//     departed clients get Disconnect;
//  4. idle: wait for the next tick.
type Server struct {
	cfg  Config
	conn transport.Conn
	addr netip.AddrPort
	log  *slog.Logger
	post postQueue

	rx *dgram.Reader
	tx *dgram.Writer

	blocklist atomic.Pointer[map[netip.Addr]struct{}]
	blockMu   sync.Mutex // serializes the writers of blocklist

	// owned by the event goroutine
	now              time.Time
	tickNo           uint64
	tickRead         int     // datagrams read in this tick
	lastTickRead     int     // and in the last
	peers            []*Peer // connected pool
	pending          []*Peer // temporary pool
	unproven         []*Peer // pending peers without a cookie, oldest first (lazily cleaned)
	byAddr           addrIndex
	hosts            hostCounts         // sessions and handshakes per host
	peerConn         transport.PeerConn // conn, when its addresses are peers of their own (browsers)
	byToken          map[uint32]*Peer
	byPathID         map[protocol.PathID]*Peer // sessions that may move, by path ID
	resetKey         [32]byte                  // the stateless reset tokens' secret (from the root key)
	resets           resetRate                 // stateless resets sent, server-wide
	proven, queued   helloQueue                // CLIENT_HELLOs waiting for the handshake budget
	handshakeBacklog bool                      // the last tick's handshake budget ran out
	cookies          *cookieJar
	cookieBody       []byte
	cookiesThisTick  tickCount
	unprovenThisTick tickCount
	backlogged       []*Peer           // peers with messages held over
	more             []*Peer           // peers with more to send this tick (pollPeers)
	touched          []*Peer           // peers to poll this tick whatever their timers say
	visit            []*Peer           // the list being polled
	charging         *Peer             // whose datagram's time is not yet charged (settle)
	wheel            [wheelSlots]*Peer // the first peer of each slot's list
	ahead            lookahead         // the peers of the next datagrams (routeAhead)
	backlogBytes     int
	tmpl             *templates
	connCfg          *session.Config
	budget           *session.Budget
	retired          totals // counters of peers that left
	rows             rowGather
	stats            Stats
	prof             profile
	stopping         bool
	left             int // peers in s.peers that have left (Disconnect raised), not yet forgotten
	latencies        Histogram
	serving          atomic.Bool // between the first tick and the stop
	started          time.Time
	dropLim          *logLimiter
	panicLim         *logLimiter
	watch            watchdog

	pubMu      sync.Mutex
	pub        Snapshot
	pubVersion atomic.Uint64

	stopCh  chan struct{}
	stopOne sync.Once
	runMu   sync.Mutex
	running bool
	done    chan struct{}
}

// New opens a UDP socket on addr ("host:port"; "[::]:port" listens on
// IPv6 and, where the system allows, IPv4 too) for a server of cfg;
// Serve serves it.
func New(cfg Config, addr string) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("server: Config.Handler is required")
	}
	buf := cfg.SocketBuffer
	if buf <= 0 {
		buf = DefaultSocketBuffer
	}
	c, err := transport.Listen(addr, transport.Config{Buffer: buf})
	if err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", addr, err)
	}
	s, err := NewWithConn(cfg, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	if st := c.Stats(); st.RecvBuffer > 0 && st.RecvBuffer < buf {
		s.log.Warn("the socket's receive buffer is smaller than asked: bursts may be dropped",
			"bytes", st.RecvBuffer, "asked", buf, "hint", "raise net.core.rmem_max or run with CAP_NET_ADMIN")
	}
	return s, nil
}

// NewWithConn returns a server of cfg on a datagram Conn the caller
// opened: a socket with settings of its own, an in-memory network's for
// tests, one wrapped in a simulated link (netsim). The server closes c
// when it stops.
func NewWithConn(cfg Config, c transport.Conn) (*Server, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		conn:     c,
		addr:     c.LocalAddr(),
		log:      cfg.Logger,
		byAddr:   newAddrIndex(),
		hosts:    newHostCounts(cfg.MaxSessionsPerHost),
		byToken:  make(map[uint32]*Peer),
		byPathID: make(map[protocol.PathID]*Peer),
		resetKey: resetKey(cfg.RootKey),
		resets:   resetRate{newBucket(resetBurst)},
		stopCh:   make(chan struct{}),
		done:     make(chan struct{}),
		tmpl:     newTemplates(cfg.RootKey),
		dropLim:  newLogLimiter(dropLogBurst, dropLogEvery),
		panicLim: newLogLimiter(clientLogBurst, clientLogEvery),
	}
	s.peerConn, _ = transport.Unwrap[transport.PeerConn](c)
	s.SetBlockList(cfg.BlockList)
	s.rows.round = 1 // a peer's zero rowRound: not taken
	s.budget = session.NewBudget(cfg.MemoryBudget)
	// One configuration for every connection, which they share.
	if s.connCfg, err = session.Resolve(cfg.connConfig(s.budget)); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.rx = dgram.NewReader(c, maxQueued, maxQueuedBytes, s.filter)
	s.tx = dgram.NewWriter(c)
	s.tx.OnError = s.sendFailed
	// Until the first tick, readers see the address and the settings
	// (a status page may be asked before Serve runs).
	s.publish()
	return s, nil
}

// Addr returns the address the socket is bound to.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// RootKey returns the root key that signs the handshake (Config.RootKey,
// or the one made for it).
func (s *Server) RootKey() *conn.PrivateKey { return s.cfg.RootKey }

// Config returns the server's configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// SetBlockList replaces the set of blocked IP addresses: datagrams from
// them are dropped before any parsing. IPv4 addresses also match their
// IPv4-mapped IPv6 form. It may be called at any time, from any
// goroutine.
func (s *Server) SetBlockList(addrs []netip.Addr) {
	m := make(map[netip.Addr]struct{}, len(addrs))
	for _, a := range addrs {
		m[a.Unmap()] = struct{}{}
	}
	s.blockMu.Lock()
	s.blocklist.Store(&m)
	s.blockMu.Unlock()
	s.blockPeers()
}

// blockPeers tells a carrier of peers (browsers) that the blocklist
// changed: it refuses and closes the peers of blocked addresses, those
// without a session too.
func (s *Server) blockPeers() {
	if s.peerConn != nil {
		s.peerConn.SetBlocked(s.Blocked)
	}
}

// BlockList returns the blocked addresses, sorted.
func (s *Server) BlockList() []netip.Addr {
	m := s.blocklist.Load()
	if m == nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(*m))
	for a := range *m {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// Block adds addr to the blocklist and, at the next tick, disconnects the
// clients at that address (they are told, and their Disconnect event
// runs). Any goroutine may call it.
func (s *Server) Block(addr netip.Addr) {
	addr = addr.Unmap()
	s.blockMu.Lock()
	old := s.blocklist.Load()
	m := make(map[netip.Addr]struct{}, 1)
	if old != nil {
		m = make(map[netip.Addr]struct{}, len(*old)+1)
		for a := range *old {
			m[a] = struct{}{}
		}
	}
	m[addr] = struct{}{}
	s.blocklist.Store(&m)
	s.blockMu.Unlock()
	s.blockPeers()
	s.Post(func() {
		for _, p := range s.peers {
			if p.addr.Addr().Unmap() == addr && p.conn.Status() == conn.Connected {
				p.Disconnect()
			}
		}
	})
}

// Peer returns the connected client of token, or nil. Call it on the
// event goroutine (in an event, or a function given to Post).
func (s *Server) Peer(token uint32) *Peer {
	if p := s.byToken[token]; p != nil && !p.pending && !p.gone {
		return p
	}
	return nil
}

// Blocked reports whether datagrams from a are dropped.
func (s *Server) Blocked(a netip.Addr) bool {
	m := s.blocklist.Load()
	if m == nil || len(*m) == 0 {
		return false
	}
	_, ok := (*m)[a.Unmap()]
	return ok
}

// Stop asks the server to stop gracefully: every connected client is sent
// a DISCONNECT and gets a Disconnect event, then the handler gets Shutdown
// and Serve returns. Stop returns at once and may be called from any
// goroutine, handlers included.
func (s *Server) Stop() { s.stopOne.Do(func() { close(s.stopCh) }) }

// Post runs fn on the event goroutine at the start of the next tick, so
// code on other goroutines (an HTTP handler, a console) can touch game
// state and peers safely.
func (s *Server) Post(fn func()) { s.post.add(fn) }

// Serving reports whether the server is running and not stopping: what a
// readiness probe asks. It is false before Serve and once a stop began.
// Any goroutine may call it.
func (s *Server) Serving() bool { return s.serving.Load() }

// Run serves until Stop and the graceful stop completes.
func (s *Server) Run() error { return s.Serve(context.Background()) }

// Serve serves until ctx is done or Stop is called, then stops
// gracefully (see Stop) and returns.
func (s *Server) Serve(ctx context.Context) error {
	s.runMu.Lock()
	if s.running {
		s.runMu.Unlock()
		return errors.New("server: already running")
	}
	s.running = true
	s.runMu.Unlock()
	defer close(s.done)
	cookies, err := newCookieJar()
	if err != nil {
		return fmt.Errorf("server: cookie secret: %w", err)
	}
	s.cookies = cookies
	s.tmpl.start(s.log)
	defer s.tmpl.close()
	// With a second CPU, the system calls that send go on there while the
	// tick goes on building datagrams.
	if runtime.GOMAXPROCS(0) > 1 {
		s.tx.Start()
	}
	s.log.Info("listening", "udp", s.addr.String(), "interval", s.cfg.Interval, "recv_buffer", s.conn.Stats().RecvBuffer)

	s.now = time.Now()
	s.started = s.now
	s.publish() // a monitor shows the address and settings at once
	s.watch.start(s)
	defer s.watch.stop()
	s.callStarting()
	s.serving.Store(true)
	s.loop(ctx)
	s.serving.Store(false)
	s.shutdown()

	s.tx.Close()
	s.conn.Close()
	s.rx.Recycle(s.rx.Take())
	s.log.Info("stopped")
	return nil
}

// LastTick returns when the latest tick started. It is safe to call from
// any goroutine: a server whose LastTick is far behind the clock is stuck.
func (s *Server) LastTick() time.Time {
	if n := s.watch.last.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Done is closed when Serve has returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close releases the socket of a server that will not serve (Serve closes
// it itself when it stops); on a serving server it is Stop.
func (s *Server) Close() error {
	s.runMu.Lock()
	running := s.running
	s.running = true // a closed server cannot serve
	s.runMu.Unlock()
	if running {
		s.Stop()
		return nil
	}
	return s.conn.Close()
}

// postQueue holds functions to run on the event goroutine.
type postQueue struct {
	mu    sync.Mutex
	fns   []func()
	spare []func()
}

func (q *postQueue) add(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
}

// take returns the queued functions; the caller runs them and gives the
// slice back with done.
func (q *postQueue) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.fns) == 0 {
		return nil
	}
	fns := q.fns
	q.fns, q.spare = q.spare[:0], nil
	return fns
}

func (q *postQueue) done(fns []func()) {
	clear(fns)
	q.mu.Lock()
	q.spare = fns[:0]
	q.mu.Unlock()
}
