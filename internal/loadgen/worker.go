package loadgen

import (
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo/rule"
	"github.com/mpgs/mpgameserver/internal/prefetch"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// A message starts with a marker ('G' asks the echo server for guaranteed
// delivery), the phase it was sent in, its sequence number and its send
// time in nanoseconds since the run started; the rest is a pattern derived
// from the sequence number, checked on the echo.
const (
	markPlain      = 'L'
	markGuaranteed = rule.Guaranteed
	headerSize     = 14
)

// frameSlots spreads the clients of a worker over the frame: a slot of
// them is served every frame/frameSlots.
const frameSlots = 8

// pollEvery is the longest a worker sleeps between two looks at its
// sockets: echoes are timed to within about this.
const pollEvery = 500 * time.Microsecond

type clientState uint8

const (
	stIdle       clientState = iota // waiting for its turn to connect
	stConnecting                    // handshake under way
	stConnected
	stClosing // DISCONNECT sent
	stDone    // closed, failed or never started
)

// client is one simulated client.
type client struct {
	idx     int // index in its worker
	id      int // index in the run
	c       *session.Conn
	state   clientState
	startAt time.Time
	nextMsg time.Time

	heard       bool     // a datagram came for it (the server answered)
	seq         uint32   // last message sent (the first is 1)
	firstSteady uint32   // first message sent in the steady phase, 0 until then
	base        uint32   // oldest message neither echoed nor counted lost
	echoed      []uint64 // bit seq%window: echo of seq received
}

// shared are a worker's counters read by the coordinator.
type shared struct {
	connected, failed, dropped, active   atomic.Int64
	rampSent, rampEchoed, rampLost       atomic.Uint64
	steadySent, steadyEchoed, steadyLost atomic.Uint64
	_                                    [64]byte // keep workers' counters on separate cache lines
}

// worker runs the frames of its clients and reads their sockets.
type worker struct {
	r       *run
	socks   sockets
	clients []*client
	slots   [frameSlots][]*client
	cfg     session.Config
	retry   conn.RetryMode
	mark    byte
	period  time.Duration // between two messages of a client
	window  uint32        // echo window in messages
	live    int           // clients connecting, connected or closing
	msg     []byte        // a message (its size; the one being sent)
	bare    bool          // Config.Bare: datagrams are the messages
	now     time.Time
	openErr error

	shared shared
	// owned by the worker goroutine, read after it ends
	failures                                    Failures
	rtt                                         histogram
	late, dups, corrupt, sendErrors, recvErrors uint64
	dgOut, dgIn                                 uint64
}

func newWorker(r *run, id int) (*worker, error) {
	cfg := &r.cfg
	n := cfg.Clients / cfg.Workers
	if id < cfg.Clients%cfg.Workers {
		n++
	}
	socks, err := newSockets(cfg, n)
	if err != nil {
		return nil, err
	}
	w := &worker{
		r:     r,
		socks: socks,
		cfg: session.Config{
			ServerKey:        cfg.ServerKey,
			SendInterval:     time.Second / time.Duration(cfg.FrameRate),
			HandshakeTimeout: cfg.HandshakeTimeout,
		},
		retry:  conn.RetryNone,
		mark:   markPlain,
		period: time.Duration(float64(time.Second) / cfg.Rate),
		msg:    make([]byte, cfg.Size),
		bare:   cfg.Bare,
	}
	if cfg.Guaranteed {
		w.retry, w.mark = conn.RetryOnTimeout, markGuaranteed
	}
	// The echo window covers EchoWindow's worth of messages: an echo
	// later than that is counted late and its message lost.
	words := max(1, int(math.Ceil(cfg.EchoWindow.Seconds()*cfg.Rate/64)))
	w.window = uint32(words * 64)
	w.clients = make([]*client, n)
	for i := range w.clients {
		k := id + i*cfg.Workers // clients are dealt out in turn
		c := &client{
			idx:     i,
			id:      k,
			startAt: r.start.Add(time.Duration(float64(k) / cfg.ConnectRate * float64(time.Second))),
			base:    1,
			echoed:  make([]uint64, words),
		}
		w.clients[i] = c
		w.slots[i%frameSlots] = append(w.slots[i%frameSlots], c)
	}
	return w, nil
}

// run serves the frames until the close phase ends.
func (w *worker) run() {
	frame := w.cfg.SendInterval
	slotLen := frame / frameSlots
	next := w.r.start
	slot := 0
	var closeAt time.Time
	for {
		now := time.Now()
		if now.Sub(next) > frame {
			next = now // overrun: do not run the missed slots back to back
		}
		for !now.Before(next) {
			w.serve(w.slots[slot], now)
			slot = (slot + 1) % frameSlots
			next = next.Add(slotLen)
		}
		if w.r.phase.Load() == phaseClose {
			if closeAt.IsZero() {
				closeAt = now
			}
			if w.live == 0 || now.Sub(closeAt) >= closeWait {
				w.abandon()
				return
			}
		}
		w.socks.wait(next, w.receive, w.ahead)
	}
}

// serve runs one frame of each client of a slot.
func (w *worker) serve(cs []*client, now time.Time) {
	w.now = now
	phase := w.r.phase.Load()
	for i, c := range cs {
		for d := 1; d <= aheadDepth && i+d < len(cs); d++ {
			prefetchClient(cs[i+d], d)
		}
		switch c.state {
		case stDone:
			continue
		case stIdle:
			if phase >= phaseDrain {
				c.state = stDone // never started
				continue
			}
			if now.Before(c.startAt) {
				continue
			}
			if !w.connect(c, now) {
				continue
			}
		case stConnected:
			switch {
			case phase <= phaseSteady:
				w.queue(c, now, phase)
			case phase == phaseClose && w.bare:
				// Nothing to close but the socket.
				w.shared.active.Add(-1)
				w.finish(c)
				continue
			case phase == phaseClose:
				w.settleAll(c)
				c.c.Disconnect(now)
				c.state = stClosing
			}
		case stConnecting:
			if phase == phaseClose {
				w.finish(c) // abandoned handshake: not counted as failed
				continue
			}
		}
		if w.bare {
			continue
		}
		// As many datagrams as the connection's window allows (a large
		// --size), one for ordinary echoes.
		for i := 0; i < maxSendsPerTick; i++ {
			d := c.c.Poll(now, w.socks.buffer())
			if d == nil {
				break
			}
			w.write(c, d, phase)
		}
		w.check(c, now)
	}
	w.socks.flush()
}

// maxSendsPerTick bounds the datagrams one client sends in a tick.
const maxSendsPerTick = 256

// connect opens a client's socket and starts its handshake.
func (w *worker) connect(c *client, now time.Time) bool {
	if err := w.socks.open(c.idx); err != nil {
		if w.openErr == nil {
			w.openErr = err
			w.r.cfg.Logger.Error("loadgen: cannot open a socket", "err", err)
		}
		c.state = stDone
		w.shared.failed.Add(1)
		w.failures.Socket++
		return false
	}
	if w.bare {
		// No handshake: the client is connected once its socket is.
		c.state = stConnected
		w.live++
		w.shared.connected.Add(1)
		w.shared.active.Add(1)
		w.spread(c, now)
		return true
	}
	cc, err := session.NewClient(&w.cfg, now)
	if err != nil {
		w.socks.shut(c.idx)
		if w.openErr == nil {
			w.openErr = err
		}
		c.state = stDone
		w.shared.failed.Add(1)
		w.failures.Socket++
		return false
	}
	cc.SetHandler(func(_ protocol.Seq, msg []byte) { w.echo(c, msg) })
	c.c = cc
	c.state = stConnecting
	w.live++
	return true
}

// queue sends the messages that are due.
func (w *worker) queue(c *client, now time.Time, phase int32) {
	if now.Sub(c.nextMsg) > time.Second {
		c.nextMsg = now // the worker stalled: do not send a burst
	}
	for !now.Before(c.nextMsg) {
		seq := c.seq + 1
		if seq-c.base >= w.window {
			w.settle(c)
		}
		sentAt := uint64(now.Sub(w.r.start))
		if w.bare {
			// The message is the datagram, built in the socket's buffer.
			d := w.socks.buffer()[:len(w.msg)]
			fillMessage(d, w.mark, byte(phase), seq, sentAt)
			w.write(c, d, phase)
		} else {
			fillMessage(w.msg, w.mark, byte(phase), seq, sentAt)
			if err := c.c.Send(w.msg, w.retry, nil); err != nil {
				w.sendErrors++
				c.nextMsg = c.nextMsg.Add(w.period)
				continue
			}
		}
		c.seq = seq
		if phase == phaseSteady {
			if c.firstSteady == 0 {
				c.firstSteady = seq
			}
			w.shared.steadySent.Add(1)
		} else {
			w.shared.rampSent.Add(1)
		}
		c.nextMsg = c.nextMsg.Add(w.period)
	}
}

func (w *worker) write(c *client, d []byte, phase int32) {
	w.socks.write(c.idx, d)
	if phase == phaseSteady {
		w.dgOut++
	}
}

// check follows a client's connection through its states.
func (w *worker) check(c *client, now time.Time) {
	st := c.c.Status()
	switch {
	case c.state == stConnecting && st == conn.Connected:
		c.state = stConnected
		w.shared.connected.Add(1)
		w.shared.active.Add(1)
		w.spread(c, now)
	case st.Closed():
		switch c.state {
		case stConnecting:
			w.shared.failed.Add(1)
			w.failures.add(c.c.Err(), c.heard, w.socks.refused(c.idx))
			w.r.cfg.Logger.Debug("loadgen: handshake failed", "client", c.id, "err", c.c.Err())
		case stConnected:
			w.shared.dropped.Add(1)
			w.shared.active.Add(-1)
			w.r.cfg.Logger.Warn("loadgen: connection lost", "client", c.id, "err", c.c.Err())
		case stClosing:
			w.shared.active.Add(-1)
		}
		w.finish(c)
	}
}

// spread sets a newly connected client's first message time: the clients'
// messages are spread over the period.
func (w *worker) spread(c *client, now time.Time) {
	frac := math.Mod(float64(c.id)*0.6180339887, 1)
	c.nextMsg = now.Add(time.Duration(frac * float64(w.period)))
}

// finish closes a client's socket and settles its messages.
func (w *worker) finish(c *client) {
	w.settleAll(c)
	w.socks.shut(c.idx)
	c.c = nil
	c.state = stDone
	w.live--
}

// abandon ends the clients still open when the close phase times out.
func (w *worker) abandon() {
	for _, c := range w.clients {
		if c.state == stConnected || c.state == stClosing {
			w.shared.active.Add(-1)
		}
		if c.c != nil {
			c.c.Close()
			w.finish(c)
		}
	}
}

// A worker visits thousands of clients a frame, as a server visits its
// peers, and their state leaves the caches between two visits. Like the
// server (server/prefetch.go), a worker tells the CPU which clients come
// next, in steps a visit apart: aheadDepth visits ahead the client's
// struct, then its connection's steps (session.Conn.PrefetchStep). The
// generator then costs less per echo, so that it can load a server harder
// from one core. Prefetches are hints: they change no result.
const aheadDepth = session.PrefetchSteps + 1

// prefetchClient takes the step for c, d visits ahead of its turn
// (1 ≤ d ≤ aheadDepth).
func prefetchClient(c *client, d int) {
	if d == aheadDepth {
		prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c))
		return
	}
	if c.c == nil {
		return
	}
	c.c.PrefetchStep(session.PrefetchSteps-d, session.Both)
	if d == 1 {
		prefetch.Bytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c.echoed))), min(len(c.echoed)*8, prefetch.LineSize)))
	}
}

