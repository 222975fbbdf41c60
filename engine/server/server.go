package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
	"github.com/mpgs/mpgameserver/engine/udp"
)

// maxQueued and maxQueuedBytes bound the datagrams waiting for the next
// tick; beyond them, datagrams are dropped and counted (a flood must not
// grow memory). Junk never takes room: the reader's filter drops it
// before it is copied.
const (
	maxQueued      = 1 << 16
	maxQueuedBytes = 8 << 20
)

// A Server is the headless server (the reference's TwistedServer): one UDP
// socket, a goroutine reading it, and the event goroutine that runs every
// tick:
//
//  1. message handling: the datagrams received since the last tick go to
//     their connections; new clients start their handshake; messages reach
//     HandleMessage;
//  2. update: the handler's Update;
//  3. network: every connection builds at most one datagram, which is sent;
//     departed clients get Disconnect;
//  4. idle: sleep until the next tick.
//
// The time spent in each phase and the ticks per second are kept for the
// last 300 seconds (see Snapshot).
type Server struct {
	ctx  *Context
	sock io.Closer // the socket, closed when the server stops
	addr netip.AddrPort
	log  *slog.Logger
	cfg  *conn.Config

	rx   *udp.Reader
	tx   *udp.Writer // used by the event goroutine
	post postQueue

	// owned by the event goroutine
	now              time.Time
	tickNo           uint64
	clients          []*Client // connected pool
	pending          []*Client // temporary pool
	unproven         []*Client // pending clients without a cookie, oldest first (lazily cleaned)
	byAddr           map[netip.AddrPort]*Client
	byToken          map[uint32]*Client
	proven, queued   helloQueue // CLIENT_HELLOs waiting for the handshake budget
	handshakeBacklog bool       // the last tick's handshake budget ran out
	cookies          *cookieJar
	cookieBody       []byte
	tickRead         int // datagrams read in this tick
	lastTickRead     int // and in the last
	cookiesThisTick  tickCount
	unprovenThisTick tickCount
	backlogged       []*Client // clients with messages held over
	backlogBytes     int
	tmpl             *templates
	budget           *conn.Budget
	retired          totals // statistics of clients that left
	stats            Stats
	prof             profile
	stopping         bool
	started          time.Time
	dropLim          *logLimiter
	panicLim         *logLimiter
	watch            watchdog

	pubMu      sync.Mutex
	pub        Snapshot
	pubVersion atomic.Uint64

	http    []*httpListener
	stopCh  chan struct{}
	stopOne sync.Once
	runMu   sync.Mutex
	running bool
	done    chan struct{}
	sigStop func()
}

// New opens a UDP socket on addr ("host:port"; "[::]:port" listens on IPv6
// and, where the system allows, IPv4 too) for ctx's server. Run serves it.
//
// On Linux the socket is read and written by the tick loop itself, many
// datagrams per system call and outside Go's network poller (see
// udp.Socket); elsewhere a goroutine reads it between ticks.
func New(ctx *Context, addr string) (*Server, error) {
	if ctx == nil {
		return nil, errors.New("server: nil Context")
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", addr, err)
	}
	u, ok := pc.(*net.UDPConn)
	if !ok {
		return NewWithConn(ctx, pc)
	}
	// Room for bursts: many clients sending in the same instant, and
	// everything that arrives between two ticks.
	rcv, snd, berr := udp.SizeBuffers(u, socketBuffer)
	sock, err := udp.Detach(u)
	if err != nil {
		return NewWithConn(ctx, pc)
	}
	s := newServer(ctx, sock, sock.LocalAddr())
	s.stats.RecvBuffer, s.stats.SendBuffer = rcv, snd
	switch {
	case berr != nil:
		s.log.Warn("cannot size the socket's buffers", "err", berr)
	case rcv > 0 && rcv < socketBuffer:
		s.log.Warn("the socket's receive buffer is smaller than asked: bursts may be dropped",
			"bytes", rcv, "asked", socketBuffer, "hint", "raise net.core.rmem_max or run with CAP_NET_ADMIN")
	}
	filter := s.filter
	s.rx = udp.NewSocketReader(sock, maxQueued, maxQueuedBytes, filter)
	s.tx = udp.NewSocketWriter(sock)
	s.tx.OnError = s.sendFailed
	return s, nil
}

// socketBuffer is the size asked for the socket's buffers (the system
// may cap it: net.core.rmem_max and wmem_max on Linux).
const socketBuffer = 4 << 20

