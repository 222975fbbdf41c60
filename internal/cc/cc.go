// Package cc is the congestion controller of one connection's sender: it
// says how many bytes may be in flight, from a model of the path built
// out of the acks the connection already receives.
//
// The model is BBR's (Cardwell et al., "BBR: Congestion-Based Congestion
// Control", ACM Queue 2016): the bottleneck bandwidth is the largest
// delivery rate measured over the last ten round trips, the propagation
// delay the smallest round trip of the last ten seconds, and the window
// twice their product. A queue that builds at a bottleneck raises the
// round trip but not the delivery rate, so the window stops growing once
// the queue holds one bandwidth-delay product: the sender backs off on
// delay. Random loss, which a game's Wi-Fi or mobile link has plenty of,
// does not shrink the window as it would Reno's or CUBIC's (at 2% loss
// they hold about nine packets in flight); a round trip that loses more
// than a tenth of what it sent caps the window at 0.7 of the window
// (BBRv2's inflight_hi), which is the back-off on loss; the cap rises again
// by an eighth a round trip while losses stay low.
//
// The phases are BBR's: a startup that doubles the window each round trip
// until the bandwidth stops growing, a drain of the queue it built, then
// the cruise; every ten seconds without a new minimum round trip, four
// packets in flight for 200 ms measure the path's delay again. The sender
// does not pace (it sends on its game's ticks), so the window alone bounds
// the queue.
//
// A Controller does no I/O and reads no clock: every method takes now. It
// is not safe for concurrent use.
package cc

import (
	"time"
	"unsafe"
)

// Tuning, in the units of the BBR paper where it has them.
const (
	// MinWindowPackets is the smallest window, in packets.
	MinWindowPackets = 4
	// InitialWindowPackets is the window of a new connection, in packets.
	InitialWindowPackets = 16
	// bwRounds is how many round trips the bandwidth filter remembers.
	bwRounds = 10
	// minRTTWindow is how long a minimum round trip is trusted.
	minRTTWindow = 10 * time.Second
	// fullPipeGrowth and fullPipeRounds end the startup: three round
	// trips in which the bandwidth grew by less than a quarter.
	fullPipeGrowth = 1.25
	fullPipeRounds = 3
	// windowGain: the window is this many bandwidth-delay products.
	windowGain = 2
	// lossThreshold (a tenth) of a round trip's packets lost caps the
	// window at lossBeta of what was in flight.
	lossThreshold = 0.1
	lossBeta      = 0.7
)

// Packet is what the controller keeps about one packet sent: the sender
// stores it with the packet and hands it back on its ack or loss.
type Packet struct {
	sentAt      int64 // nanoseconds since the controller's epoch, as the times below
	deliveredAt int64 // when delivered was
	firstSentAt int64 // send time of the packet acked last when it was sent
	delivered   int64 // bytes delivered when it was sent
	size        int32
	appLimited  bool
	inFlight    bool
}

// SentAt returns when p was sent.
func (c *Controller) SentAt(p *Packet) time.Time { return c.epoch.Add(time.Duration(p.sentAt)) }

// InFlight reports whether p counts as in flight: sent, and neither
// acknowledged nor declared lost.
func (p *Packet) InFlight() bool { return p.inFlight }

// Controller is one sender's congestion controller. The zero value is not
// ready: use New.
type Controller struct {
	// What every OnSent and OnAck reads comes first (HotBytes): an owner
	// with many controllers can prefetch it alone.
	mss        int
	maxPackets int
	window     int // bytes

	inflight     int // bytes in flight
	inflightPkts int

	epoch       time.Time // the first send: packet times count from it
	delivered   int64     // bytes acknowledged so far
	deliveredAt int64     // nanoseconds since epoch
	firstSentAt int64
	appLimited  int64 // while > 0: the delivered count that ends the app-limited period

	round     int64   // round trips counted
	nextRound int64   // delivered count at which the next round starts
	maxBW     float64 // the largest of bw
	minRTT    time.Duration
	minRTTAt  int64 // nanoseconds since epoch

	roundLost  int // bytes lost in this round
	roundAcked int
	hi         int // bytes; the loss cap, 0 when there is none
	probeMin   time.Duration
	state      state
	bwSampled  bool // this round measured it

	// Read once a round, or less often.
	bw         [bwRounds]float64
	quantum    time.Duration // the ends' tick
	fullBW     float64
	fullCount  int
	bwRound    int64 // rounds that measured the path (not app-limited)
	probeUntil int64 // ProbeRTT ends, in nanoseconds since epoch: 0 until the window is drained
	probeRound int64
}

// HotBytes is how many bytes from its start a Controller's OnSent and
// OnAck read on their common path.
const HotBytes = unsafe.Offsetof(Controller{}.bw)

// New returns a controller for packets of up to mss bytes that never lets
// more than maxPackets be in flight.
func New(mss, maxPackets int) *Controller {
	c := &Controller{}
	c.Init(mss, maxPackets)
	return c
}

