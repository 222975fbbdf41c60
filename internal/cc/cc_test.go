package cc_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/cc"
)

const mss = 1100

// path is a simulated link on a fake clock: a bottleneck of rate bytes a
// second (0: none) with an unbounded queue, a fixed two-way delay, and
// random loss. Lost packets are reported a round trip after they were
// sent, acks a round trip after they left the bottleneck.
type path struct {
	rate  float64
	rtt   time.Duration
	loss  float64
	rng   *rand.Rand
	busy  time.Time // when the bottleneck is free
	queue []event
	peak  int // most packets in flight seen
	now   time.Time
}

type event struct {
	at   time.Time
	lost bool
	p    *cc.Packet
}

func (l *path) send(now time.Time, c *cc.Controller) {
	p := &cc.Packet{}
	c.OnSent(now, p, mss)
	_, n := c.InFlight()
	l.peak = max(l.peak, n)
	at := now
	if l.rate > 0 {
		l.busy = maxTime(l.busy, now).Add(time.Duration(float64(mss) / l.rate * float64(time.Second)))
		at = l.busy
	}
	l.queue = append(l.queue, event{at: at.Add(l.rtt), lost: l.rng.Float64() < l.loss, p: p})
}

func (l *path) deliver(now time.Time, c *cc.Controller) int {
	acked := 0
	w := 0
	for _, e := range l.queue {
		if e.at.After(now) {
			l.queue[w] = e
			w++
			continue
		}
		if e.lost {
			c.OnLost(e.p)
		} else {
			c.OnAck(now, e.p)
			acked++
		}
	}
	l.queue = l.queue[:w]
	return acked
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// run drives a sender that always has data for d, sending every tick
// while the window allows, and returns the goodput in bytes a second.
func run(t *testing.T, c *cc.Controller, l *path, d, tick time.Duration) float64 {
	t.Helper()
	if l.now.IsZero() {
		l.now = time.Unix(1000, 0)
	}
	now := l.now
	end := now.Add(d)
	defer func() { l.now = end }()
	acked := 0
	for ; now.Before(end); now = now.Add(tick) {
		acked += l.deliver(now, c)
		for c.CanSend() {
			l.send(now, c)
		}
	}
	return float64(acked*mss) / d.Seconds()
}

func TestGrowsToTheLimitOnAClearPath(t *testing.T) {
	c := cc.New(mss, 256)
	l := &path{rtt: 20 * time.Millisecond, rng: rand.New(rand.NewPCG(1, 2))}
	run(t, c, l, 3*time.Second, time.Millisecond)
	assert.Equal(t, 256*mss, c.Window(), "nothing slows a clear path: the window reaches its limit")
	assert.Equal(t, 256, l.peak)
}

func TestHoldsTheWindowThroughRandomLoss(t *testing.T) {
	// 2% random loss and 50 ms: a loss-based controller would hold about
	// nine packets (Mathis: 1.22/sqrt(0.02)), 200 KB/s here.
	c := cc.New(mss, 256)
	l := &path{rtt: 50 * time.Millisecond, loss: 0.02, rng: rand.New(rand.NewPCG(3, 4))}
	goodput := run(t, c, l, 10*time.Second, time.Millisecond)
	assert.Greater(t, goodput, 2e6, "goodput through 2%% loss at 50 ms: %.0f B/s", goodput)
	assert.Greater(t, c.Window(), 128*mss)
}

func TestBacksOffOnDelay(t *testing.T) {
	// A 1 MB/s bottleneck at 40 ms: one BDP is 40 KB, about 36 packets.
	// The window settles near two BDPs, so the queue, and the delay it
	// adds, stays near one BDP instead of filling every allowed packet.
	c := cc.New(mss, 1024)
	l := &path{rate: 1e6, rtt: 40 * time.Millisecond, rng: rand.New(rand.NewPCG(5, 6))}
	goodput := run(t, c, l, 20*time.Second, time.Millisecond)
	bdp := 1e6 * 0.040
	assert.InDelta(t, 1e6, goodput, 0.1e6, "the bottleneck is used")
	assert.Less(t, float64(c.Window()), 3.5*bdp, "window %d B against a BDP of %.0f B", c.Window(), bdp)
	assert.Greater(t, float64(c.Window()), 1.5*bdp)
	assert.False(t, c.Startup())
	assert.InDelta(t, 1e6, c.Bandwidth(), 0.15e6)
	assert.InDelta(t, 40*time.Millisecond, c.MinRTT(), float64(3*time.Millisecond))
}

func TestBacksOffOnHeavyLoss(t *testing.T) {
	c := cc.New(mss, 256)
	l := &path{rtt: 20 * time.Millisecond, rng: rand.New(rand.NewPCG(7, 8))}
	run(t, c, l, 2*time.Second, time.Millisecond)
	require.Equal(t, 256*mss, c.Window())
	l.loss = 0.4
	run(t, c, l, 2*time.Second, time.Millisecond)
	assert.LessOrEqual(t, c.Window(), 16*mss, "40%% loss: the window falls toward its floor")
	assert.GreaterOrEqual(t, c.Window(), cc.MinWindowPackets*mss)
	l.loss = 0
	run(t, c, l, 5*time.Second, time.Millisecond)
	assert.Equal(t, 256*mss, c.Window(), "the loss cap lifts once losses stop")
}

func TestMaxPacketsBoundsTheWindow(t *testing.T) {
	c := cc.New(mss, 32)
	l := &path{rtt: 5 * time.Millisecond, rng: rand.New(rand.NewPCG(9, 10))}
	run(t, c, l, time.Second, 100*time.Microsecond)
	assert.Equal(t, 32, l.peak, "never more than the limit in flight")
	c.SetMaxPackets(1)
	assert.Equal(t, cc.MinWindowPackets, c.MaxPackets())
}

func TestAppLimitedSamplesDoNotLowerTheEstimate(t *testing.T) {
	c := cc.New(mss, 256)
	l := &path{rate: 2e6, rtt: 20 * time.Millisecond, rng: rand.New(rand.NewPCG(11, 12))}
	run(t, c, l, 5*time.Second, time.Millisecond)
	bw := c.Bandwidth()
	require.InDelta(t, 2e6, bw, 0.3e6)
	// Now the game sends one packet every 10 ms, and says so.
	now := l.now
	for i := 0; i < 300; i++ {
		l.deliver(now, c)
		c.AppLimited()
		l.send(now, c)
		now = now.Add(10 * time.Millisecond)
	}
	assert.InDelta(t, bw, c.Bandwidth(), 0.3e6, "a quiet sender is not a slow path")
}

func TestSendAndAckAllocateNothing(t *testing.T) {
	c := cc.New(mss, 64)
	var p cc.Packet
	now := time.Unix(1, 0)
	allocs := testing.AllocsPerRun(1000, func() {
		c.OnSent(now, &p, mss)
		now = now.Add(time.Millisecond)
		c.OnAck(now, &p)
	})
	assert.Zero(t, allocs)
}