// NewWithConn returns a server for ctx on a packet connection the caller
// opened, for example one wrapped by netsim.PacketConn in tests. The
// server closes pc when it stops.
func NewWithConn(ctx *Context, pc net.PacketConn) (*Server, error) {
	if ctx == nil {
		return nil, errors.New("server: nil Context")
	}
	var addr netip.AddrPort
	if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		addr = ua.AddrPort()
	} else if ap, err := netip.ParseAddrPort(pc.LocalAddr().String()); err == nil {
		addr = ap
	}
	s := newServer(ctx, pc, addr)
	s.rx = udp.NewReader(pc, maxQueued, maxQueuedBytes, s.filter)
	s.tx = udp.NewWriter(pc)
	s.tx.OnError = s.sendFailed
	return s, nil
}

func newServer(ctx *Context, sock io.Closer, addr netip.AddrPort) *Server {
	s := &Server{
		ctx:      ctx,
		sock:     sock,
		addr:     addr,
		log:      ctx.log,
		byAddr:   make(map[netip.AddrPort]*Client),
		byToken:  make(map[uint32]*Client),
		stopCh:   make(chan struct{}),
		done:     make(chan struct{}),
		tmpl:     newTemplates(ctx.rootKey),
		dropLim:  newLogLimiter(dropLogBurst, dropLogEvery),
		panicLim: newLogLimiter(clientLogBurst, clientLogEvery),
	}
	s.prof.init(s.ctx.interval)
	s.pub.init()
	return s
}

// filter drops, before they are copied anywhere, datagrams from blocked
// addresses and datagrams that cannot be ours: a bad magic or direction,
// an unknown type, a length field the datagram cannot hold, a hello of
// the wrong size.
func (s *Server) filter(from netip.AddrPort, b []byte) udp.Verdict {
	if s.ctx.Blocked(from.Addr()) {
		return udp.Blocked
	}
	if len(b) < protocol.HeaderSize || b[0] != 'F' || b[1] != 'S' || b[2] != 'O' || b[3] != byte(protocol.ToServer) {
		return udp.Junk
	}
	typ := protocol.PacketType(b[12])
	length := int(b[13])<<8 | int(b[14])
	trailer := protocol.TagSize
	switch {
	case typ == protocol.TypeClientHello:
		if length != 2+protocol.ClientHelloBodySize || b[15] != 1 {
			return udp.Junk
		}
		trailer = protocol.CRCSize
	case typ == protocol.TypeUnknown || typ == protocol.TypeServerHello || !typ.Valid():
		return udp.Junk
	}
	if len(b) < protocol.HeaderSize+length+trailer {
		return udp.Junk
	}
	return udp.Pass
}

func (s *Server) sendFailed(to netip.AddrPort, err error) { s.dropLog("send failed", to, err) }

// Addr returns the address the UDP socket is bound to.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Context returns the server's context.
func (s *Server) Context() *Context { return s.ctx }

// InstallSignals makes SIGINT and SIGTERM stop the server gracefully, as
// Stop does. Call it before Run.
func (s *Server) InstallSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	s.sigStop = func() { signal.Stop(ch); close(quit) }
	go func() {
		select {
		case sig := <-ch:
			s.log.Info("signal received, stopping", "signal", sig.String())
			s.Stop()
		case <-quit:
		}
	}()
}

// Stop asks the server to stop gracefully: every connected client is sent
// a DISCONNECT and gets a Disconnect event, then the handler gets Shutdown,
// the HTTP listeners close and Run returns. Stop returns at once and may be
// called from any goroutine, handlers included.
func (s *Server) Stop() {
	s.stopOne.Do(func() { close(s.stopCh) })
}

// Post runs fn on the event goroutine at the start of the next tick, so
// code on other goroutines (an HTTP handler, a console) can touch game
// state and clients safely.
func (s *Server) Post(fn func()) { s.post.add(fn) }

// Run serves until Stop (or Context.Shutdown, or a signal after
// InstallSignals) and the graceful stop completes.
func (s *Server) Run() error { return s.Serve(context.Background()) }