// Init makes c a new controller, as New does, in place.
func (c *Controller) Init(mss, maxPackets int) {
	*c = Controller{mss: mss}
	c.SetMaxPackets(maxPackets)
	c.window = min(InitialWindowPackets, c.maxPackets) * mss
}

// SetMaxPackets changes the most packets in flight (at least
// MinWindowPackets).
func (c *Controller) SetMaxPackets(n int) {
	c.maxPackets = max(n, MinWindowPackets)
	c.window = min(c.window, c.maxPackets*c.mss)
}

// SetQuantum tells the controller that the sender and its peer act on
// ticks this long (a game's frame, a server's tick) rather than the moment
// a datagram arrives: an ack can wait up to a tick at each end, so the
// window keeps two ticks' worth of the bandwidth in flight beyond the
// bandwidth-delay product (what BBR calls ack aggregation). Without it, a
// window of twice the product shrinks round after round whenever the
// smallest round trip is less than half the ticked one.
func (c *Controller) SetQuantum(d time.Duration) { c.quantum = d }

// MaxPackets returns the most packets allowed in flight.
func (c *Controller) MaxPackets() int { return c.maxPackets }

// CanSend reports whether one more packet may be sent now.
func (c *Controller) CanSend() bool {
	return c.inflightPkts < c.maxPackets && c.inflight < c.window
}

// Window returns the congestion window in bytes.
func (c *Controller) Window() int { return c.window }

// InFlight returns the bytes and packets in flight.
func (c *Controller) InFlight() (bytes, packets int) { return c.inflight, c.inflightPkts }

// Bandwidth returns the estimated bottleneck bandwidth in bytes a second
// (0 before the first measurement).
func (c *Controller) Bandwidth() float64 { return c.maxBW }

// MinRTT returns the smallest round trip of the last ten seconds (0 before
// the first ack).
func (c *Controller) MinRTT() time.Duration { return c.minRTT }

// state is the controller's phase, BBR's.
type state uint8

const (
	startup  state = iota // doubling the window each round trip
	drain                 // emptying the queue the startup built
	probeBW               // cruising at twice the bandwidth-delay product
	probeRTT              // four packets in flight to measure the path's delay again
)

// probeRTTTime is how long ProbeRTT holds the window at its floor.
const probeRTTTime = 200 * time.Millisecond

// Startup reports whether the controller is still growing its window
// exponentially, before the first estimate of the bandwidth settled.
func (c *Controller) Startup() bool { return c.state == startup }

// AppLimited tells the controller that the sender had less to send than
// the window allowed: rates measured until what is in flight now is
// acknowledged say how much the application offered, not what the path
// carries, and only count when they raise the estimate.
func (c *Controller) AppLimited() {
	c.appLimited = max(c.delivered+int64(c.inflight), 1)
}

// SetEpoch sets the time that packet times count from, for OnSentAt and
// OnAckAt; without it, the first OnSent sets it.
func (c *Controller) SetEpoch(t time.Time) { c.epoch = t }

// Since returns when p was sent, as the time since the epoch.
func (p *Packet) Since() time.Duration { return time.Duration(p.sentAt) }

// OnSent records a packet of size bytes sent at now into p.
func (c *Controller) OnSent(now time.Time, p *Packet, size int) {
	if c.epoch.IsZero() {
		c.epoch = now
	}
	c.OnSentAt(now.Sub(c.epoch), p, size)
}

// OnSentAt is OnSent with the time given as the time since the epoch
// (SetEpoch), which saves a caller that keeps its times so a conversion.
func (c *Controller) OnSentAt(since time.Duration, p *Packet, size int) {
	t := int64(since)
	if c.inflightPkts == 0 {
		// Nothing in flight: the delivery clock starts again from now, so
		// that an idle period does not read as a slow path.
		c.firstSentAt, c.deliveredAt = t, t
	}
	*p = Packet{
		size: int32(size), sentAt: t,
		delivered: c.delivered, deliveredAt: c.deliveredAt, firstSentAt: c.firstSentAt,
		appLimited: c.appLimited > 0, inFlight: true,
	}
	c.inflight += size
	c.inflightPkts++
}

// OnAck records the acknowledgement at now of the packet p. A packet
// declared lost that is acknowledged after all counts as delivered.
func (c *Controller) OnAck(now time.Time, p *Packet) { c.OnAckAt(now.Sub(c.epoch), p) }