// ahead takes the prefetch step for client idx, whose datagram comes d
// datagrams after the one being handled.
func (w *worker) ahead(idx, d int) { prefetchClient(w.clients[idx], d) }

// receive hands a datagram to its client.
func (w *worker) receive(idx int, b []byte, now time.Time) {
	c := w.clients[idx]
	if w.bare {
		if c.state != stConnected {
			return
		}
		w.now = now
		if w.r.phase.Load() == phaseSteady {
			w.dgIn++
		}
		w.echo(c, b)
		return
	}
	if c.c == nil {
		return
	}
	w.now = now
	c.heard = true
	if w.r.phase.Load() == phaseSteady {
		w.dgIn++
	}
	if err := c.c.Receive(now, b); err != nil && !errors.Is(err, conn.ErrDuplicate) {
		w.recvErrors++
	}
	if d := c.c.PollAck(now, w.socks.buffer()); d != nil {
		w.write(c, d, w.r.phase.Load())
	}
	if c.state == stConnecting {
		w.check(c, now)
	}
}

// echo matches an echoed message with what the client sent.
func (w *worker) echo(c *client, msg []byte) {
	mark, phase, seq, sentAt, ok := parseMessage(msg)
	if !ok || len(msg) != len(w.msg) || mark != w.mark || seq == 0 || seq > c.seq {
		w.corrupt++
		return
	}
	if seq < c.base {
		w.late++ // already counted lost
		return
	}
	word, bit := (seq%w.window)/64, uint64(1)<<(seq%64)
	if c.echoed[word]&bit != 0 {
		w.dups++
		return
	}
	c.echoed[word] |= bit
	if phase == byte(phaseSteady) {
		w.shared.steadyEchoed.Add(1)
		w.rtt.record(w.now.Sub(w.r.start) - time.Duration(sentAt))
	} else {
		w.shared.rampEchoed.Add(1)
	}
}