// Serve is Run that also stops gracefully when ctx is done.
func (s *Server) Serve(ctx context.Context) error {
	s.runMu.Lock()
	if s.running {
		s.runMu.Unlock()
		return errors.New("server: already running")
	}
	s.running = true
	s.runMu.Unlock()
	if err := s.ctx.attach(s); err != nil {
		return err
	}
	defer s.ctx.detach(s)
	defer close(s.done)
	cookies, err := newCookieJar()
	if err != nil {
		return fmt.Errorf("server: cookie secret: %w", err)
	}
	s.cookies = cookies
	// The connections' settings are read now, so that the Context's
	// setters apply until Run.
	s.cfg = s.ctx.connConfig()
	s.budget = conn.NewBudget(s.ctx.memoryBudget)
	s.cfg.Budget = s.budget
	s.tmpl.start(s.log)
	defer s.tmpl.close()
	if s.sigStop != nil {
		defer s.sigStop()
	}

	// Where the socket can be read without waiting, the tick drains it
	// itself (no goroutine woken per datagram); elsewhere a goroutine reads
	// it between ticks.
	if !s.rx.Batched() {
		s.rx.Start()
	}
	// With a second CPU, the system calls that send go on there while the
	// tick goes on building datagrams.
	if runtime.GOMAXPROCS(0) > 1 {
		s.tx.Start()
	}
	for _, h := range s.http {
		h.start(s.log)
	}
	s.log.Info("listening", "udp", s.addr.String(), "interval", s.ctx.interval, "recv_buffer", s.stats.RecvBuffer)

	s.now = time.Now()
	s.started = s.now
	s.publish() // a monitor shows the address and settings at once
	s.watch.start(s)
	defer s.watch.stop()
	s.callStarting()
	s.loop(ctx)
	s.shutdown()

	for _, h := range s.http {
		h.stop()
	}
	s.tx.Close()
	s.sock.Close()
	if !s.rx.Batched() {
		s.rx.Wait()
	}
	s.rx.Recycle(s.rx.Take())
	s.ctx.closeAccessLog()
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

// Done is closed when Run has returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// drainEvery is how often the socket is read while the loop waits for the
// next tick (Linux, where the tick reads it itself) when the traffic of a
// tick could fill a good part of the kernel's buffer (a flood): often
// enough that it never overflows between two ticks. Ordinary traffic is
// read once a tick, in the largest batches.
const drainEvery = 2 * time.Millisecond

// drainThreshold is how many datagrams in one tick call for reads between
// ticks: a quarter of what the kernel's buffer holds (a datagram takes at
// least 768 bytes of it).
func (s *Server) drainThreshold() int {
	if s.stats.RecvBuffer <= 0 {
		return 1024
	}
	return max(64, s.stats.RecvBuffer/4/768)
}

// loop runs ticks until a stop is asked.
func (s *Server) loop(ctx context.Context) {
	interval := s.ctx.interval
	timer := time.NewTimer(interval)
	defer timer.Stop()
	next := time.Now()
	last := next
	for {
		start := time.Now()
		s.now = start
		s.tickNo++
		s.lastTickRead, s.tickRead = s.tickRead, 0
		s.watch.beat(start)
		s.prof.begin(start)
		if s.prof.rolled {
			s.publish()
		}
		s.runPosted()
		s.receive()
		t1 := time.Now()
		s.now = t1
		s.callUpdate(t1.Sub(last))
		last = t1
		t2 := time.Now()
		s.now = t2
		s.flush()
		t3 := time.Now()
		if t3.Sub(start) > interval {
			s.stats.LateTicks++
		}

		// Sleep until the next tick on a fixed schedule. A tick that ran
		// late is made up by starting the next one at once, so that an
		// occasional long tick costs no tick; more than a whole tick behind,
		// start again from now rather than running ticks back to back.
		next = next.Add(interval)
		if !s.wait(ctx, timer, next) {
			return
		}
		if d := time.Since(next); d > interval {
			next = time.Now()
		}
		s.prof.end(t1.Sub(start), t2.Sub(t1), t3.Sub(t2), time.Since(t3))
	}
}

// wait sleeps until next, reading the socket every drainEvery meanwhile
// where the tick reads it itself. It returns false when a stop was asked.
func (s *Server) wait(ctx context.Context, timer *time.Timer, next time.Time) bool {
	for {
		d := time.Until(next)
		if d <= 0 {
			select {
			case <-s.stopCh:
				return false
			case <-ctx.Done():
				return false
			default:
				return true
			}
		}
		if th := s.drainThreshold(); s.lastTickRead >= th || s.tickRead >= th {
			d = min(d, drainEvery)
		}
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-s.stopCh:
			return false
		case <-ctx.Done():
			return false
		}
		s.drain()
	}
}