// OnAckAt is OnAck with the time given as the time since the epoch.
func (c *Controller) OnAckAt(since time.Duration, p *Packet) {
	if p.size == 0 {
		return
	}
	t := int64(since)
	size := int(p.size)
	if p.inFlight {
		p.inFlight = false
		c.inflight -= size
		c.inflightPkts--
	}
	c.delivered += int64(size)
	c.deliveredAt = t
	c.roundAcked += size
	if rtt := time.Duration(t - p.sentAt); rtt > 0 {
		if c.minRTT == 0 || rtt <= c.minRTT {
			c.minRTT, c.minRTTAt = rtt, t
		}
		if c.probeMin == 0 || rtt < c.probeMin {
			c.probeMin = rtt
		}
	}
	if c.appLimited > 0 && c.delivered > c.appLimited {
		c.appLimited = 0
	}
	// The delivery rate over the longer of the send and the ack
	// intervals (a burst sent at once is not delivered at once); samples
	// shorter than the minimum round trip are noise.
	interval := time.Duration(max(p.sentAt-p.firstSentAt, t-p.deliveredAt))
	if interval > 0 && interval >= c.minRTT {
		rate := float64(c.delivered-p.delivered) / interval.Seconds()
		if !p.appLimited || rate > c.Bandwidth() {
			c.bwSampled = true
			if slot := &c.bw[c.bwRound%bwRounds]; rate > *slot {
				*slot = rate
				c.maxBW = max(c.maxBW, rate)
			}
		}
	}
	c.firstSentAt = p.sentAt
	if p.delivered >= c.nextRound {
		c.nextRound = c.delivered
		c.endRound(p.appLimited)
	}
	c.phase(t)
	c.grow(size)
	p.size = 0
}

// OnLost records that p is lost: it no longer counts as in flight.
func (c *Controller) OnLost(p *Packet) {
	if !p.inFlight {
		return
	}
	p.inFlight = false
	c.inflight -= int(p.size)
	c.inflightPkts--
	c.roundLost += int(p.size)
}

// endRound closes a round trip: the loss cap, the end of the startup, a
// new slot of the bandwidth filter.
func (c *Controller) endRound(appLimited bool) {
	floor := MinWindowPackets * c.mss
	lost, total := c.roundLost, c.roundLost+c.roundAcked
	switch {
	case lost >= 2*c.mss && float64(lost) > lossThreshold*float64(total):
		c.hi = max(floor, int(lossBeta*float64(c.window)))
		if c.state == startup {
			c.state = drain
		}
	case c.hi > 0:
		c.hi += c.hi / 8
		if c.hi >= c.maxPackets*c.mss {
			c.hi = 0
		}
	}
	if c.state == startup && !appLimited {
		if bw := c.Bandwidth(); bw >= c.fullBW*fullPipeGrowth {
			c.fullBW, c.fullCount = bw, 0
		} else if c.fullCount++; c.fullCount >= fullPipeRounds {
			c.state = drain
		}
	}
	c.roundLost, c.roundAcked = 0, 0
	c.round++
	if c.bwSampled {
		// The filter ages by rounds that measured the path: while the
		// game sends less than the path carries, the estimate holds.
		c.bwSampled = false
		c.bwRound++
		c.bw[c.bwRound%bwRounds] = 0
		c.maxBW = 0
		for _, b := range c.bw {
			c.maxBW = max(c.maxBW, b)
		}
	}
}

// grow sets the window after acked bytes were acknowledged: in the
// startup it grows by what was acknowledged (doubling each round trip),
// then it moves toward twice the bandwidth-delay product.
func (c *Controller) grow(acked int) {
	w := c.window + acked
	switch c.state {
	case drain:
		w = min(w, c.bdp(1))
	case probeBW:
		w = min(w, c.bdp(windowGain))
	case probeRTT:
		w = 0 // the floor below
	}
	if c.hi > 0 {
		w = min(w, c.hi)
	}
	c.window = min(max(w, MinWindowPackets*c.mss), c.maxPackets*c.mss)
}

// phase moves between BBR's phases after an ack at t (nanoseconds since
// epoch).
func (c *Controller) phase(t int64) {
	switch c.state {
	case drain:
		if c.inflight <= c.bdp(1) {
			c.state = probeBW
		}
	case probeBW:
		if time.Duration(t-c.minRTTAt) > minRTTWindow {
			// The minimum is old: a queue may hide the path's delay. Drain
			// it for a moment to measure again.
			c.state, c.probeMin, c.probeUntil = probeRTT, 0, 0
		}
	case probeRTT:
		if c.probeUntil == 0 && c.inflightPkts <= MinWindowPackets {
			c.probeUntil, c.probeRound = t+int64(probeRTTTime), c.round+1
		}
		if c.probeUntil != 0 && t >= c.probeUntil && c.round >= c.probeRound {
			if c.probeMin > 0 {
				c.minRTT = c.probeMin
			}
			c.minRTTAt, c.state = t, probeBW
		}
	}
}

// bdp returns gain bandwidth-delay products in bytes, and the two ticks'
// worth that acks arriving on ticks call for.
func (c *Controller) bdp(gain float64) int {
	bw := c.Bandwidth()
	return int(gain*bw*c.minRTT.Seconds() + 2*bw*c.quantum.Seconds())
}