// settle closes the account of the oldest open message: echoed, or lost.
func (w *worker) settle(c *client) {
	seq := c.base
	word, bit := (seq%w.window)/64, uint64(1)<<(seq%64)
	if c.echoed[word]&bit != 0 {
		c.echoed[word] &^= bit
	} else if c.firstSteady != 0 && seq >= c.firstSteady {
		w.shared.steadyLost.Add(1)
	} else {
		w.shared.rampLost.Add(1)
	}
	c.base++
}

func (w *worker) settleAll(c *client) {
	for c.base <= c.seq {
		w.settle(c)
	}
}

// fillMessage writes a message into b (all of it).
func fillMessage(b []byte, mark, phase byte, seq uint32, sentAt uint64) {
	b[0], b[1] = mark, phase
	binary.BigEndian.PutUint32(b[2:], seq)
	binary.BigEndian.PutUint64(b[6:], sentAt)
	for i := headerSize; i < len(b); i++ {
		b[i] = pattern(seq, i)
	}
}

func pattern(seq uint32, i int) byte { return byte(seq*31 + uint32(i)) }

// parseMessage reads a message written by fillMessage; ok is false when
// it is too short or its pattern is wrong.
func parseMessage(b []byte) (mark, phase byte, seq uint32, sentAt uint64, ok bool) {
	if len(b) < headerSize {
		return 0, 0, 0, 0, false
	}
	seq = binary.BigEndian.Uint32(b[2:])
	for i := headerSize; i < len(b); i++ {
		if b[i] != pattern(seq, i) {
			return 0, 0, 0, 0, false
		}
	}
	return b[0], b[1], seq, binary.BigEndian.Uint64(b[6:]), true
}
