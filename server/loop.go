package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/dgram"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// filter drops, before they are copied anywhere, datagrams from blocked
// addresses and datagrams that cannot be ours: a bad magic or direction,
// an unknown type, a length field the datagram cannot hold, a hello of
// the wrong size.
func (s *Server) filter(from netip.AddrPort, b []byte) dgram.Verdict {
	if s.Blocked(from.Addr()) {
		return dgram.Blocked
	}
	if len(b) < protocol.HeaderSize || b[0] != 'F' || b[1] != 'S' || b[2] != 'O' || b[3] != byte(protocol.ToServer) {
		return dgram.Junk
	}
	typ := protocol.PacketType(b[12])
	length := int(b[13])<<8 | int(b[14])
	trailer := protocol.TagSize
	switch {
	case typ == protocol.TypeClientHello:
		if length != 2+protocol.ClientHelloBodySize || b[15] != 1 {
			return dgram.Junk
		}
		trailer = protocol.CRCSize
	case typ == protocol.TypeUnknown || typ == protocol.TypeServerHello || !typ.Valid():
		return dgram.Junk
	}
	if len(b) < protocol.HeaderSize+length+trailer {
		return dgram.Junk
	}
	return dgram.Pass
}

func (s *Server) sendFailed(to netip.AddrPort, err error) { s.dropLog("send failed", to, err) }

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

// catchUpTicks is how far behind its schedule, in ticks, the loop still
// catches up by running ticks back to back.
const catchUpTicks = 4

// loop runs ticks until a stop is asked.
func (s *Server) loop(ctx context.Context) {
	interval := s.cfg.Interval
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
		if s.prof.begin(start) {
			s.publish()
			s.recordSnapshot()
		}
		s.runPosted()
		s.receive()
		t1 := time.Now()
		s.now = t1
		s.callUpdate(t1.Sub(last))
		last = t1
		t2 := time.Now()
		s.now = t2
		s.network()
		s.gatherRows(s.rowsPerTick())
		t3 := time.Now()
		busy := t3.Sub(start)
		if busy > interval {
			s.stats.LateTicks++
		}
		s.stats.TickTimes.observe(&tickBounds, busy)

		// Sleep until the next tick on a fixed schedule. A tick that ran
		// late is made up by starting the next ones at once until the
		// schedule is met, so that long ticks here and there cost no tick
		// while the ticks fit on average; more than catchUpTicks behind (a
		// stall), start again from now rather than running a long burst of
		// ticks back to back.
		next = next.Add(interval)
		if !s.wait(ctx, timer, next) {
			return
		}
		if d := time.Since(next); d > catchUpTicks*interval {
			next = time.Now()
		}
		s.prof.end(Phases{Messages: t1.Sub(start), Update: t2.Sub(t1), Network: t3.Sub(t2), Idle: time.Since(t3)}, &s.stats)
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
		s.route(&batch[i], s.routeAhead(batch, i))
	}
	s.ahead = lookahead{}
	s.settle(time.Now())
	s.rx.Recycle(batch)
	s.handshakes()
}