// drain reads what the socket holds, counting the datagrams of the tick.
func (s *Server) drain() { s.tickRead += s.rx.Drain() }

// receive processes the messages held over from the last ticks, the
// datagrams that arrived since the last tick, then the hellos waiting for
// the handshake budget.
func (s *Server) receive() {
	s.runBacklogs()
	s.drain()
	batch := s.rx.Take()
	for i := range batch {
		s.route(&batch[i])
	}
	s.rx.Recycle(batch)
	s.handshakes()
}

// route hands one datagram to its connection (SPEC §13): connected clients
// get everything, within their share of the tick; clients in the
// handshake only a CHALLENGE_RESP or a repeated CLIENT_HELLO; unknown
// addresses only a CLIENT_HELLO, which starts a handshake. Nothing else
// gets an answer.
func (s *Server) route(d *udp.Datagram) {
	b := d.Bytes()
	s.stats.DatagramsIn++
	s.stats.BytesIn += uint64(len(b))
	s.prof.recv(len(b))
	h, err := protocol.ParseHeaderFrom(b, protocol.ToServer)
	if err != nil {
		s.stats.BadHeader++
		s.dropLog("unparseable datagram", d.From, err)
		return
	}
	c := s.byAddr[d.From]
	switch {
	case c != nil && (!c.pending || h.Type == protocol.TypeChallengeResp || h.Type == protocol.TypeClientHello):
		if !s.admit(c) {
			return
		}
		s.receiveFrom(c, b)
	case c != nil:
		s.stats.Unexpected++
	case s.stopping:
		s.stats.Unexpected++ // no new clients while stopping
	case h.Type != protocol.TypeClientHello:
		s.stats.Unexpected++
		s.dropLog("unexpected packet from an unknown address", d.From, nil)
	default:
		s.hello(b, d.From)
	}
}

// admit counts a datagram against its client's share of the tick and
// reports whether it is within it: a client's datagrams beyond
// Context.SetClientTickBudget, or beyond an eighth of the tick's time, in
// one tick are dropped (its reliable messages are resent), so that no
// client takes more than its share.
func (s *Server) admit(c *Client) bool {
	c.beginTick(s.tickNo)
	if len(c.backlog) > 0 || c.tickDgram >= s.ctx.clientDatagrams || c.tickMsgs >= s.ctx.clientMessages || c.tickTime >= s.ctx.interval/clientTimeShare {
		c.throttled++
		s.stats.Throttled++
		return false
	}
	c.tickDgram++
	return true
}

// Bounds of the messages held over for clients over their share: per
// client, and for the whole server.
const (
	maxClientBacklog      = 2 * protocol.MaxMessagesPerPacket
	maxClientBacklogBytes = 64 << 10
	maxBacklogBytes       = 8 << 20
)

// hold keeps a message over its client's share for the next tick; beyond
// the backlog's bounds it is dropped and counted.
func (s *Server) hold(c *Client, seq protocol.Seq, msg []byte) {
	if len(c.backlog) >= maxClientBacklog || c.backlogBytes+len(msg) > maxClientBacklogBytes || s.backlogBytes+len(msg) > maxBacklogBytes {
		s.stats.ThrottledMessages++
		return
	}
	c.backlog = append(c.backlog, heldMessage{seq: seq, data: bytes.Clone(msg)})
	c.backlogBytes += len(msg)
	s.backlogBytes += len(msg)
	if !c.backlogged {
		c.backlogged = true
		s.backlogged = append(s.backlogged, c)
	}
}

// runBacklogs hands each client's held messages to the handler, within
// its share of this tick. Only clients with a backlog are visited.
func (s *Server) runBacklogs() {
	for i := 0; i < len(s.backlogged); {
		c := s.backlogged[i]
		if !c.gone && c.c.Status() == conn.Connected {
			c.beginTick(s.tickNo)
			start := time.Now()
			c.dgramStart = start
			k := 0
			for ; k < len(c.backlog) && !c.overShare(k); k++ {
				m := c.backlog[k]
				c.tickMsgs++
				s.callHandleMessage(c, m.seq, m.data)
				c.backlogBytes -= len(m.data)
				s.backlogBytes -= len(m.data)
			}
			c.tickTime += time.Since(start)
			n := copy(c.backlog, c.backlog[k:])
			clear(c.backlog[n:])
			c.backlog = c.backlog[:n]
			if n > 0 {
				i++
				continue
			}
		}
		s.backlogBytes -= c.backlogBytes
		c.backlog, c.backlogBytes, c.backlogged = nil, 0, false
		last := len(s.backlogged) - 1
		s.backlogged[i] = s.backlogged[last]
		s.backlogged[last] = nil
		s.backlogged = s.backlogged[:last]
	}
}

