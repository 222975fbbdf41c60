package client

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
)

// Reconnect configures a client that connects again by itself when a
// session it had is lost for good (Config.Reconnect). It waits First
// before the first attempt, twice as long after each failed one up to
// Max, each wait spread by up to Jitter of itself either way so that a
// restarted server's players do not all come back in the same tick.
//
// A new session is a new connection: a new token, and the messages
// queued on the old one are lost (their callbacks ran with false). The
// game introduces itself again when told ReconnectDone.
type Reconnect struct {
	// First is the wait before the first attempt (250 ms).
	First time.Duration
	// Max bounds a wait (4 s).
	Max time.Duration
	// Jitter spreads each wait by up to this share of it either way (0:
	// 0.25; negative: none).
	Jitter float64
	// Attempts bounds the attempts in a row (0: no bound).
	Attempts int
	// OnEvent, when set, is told each step, from Update, on the game's
	// goroutine.
	OnEvent func(ReconnectEvent)
}

// ReconnectStep is a step of reconnecting.
type ReconnectStep uint8

// The steps, in the order they come.
const (
	// ReconnectLost: the session was lost (Err says why); the first
	// attempt starts in Wait.
	ReconnectLost ReconnectStep = iota + 1
	// ReconnectAttempt: attempt Attempt starts now.
	ReconnectAttempt
	// ReconnectFailed: attempt Attempt failed (Err); the next starts in
	// Wait.
	ReconnectFailed
	// ReconnectDone: attempt Attempt connected: a new session.
	ReconnectDone
	// ReconnectGaveUp: Attempts attempts failed; the client stays
	// disconnected.
	ReconnectGaveUp
)

var stepNames = [...]string{"", "lost", "attempt", "failed", "done", "gave up"}

// String returns the step's name, such as "lost".
func (s ReconnectStep) String() string {
	if int(s) < len(stepNames) {
		return stepNames[s]
	}
	return "step?"
}

// ReconnectEvent is what Reconnect.OnEvent is told.
type ReconnectEvent struct {
	Step    ReconnectStep
	Attempt int           // the attempt's number, from 1 (0 for ReconnectLost)
	Wait    time.Duration // until the next attempt (ReconnectLost, ReconnectFailed)
	Err     error         // why the session was lost, or the attempt failed
}

// reconnect is a client's state of reconnecting.
type reconnect struct {
	had     bool      // a session was established since Connect
	waiting bool      // between attempts, or in one
	trying  bool      // an attempt is under way
	stopped bool      // Disconnect: no more attempts
	attempt int       // attempts in a row
	next    time.Time // when the next attempt starts
	rng     *rand.Rand
}

// stop ends reconnecting: the game closed the connection.
func (r *reconnect) stop() {
	r.stopped, r.waiting, r.trying = true, false, false
}

// lostForGood reports whether err ends a session in a way reconnecting
// mends: not a local close, nor a server whose key is wrong. A carrier
// that broke for good (a browser's, whose server went away) counts.
func lostForGood(err error) bool {
	return errors.Is(err, conn.ErrReset) || errors.Is(err, conn.ErrTimeout) || errors.Is(err, conn.ErrPeerClosed) ||
		errors.Is(err, transport.ErrBroken)
}

// Backoff returns the wait before attempt n (from 1) of r: First doubled
// n-1 times, at most Max, spread by Jitter with rng (nil: none).
func (r Reconnect) Backoff(n int, rng *rand.Rand) time.Duration {
	first, most, jitter := r.First, r.Max, r.Jitter
	if first <= 0 {
		first = 250 * time.Millisecond
	}
	if most <= 0 {
		most = 4 * time.Second
	}
	if jitter == 0 {
		jitter = 0.25
	}
	d := first
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	if jitter > 0 && rng != nil {
		d += time.Duration((2*rng.Float64() - 1) * jitter * float64(d))
	}
	return max(d, 0)
}

func (c *Client) emit(e ReconnectEvent) {
	c.log.Debug("reconnect", "step", e.Step.String(), "attempt", e.Attempt, "wait", e.Wait, "err", e.Err)
	if f := c.cfg.Reconnect.OnEvent; f != nil {
		f(e)
	}
}

// wait schedules attempt n+1 and returns the wait.
func (c *Client) wait(now time.Time) time.Duration {
	if c.rc.rng == nil {
		c.rc.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	d := c.cfg.Reconnect.Backoff(c.rc.attempt+1, c.rc.rng)
	c.rc.next = now.Add(d)
	return d
}

// lost starts reconnecting when the session that was established is lost
// for good (after Update's work).
func (c *Client) lost(now time.Time) {
	if c.cfg.Reconnect == nil || !c.rc.had || c.rc.waiting || c.rc.stopped || c.sess == nil || !c.sess.Status().Closed() {
		return
	}
	err := c.sess.Err()
	if !lostForGood(err) {
		return
	}
	c.rc.waiting, c.rc.attempt = true, 0
	c.closeSocket()
	c.emit(ReconnectEvent{Step: ReconnectLost, Err: err, Wait: c.wait(now)})
}

// retry starts the next attempt when it is due (before Update's work).
func (c *Client) retry(now time.Time) {
	if !c.rc.waiting || c.rc.trying || now.Before(c.rc.next) {
		return
	}
	c.rc.attempt++
	n := c.rc.attempt
	c.emit(ReconnectEvent{Step: ReconnectAttempt, Attempt: n})
	c.rc.trying = true
	err := c.connect(c.addr, func(ok bool) {
		c.rc.trying = false
		if c.rc.stopped {
			return // the game closed the connection meanwhile
		}
		if ok {
			c.rc.waiting, c.rc.attempt = false, 0
			c.emit(ReconnectEvent{Step: ReconnectDone, Attempt: n})
			return
		}
		c.failed(time.Now(), n, c.sess.Err())
	})
	if err != nil {
		c.rc.trying = false
		c.failed(now, n, err)
	}
}

// failed schedules the attempt after attempt n, or gives up.
func (c *Client) failed(now time.Time, n int, err error) {
	c.closeSocket()
	if max := c.cfg.Reconnect.Attempts; max > 0 && n >= max {
		c.rc.waiting = false
		c.emit(ReconnectEvent{Step: ReconnectGaveUp, Attempt: n, Err: err})
		return
	}
	c.emit(ReconnectEvent{Step: ReconnectFailed, Attempt: n, Err: err, Wait: c.wait(now)})
}

// Reconnecting reports whether the client lost its session and is
// reconnecting (Config.Reconnect): waiting for an attempt, or in one.
func (c *Client) Reconnecting() bool { return c.rc.waiting }