// route hands one datagram to its connection (SPEC §13): connected clients
// get everything, within their share of the tick; clients in the
// handshake only a CHALLENGE_RESP or a repeated CLIENT_HELLO; unknown
// addresses only a CLIENT_HELLO, which starts a handshake. Nothing else
// gets an answer. found is d's peer if the lookahead found it (nil: look
// it up).
func (s *Server) route(d *dgram.Datagram, found *Peer) {
	b := d.Data
	s.stats.DatagramsIn++
	s.stats.BytesIn += uint64(len(b))
	s.prof.recv(len(b))
	h, err := protocol.ParseHeaderFrom(b, protocol.ToServer)
	if err != nil {
		s.stats.BadHeader++
		s.dropLog("unparseable datagram", d.From, err)
		return
	}
	p := found
	if p == nil {
		p = s.byAddr.get(d.From)
	}
	switch {
	case p != nil && (!p.pending || h.Type == protocol.TypeChallengeResp || h.Type == protocol.TypeClientHello):
		start := time.Now()
		s.settle(start)
		if !s.admit(p) {
			return
		}
		s.receiveFrom(p, &h, b, start)
	case p != nil:
		s.stats.Unexpected++
	case s.stopping:
		s.stats.Unexpected++ // no new clients while stopping
	case h.Type != protocol.TypeClientHello:
		if id, ok := protocol.Trailer(b, &h); ok && s.migrating(d.From, id, b) {
			return
		}
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
func (s *Server) admit(p *Peer) bool {
	p.beginTick(s.tickNo)
	if len(p.backlog) > 0 || p.tickDgram >= s.cfg.ClientDatagrams || p.tickMsgs >= s.cfg.ClientMessages || p.tickTime >= s.cfg.Interval/clientTimeShare {
		p.throttled++
		s.stats.Throttled++
		return false
	}
	p.tickDgram++
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
func (s *Server) hold(p *Peer, seq conn.Seq, msg []byte) {
	if len(p.backlog) >= maxClientBacklog || p.backlogBytes+len(msg) > maxClientBacklogBytes || s.backlogBytes+len(msg) > maxBacklogBytes {
		s.stats.ThrottledMessages++
		return
	}
	p.backlog = append(p.backlog, heldMessage{seq: seq, data: bytes.Clone(msg)})
	p.backlogBytes += len(msg)
	s.backlogBytes += len(msg)
	if !p.backlogged {
		p.backlogged = true
		s.backlogged = append(s.backlogged, p)
	}
}

// runBacklogs hands each client's held messages to the handler, within
// its share of this tick. Only clients with a backlog are visited.
func (s *Server) runBacklogs() {
	for i := 0; i < len(s.backlogged); {
		p := s.backlogged[i]
		if !p.gone && p.conn.Status() == conn.Connected {
			p.beginTick(s.tickNo)
			start := time.Now()
			p.dgramStart = start
			k := 0
			for ; k < len(p.backlog) && !p.overShare(k); k++ {
				m := p.backlog[k]
				p.tickMsgs++
				s.callHandleMessage(p, m.seq, m.data)
				p.backlogBytes -= len(m.data)
				s.backlogBytes -= len(m.data)
			}
			p.tickTime += time.Since(start)
			n := copy(p.backlog, p.backlog[k:])
			clear(p.backlog[n:])
			p.backlog = p.backlog[:n]
			if n > 0 {
				i++
				continue
			}
		}
		s.backlogBytes -= p.backlogBytes
		p.backlog, p.backlogBytes, p.backlogged = nil, 0, false
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

// receiveFrom hands a datagram that arrived from p, whose header route
// parsed as h, to its connection. The
// time it takes is charged to p's share of the tick when the next
// datagram starts, or at the end of the batch (settle): one clock read a
// datagram.
func (s *Server) receiveFrom(p *Peer, h *protocol.Header, b []byte, start time.Time) {
	p.dgramStart, p.dgramMsgs = start, 0
	s.charging = p
	touched := p.visiting
	err := p.conn.ReceiveParsed(s.now, *h, b) // route parsed its header
	if !s.replyNow(p, touched) {
		s.touch(p)
		if p.conn.AckNeeded() {
			// Many packets came in a row (a bulk upload): ack them before
			// the ack field can no longer report them all.
			s.queue(p, p.conn.PollAck(s.now, s.tx.Buffer()))
		}
	}
	if err != nil && !errors.Is(err, conn.ErrDuplicate) {
		p.log.Debug("datagram refused", "err", err)
	}
	if p.path.move != nil && p.conn.PathValidated() { // (a session never challenged has nothing to clear)
		// The answer to a challenge came from where the client was: it
		// did not move.
		p.path.move.addr = netip.AddrPort{}
	}
	if p.pending && p.conn.Status() == conn.Connected {
		s.promote(p)
	}
}

// replyNow polls a connected client's connection right after its
// datagram (unless Config.CoalesceReplies), while its state is in the
// caches: what the handler sent in answer leaves now, with the ack. A
// client that was touched before this datagram (the game sent to it, or
// an earlier datagram left something to send) waits for the network
// phase, as one its handler's answer did not fit goes back there. It
// reports whether the connection was polled.
func (s *Server) replyNow(p *Peer, touched bool) bool {
	if s.cfg.CoalesceReplies || touched || p.pending || p.conn.Status() != conn.Connected {
		return false
	}
	if p.visiting {
		// The handler's Send touched p: it is the latest touched (an
		// answer to another client comes before it, and then p waits).
		last := len(s.touched) - 1
		if last < 0 || s.touched[last] != p {
			return false
		}
		s.touched[last] = nil
		s.touched = s.touched[:last]
		p.visiting = false
	}
	s.stats.Polls++
	s.send(p)
	if p.conn.WantsToSend() || p.conn.Status() != conn.Connected {
		s.touch(p) // more than a datagram, or a close: the network phase goes on
		return true
	}
	s.schedule(p)
	return true
}

// settle charges the client whose datagram was handled last with the
// time until now.
func (s *Server) settle(now time.Time) {
	if p := s.charging; p != nil {
		p.tickTime += now.Sub(p.dgramStart)
		s.charging = nil
	}
}

// promote moves a client that completed the handshake to the connected
// pool and raises Connect. It reports false, and disconnects the client,
// when its host holds its share of sessions already.
func (s *Server) promote(p *Peer) bool {
	if !p.pending {
		return true
	}
	if p.refused {
		return false
	}
	if s.hosts.full(p.addr) {
		p.refused = true
		s.stats.HostLimited++
		s.dropLog("the client's host holds its share of sessions", p.addr, nil)
		p.conn.Disconnect(s.now)
		return false
	}
	s.hosts.add(p.addr, true, -1)
	s.hosts.add(p.addr, false, 1)
	removeAt(&s.pending, p.index)
	p.pending = false
	p.index = len(s.peers)
	s.peers = append(s.peers, p)
	p.announced = true
	s.touch(p)
	s.stats.Connects++
	if l, separate := s.access(); separate {
		l.Info("connect", "client", p.addr.String(), "token", p.Token(), "active", len(s.peers))
		s.log.Info("client connected", "token", p.Token(), "active", len(s.peers))
	} else {
		p.log.Info("client connected", "active", len(s.peers))
	}
	if s.peerConn != nil {
		s.peerConn.SessionOpened(p.addr)
	}
	s.callConnect(p)
	return true
}

// removeAt deletes element i of a pool by moving the last one into its
// place.
func removeAt(pool *[]*Peer, i int) {
	p := *pool
	last := len(p) - 1
	if i != last {
		p[i] = p[last]
		p[i].index = i
	}
	p[last] = nil
	*pool = p[:last]
}

// network is the tick's network phase: every connection runs its timers
// and sends what is due, clients that left get Disconnect, closed
// connections are forgotten.
func (s *Server) network() {
	s.pollPeers()
	s.pollPending()
	s.tx.Flush()
}

// pollPeers runs the connected peers' timers and sends; a peer that left
// gets Disconnect, once, and is forgotten once closed. Every peer sends
// its first datagram of the tick (its small messages, acks, keep-alives)
// before any sends a second; then the peers with more to send (bulk, as
// their congestion windows allow) take turns, one datagram each, within
// the tick's sending time.
func (s *Server) pollPeers() {
	more := s.more[:0]
	due := s.due()
	s.stats.Polls += uint64(len(due))
	for i, p := range due {
		pollAhead(due, i)
		p.visiting = false
		if p.conn.Status() != conn.Connected && !p.gone {
			s.leave(p)
		}
		s.send(p)
		if p.conn.Status().Closed() {
			if !p.gone {
				s.leave(p)
			}
			s.forget(p, &s.peers)
			continue
		}
		if p.conn.WantsToSend() {
			more = append(more, p)
		}
		s.schedule(p)
	}
	s.sendMore(more)
	clear(more)
	s.more = more[:0]
	clear(s.visit)
}

// wheelSlots is the span of the timer wheel, in ticks (over two seconds
// at 60 Hz): a connection due later is polled at the end of the span.
const wheelSlots = 128

// touch makes a connected peer polled at this tick's network phase, even
// if its timers say nothing is due: a datagram came from it, or the game
// queued a message for it.
func (s *Server) touch(p *Peer) {
	if p.visiting || p.pending {
		return
	}
	p.visiting = true
	s.touched = append(s.touched, p)
}

// due returns the peers to poll this tick: those whose time came on the
// timer wheel and those touched since the last network phase. A tick
// visits only connections with work, not every one.
func (s *Server) due() []*Peer {
	slot := &s.wheel[s.tickNo%wheelSlots]
	for p := *slot; p != nil; {
		next := p.wheelNext
		if p.dueTick <= s.tickNo {
			s.unlink(p)
			s.touch(p)
		}
		p = next
	}
	ps := s.touched
	s.touched, s.visit = s.visit[:0], ps // the list of the last tick is done with
	return ps
}

// schedule puts p on the timer wheel at the tick its connection is next
// due, never this one and at most the wheel's span away. The wheel's
// slots are lists through the peers: no memory beyond the peers'.
func (s *Server) schedule(p *Peer) {
	ticks := uint64(1)
	if d := p.conn.DueIn(); d > s.cfg.Interval { // from its Poll at s.now
		ticks = min(uint64((d+s.cfg.Interval-1)/s.cfg.Interval), wheelSlots-1)
	}
	s.unlink(p)
	p.dueTick = s.tickNo + ticks
	slot := &s.wheel[p.dueTick%wheelSlots]
	p.wheelNext = *slot
	if *slot != nil {
		(*slot).wheelPrev = p
	}
	*slot = p
}

// unlink takes p off the timer wheel.
func (s *Server) unlink(p *Peer) {
	if p.dueTick == 0 {
		return
	}
	if p.wheelPrev != nil {
		p.wheelPrev.wheelNext = p.wheelNext
	} else {
		s.wheel[p.dueTick%wheelSlots] = p.wheelNext
	}
	if p.wheelNext != nil {
		p.wheelNext.wheelPrev = p.wheelPrev
	}
	p.wheelPrev, p.wheelNext, p.dueTick = nil, nil, 0
}

// Bounds of the datagrams sent beyond each peer's first in a tick.
const (
	// maxPeerSends is the most datagrams one peer sends in a tick.
	maxPeerSends = 256
	// sendShare is the fraction of the tick that extra datagrams may take.
	sendShare = 4
)

// sendMore lets the peers in more send further datagrams in turns, one
// each per turn, until none has more, each reached maxPeerSends, or the
// tick's share of time for it is spent.
func (s *Server) sendMore(more []*Peer) {
	if len(more) == 0 {
		return
	}
	deadline := s.now.Add(s.cfg.Interval / sendShare)
	for turn := 1; turn < maxPeerSends && len(more) > 0; turn++ {
		w := 0
		for _, p := range more {
			d := p.conn.Poll(s.now, s.tx.Buffer())
			if d == nil {
				continue
			}
			s.queue(p, d)
			if p.conn.WantsToSend() {
				more[w] = p
				w++
			}
		}
		more = more[:w]
		if turn%8 == 0 && time.Now().After(deadline) {
			return
		}
	}
}

// pollPending runs the timers of the handshakes under way and sends their
// hellos.
func (s *Server) pollPending() {
	for i := 0; i < len(s.pending); {
		p := s.pending[i]
		// A handshake with nothing to send only needs its timer looked
		// at now and then: a flood of half-open handshakes costs little.
		if p.conn.QueuedBytes() == 0 && s.now.Before(p.nextPoll) {
			i++
			continue
		}
		p.nextPoll = s.now.Add(pendingPollEvery)
		s.send(p)
		if p.conn.Status().Closed() {
			p.log.Debug("handshake not completed", "reason", p.conn.Err())
			s.forget(p, &s.pending)
			continue
		}
		i++
	}
}

// send polls a connection and queues the datagram it builds; the network
// phase sends the queue at its end.
func (s *Server) send(p *Peer) { s.queue(p, p.conn.Poll(s.now, s.tx.Buffer())) }

// queue queues a datagram built for p, if any.
func (s *Server) queue(p *Peer, d []byte) {
	if d == nil {
		return
	}
	s.prof.sent(len(d))
	s.tx.Queue(d, p.addr)
}

// leave raises Disconnect for a connected client, once.
func (s *Server) leave(p *Peer) {
	p.gone = true
	s.left++
	active := len(s.peers) - s.left
	s.stats.Disconnects++
	reason := p.conn.Err()
	why := LeftOther
	switch {
	case errors.Is(reason, conn.ErrOverBudget):
		s.stats.OverBudget++
	case errors.Is(reason, conn.ErrOutOfWindow):
		s.stats.OutOfWindow++
	case errors.Is(reason, conn.ErrTimeout):
		s.stats.TimedOut++
		why = LeftTimedOut
	case errors.Is(reason, conn.ErrPeerClosed):
		s.stats.ClientClosed++
		why = LeftClientClosed
	case errors.Is(reason, conn.ErrLocalClose):
		s.stats.ServerClosed++
		why = LeftServerClosed
	default:
		s.stats.OtherDisconnects++
	}
	if l, separate := s.access(); separate {
		l.Info("disconnect", "client", p.addr.String(), "token", p.Token(), "reason", errString(reason), "active", active)
		s.log.Info("client disconnected", "token", p.Token(), "reason", errString(reason))
	} else {
		p.log.Info("client disconnected", "reason", errString(reason), "active", active)
	}
	s.callDisconnect(p, why)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// forget closes a connection and removes it from its pool and the
// indexes.
func (s *Server) forget(p *Peer, pool *[]*Peer) {
	p.conn.Close() // gives back what it held; nothing if it closed already
	if pool == &s.peers {
		if p.gone {
			s.left--
		}
		s.dropRow(p)
	}
	removeAt(pool, p.index)
	s.unlink(p)
	p.visiting = true // never touched again
	s.byAddr.delete(p.addr)
	s.hosts.add(p.addr, p.pending, -1)
	if s.peerConn != nil {
		s.peerConn.SessionClosed(p.addr)
	}
	if s.byToken[p.Token()] == p {
		delete(s.byToken, p.Token())
	}
	s.forgetPathID(p)
	cs := p.conn.Stats()
	s.retired.add(&cs)
	p.data = nil
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
	for _, p := range s.peers {
		if p.conn.Status() == conn.Connected {
			p.conn.Disconnect(s.now)
		}
		if !p.gone {
			s.leave(p)
			s.watch.beat(time.Now())
		}
	}
	deadline := s.now.Add(closeWait)
	for len(s.peers) > 0 {
		s.now = time.Now()
		s.tickNo++
		for _, p := range s.peers {
			s.touch(p) // every goodbye is polled until done
		}
		s.watch.beat(s.now) // saying goodbye is progress, not a stall
		s.receive()
		s.network()
		if len(s.peers) == 0 || s.now.After(deadline) {
			break
		}
		time.Sleep(s.cfg.Interval / 4)
	}
	for len(s.peers) > 0 {
		s.forget(s.peers[len(s.peers)-1], &s.peers)
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
	l, _ := s.access()
	if !l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	if ok, held := s.dropLim.allow(time.Now()); ok {
		l.Debug(what, "client", from.String(), "err", errString(err), "suppressed", held)
	}
}

// Handler calls, each protected against panics.

func (s *Server) recovered(p *Peer, event string) {
	if r := recover(); r != nil {
		s.stats.HandlerPanics++
		if p != nil {
			// The client's logger lets a few lines a second through: a
			// client whose every message makes the handler panic cannot
			// flood the log.
			if p.log.Enabled(context.Background(), slog.LevelError) {
				p.log.Error("handler panicked", "event", event, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
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
	s.cfg.Handler.Starting()
}

func (s *Server) callConnect(p *Peer) {
	if r := s.cfg.Recorder; r != nil {
		r.Connect(s.now, p.Token(), p.addr)
	}
	defer s.recovered(p, "Connect")
	s.cfg.Handler.Connect(p)
}

func (s *Server) callDisconnect(p *Peer, reason DisconnectReason) {
	if r := s.cfg.Recorder; r != nil {
		r.Disconnect(s.now, p.Token(), reason)
	}
	defer s.recovered(p, "Disconnect")
	s.cfg.Handler.Disconnect(p)
}

func (s *Server) callHandleMessage(p *Peer, seq conn.Seq, msg []byte) {
	if r := s.cfg.Recorder; r != nil {
		r.Message(s.now, p.Token(), msg)
	}
	defer s.recovered(p, "HandleMessage")
	s.cfg.Handler.HandleMessage(p, seq, msg)
}

func (s *Server) callUpdate(delta time.Duration) {
	r := s.cfg.Recorder
	if r != nil {
		r.Tick(s.now, s.tickNo, delta)
	}
	s.update(delta)
	if c, ok := s.cfg.Handler.(Checksummer); ok && r != nil {
		s.callChecksum(r, c)
	}
}

func (s *Server) update(delta time.Duration) {
	defer s.recovered(nil, "Update")
	s.cfg.Handler.Update(delta)
}

// recordSnapshot gives a SnapshotRecorder the snapshot just published.
func (s *Server) recordSnapshot() {
	if r, ok := s.cfg.Recorder.(SnapshotRecorder); ok {
		defer s.recovered(nil, "RecordSnapshot")
		r.RecordSnapshot(s.now, &s.pub) // only this goroutine writes s.pub
	}
}

func (s *Server) callChecksum(r Recorder, c Checksummer) {
	defer s.recovered(nil, "Checksum")
	r.Checksum(s.now, s.tickNo, c.Checksum())
}

func (s *Server) callShutdown() {
	defer s.recovered(nil, "Shutdown")
	s.cfg.Handler.Shutdown()
}

func (s *Server) callPosted(fn func()) {
	defer s.recovered(nil, "Post")
	fn()
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

// access returns the logger for lines with client addresses and whether
// it is the separate access log.
func (s *Server) access() (*slog.Logger, bool) {
	if s.cfg.AccessLog != nil {
		return s.cfg.AccessLog, true
	}
	return s.log, false
}