// clientTimeShare: one client's datagrams (their decryption and the
// handler's work on their messages) may take at most this fraction of a
// tick; its further datagrams in that tick are dropped.
const clientTimeShare = 8

func (s *Server) receiveFrom(c *Client, b []byte) {
	start := time.Now()
	c.dgramStart, c.dgramMsgs = start, 0
	err := c.c.Receive(s.now, b)
	c.tickTime += time.Since(start)
	if err != nil && !errors.Is(err, conn.ErrDuplicate) {
		c.log.Debug("datagram refused", "err", err)
	}
	if c.pending && c.c.Status() == conn.Connected {
		s.promote(c)
	}
}

// promote moves a client that completed the handshake to the connected
// pool and raises Connect.
func (s *Server) promote(c *Client) {
	if !c.pending {
		return
	}
	removeAt(&s.pending, c.index)
	c.pending = false
	c.index = len(s.clients)
	s.clients = append(s.clients, c)
	c.announced = true
	s.stats.Connects++
	if l, separate := s.ctx.access(); separate {
		l.Info("connect", "client", c.addr.String(), "token", c.Token(), "active", len(s.clients))
		s.log.Info("client connected", "token", c.Token(), "active", len(s.clients))
	} else {
		c.log.Info("client connected", "active", len(s.clients))
	}
	s.callConnect(c)
}

// removeAt deletes element i of a pool by moving the last one into its
// place.
func removeAt(pool *[]*Client, i int) {
	p := *pool
	last := len(p) - 1
	if i != last {
		p[i] = p[last]
		p[i].index = i
	}
	p[last] = nil
	*pool = p[:last]
}

// flush runs every connection's timers, sends what is due, raises
// Disconnect for clients that left and forgets closed connections.
func (s *Server) flush() {
	for i := 0; i < len(s.clients); {
		c := s.clients[i]
		if c.c.Status() != conn.Connected && !c.gone {
			s.leave(c)
		}
		s.send(c)
		if c.c.Status().Closed() {
			if !c.gone {
				s.leave(c)
			}
			s.forget(c, &s.clients)
			continue
		}
		i++
	}
	for i := 0; i < len(s.pending); {
		c := s.pending[i]
		// A handshake with nothing to send only needs its timer looked
		// at now and then: a flood of half-open handshakes costs little.
		if c.c.QueuedBytes() == 0 && s.now.Before(c.nextPoll) {
			i++
			continue
		}
		c.nextPoll = s.now.Add(pendingPollEvery)
		s.send(c)
		if c.c.Status().Closed() {
			c.log.Debug("handshake not completed", "reason", c.c.Err())
			s.forget(c, &s.pending)
			continue
		}
		i++
	}
	s.tx.Flush()
	ws := s.tx.Stats()
	s.stats.DatagramsOut, s.stats.BytesOut, s.stats.SendErrors = ws.Datagrams, ws.Bytes, ws.Errors
}

// send polls a connection and queues the datagram it builds; flush sends
// the queue at the end.
func (s *Server) send(c *Client) {
	d := c.c.Poll(s.now, s.tx.Buffer())
	if d == nil {
		return
	}
	s.prof.sent(len(d))
	s.tx.Queue(d, c.addr)
}

// leave raises Disconnect for a connected client, once.
func (s *Server) leave(c *Client) {
	c.gone = true
	s.stats.Disconnects++
	reason := c.c.Err()
	switch {
	case errors.Is(reason, conn.ErrOverBudget):
		s.stats.OverBudget++
	case errors.Is(reason, conn.ErrOutOfWindow):
		s.stats.OutOfWindow++
	}
	if l, separate := s.ctx.access(); separate {
		l.Info("disconnect", "client", c.addr.String(), "token", c.Token(), "reason", errString(reason), "active", len(s.clients)-1)
		s.log.Info("client disconnected", "token", c.Token(), "reason", errString(reason))
	} else {
		c.log.Info("client disconnected", "reason", errString(reason), "active", len(s.clients)-1)
	}
	s.callDisconnect(c)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// forget closes a connection and removes it from its pool and the
// indexes.
func (s *Server) forget(c *Client, pool *[]*Client) {
	c.c.Close() // gives back what it held; nothing if it closed already
	removeAt(pool, c.index)
	delete(s.byAddr, c.addr)
	if s.byToken[c.Token()] == c {
		delete(s.byToken, c.Token())
	}
	s.retired.add(c.c)
}

// pendingPollEvery is how often a handshake with nothing to send is
// polled for its timeout.
const pendingPollEvery = 100 * time.Millisecond

// closeWait bounds how long a stopping server waits for its clients to
// acknowledge their DISCONNECT (the reference's clients never do).
const closeWait = 300 * time.Millisecond

// shutdown disconnects every client and raises the last events: Disconnect
// for each client, then Shutdown. For up to closeWait it keeps handling the
// network (not Update) so the DISCONNECTs go out, are resent if lost, and
// acknowledged.
func (s *Server) shutdown() {
	s.stopping = true
	s.now = time.Now()
	s.runPosted()
	for _, c := range s.clients {
		if c.c.Status() == conn.Connected {
			c.c.Disconnect(s.now)
		}
		if !c.gone {
			s.leave(c)
		}
	}
	deadline := s.now.Add(closeWait)
	for len(s.clients) > 0 {
		s.now = time.Now()
		s.receive()
		s.flush()
		if len(s.clients) == 0 || s.now.After(deadline) {
			break
		}
		time.Sleep(s.ctx.interval / 4)
	}
	for len(s.clients) > 0 {
		s.forget(s.clients[len(s.clients)-1], &s.clients)
	}
	for len(s.pending) > 0 {
		s.forget(s.pending[len(s.pending)-1], &s.pending)
	}
	s.proven.reset()
	s.queued.reset()
	clear(s.unproven)
	s.unproven = nil
	s.callShutdown()
	s.publish()
}

// dropLog logs a dropped datagram with its address, to the access log
// when there is one, at most a few lines a second.
func (s *Server) dropLog(what string, from netip.AddrPort, err error) {
	l, _ := s.ctx.access()
	if !l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	if ok, held := s.dropLim.allow(time.Now()); ok {
		l.Debug(what, "client", from.String(), "err", errString(err), "suppressed", held)
	}
}

// Handler calls, each protected against panics.

func (s *Server) recovered(c *Client, event string) {
	if r := recover(); r != nil {
		s.stats.HandlerPanics++
		if c != nil {
			// The client's logger lets a few lines a second through: a
			// client whose every message makes the handler panic cannot
			// flood the log.
			if c.log.Enabled(context.Background(), slog.LevelError) {
				c.log.Error("handler panicked", "event", event, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
			return
		}
		if ok, held := s.panicLim.allow(time.Now()); ok {
			s.log.Error("handler panicked", "event", event, "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "suppressed", held)
		}
	}
}

func (s *Server) callStarting() {
	defer s.recovered(nil, "Starting")
	s.ctx.handler.Starting()
}

func (s *Server) callConnect(c *Client) {
	defer s.recovered(c, "Connect")
	s.ctx.handler.Connect(c)
}

func (s *Server) callDisconnect(c *Client) {
	defer s.recovered(c, "Disconnect")
	s.ctx.handler.Disconnect(c)
}

func (s *Server) callHandleMessage(c *Client, seq protocol.Seq, msg []byte) {
	defer s.recovered(c, "HandleMessage")
	s.ctx.handler.HandleMessage(c, seq, msg)
}

func (s *Server) callUpdate(delta time.Duration) {
	defer s.recovered(nil, "Update")
	s.ctx.handler.Update(delta)
}

func (s *Server) callShutdown() {
	defer s.recovered(nil, "Shutdown")
	s.ctx.handler.Shutdown()
}

func (s *Server) callPosted(fn func()) {
	defer s.recovered(nil, "Post")
	fn()
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

// runPosted runs the functions given to Post.
func (s *Server) runPosted() {
	fns := s.post.take()
	if fns == nil {
		return
	}
	for _, fn := range fns {
		s.callPosted(fn)
	}
	s.post.done(fns)
}

// Close releases the sockets of a server that will not Run (Run closes
// them itself when it stops).
func (s *Server) Close() error {
	s.runMu.Lock()
	running := s.running
	s.running = true // a closed server cannot run
	s.runMu.Unlock()
	if running {
		s.Stop()
		return nil
	}
	for _, h := range s.http {
		h.ln.Close()
	}
	return s.sock.Close()
}
