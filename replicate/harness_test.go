package replicate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// Fields of the test schema.
const (
	fX = iota
	fY
	fVX
	fVY
	fAngle
	fHP
	fName // ships only
	fShield
)

const (
	kRock = iota
	kShip
	kScore
)

func testSchema(t testing.TB) *Schema {
	t.Helper()
	common := []Field{
		Float("x", -4096, 4096, 1.0/16), Float("y", -4096, 4096, 1.0/16),
		Float("vx", -512, 512, 1.0/64), Float("vy", -512, 512, 1.0/64),
		Angle("angle", 10), Int("hp", 0, 100),
	}
	s, err := NewSchema(
		Kind{Name: "rock", Fields: common, Position: [2]string{"x", "y"}, Velocity: [2]string{"vx", "vy"}, Tolerance: 0.25},
		Kind{Name: "ship", Fields: append(append([]Field(nil), common...), String("name", 16), Bool("shield")),
			Position: [2]string{"x", "y"}, Velocity: [2]string{"vx", "vy"}, Tolerance: 0.25, Priority: 4},
		Kind{Name: "score", Fields: []Field{Int("points", -1000, 100000)}, Global: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// link is a simulated network between one Viewer and one Receiver on a
// fake clock: each message is delivered (or lost) after a delay, and its
// callback told of the ack (or of the loss, a second later), as the
// protocol does.
type link struct {
	rx      *Receiver
	rng     *rand.Rand
	loss    float64 // share of snapshots lost
	ackLoss float64 // share of acks lost (the callback then reports a timeout)
	delay   time.Duration
	jitter  time.Duration
	drop    func(msg []byte) bool // drops chosen messages, when set
	noAcks  bool                  // never acknowledge
	swallow func(msg []byte) bool // acknowledged but never given to the receiver
	onErr   func(err error)
	events  []linkEvent
	sent    int
	bytes   int
	maxLen  int
	errs    []error
	now     time.Time
}

type linkEvent struct {
	at  time.Time
	msg []byte
	cb  func(bool)
	ok  bool
}

func (l *link) Latency() time.Duration { return l.delay }

func (l *link) Send(p []byte, retry conn.RetryMode, cb func(ok bool)) error {
	if retry != conn.RetryNone {
		panic("snapshots go with RetryNone")
	}
	l.sent++
	l.bytes += len(p) + overhead
	l.maxLen = max(l.maxLen, len(p))
	lost := l.rng.Float64() < l.loss || (l.drop != nil && l.drop(p))
	d := l.delay
	if l.jitter > 0 {
		d += time.Duration(l.rng.Int64N(int64(2*l.jitter))) - l.jitter
	}
	if lost {
		l.events = append(l.events, linkEvent{at: l.now.Add(time.Second), cb: cb, ok: false})
		return nil
	}
	if l.swallow == nil || !l.swallow(p) {
		l.events = append(l.events, linkEvent{at: l.now.Add(d), msg: append([]byte(nil), p...)})
	}
	if l.noAcks {
		return nil
	}
	if l.rng.Float64() < l.ackLoss {
		l.events = append(l.events, linkEvent{at: l.now.Add(time.Second), cb: cb, ok: false})
	} else {
		l.events = append(l.events, linkEvent{at: l.now.Add(2 * d), cb: cb, ok: true})
	}
	return nil
}

// step delivers what is due by now.
func (l *link) step(now time.Time) {
	l.now = now
	keep := l.events[:0]
	var due []linkEvent
	for _, e := range l.events {
		if e.at.After(now) {
			keep = append(keep, e)
		} else {
			due = append(due, e)
		}
	}
	l.events = keep
	for _, e := range due {
		if e.msg != nil {
			if _, err := l.rx.Handle(now, e.msg); err != nil {
				if l.onErr != nil {
					l.onErr(err)
				} else {
					l.errs = append(l.errs, err)
				}
			}
		}
		if e.cb != nil {
			e.cb(e.ok)
		}
	}
}

// world is a test game: rocks drifting and bouncing in a box, ships
// steering on curves, on a fixed tick.
type world struct {
	r     *Replicator
	rocks []body
	ships []body
	tick  int
	rng   *rand.Rand
	// truth keeps every body's position by server millisecond (the
	// replicator's clock), to judge interpolation.
	truth map[ID][]sample2
}

type body struct {
	id     ID
	x, y   float64
	vx, vy float64
	angle  float64
	moving bool
}

type sample2 struct {
	ms   float64
	x, y float64
}

const worldHalf = 2000.0

func newWorld(t testing.TB, r *Replicator, rocks, ships int, seed uint64) *world {
	w := &world{r: r, rng: rand.New(rand.NewPCG(seed, 1)), truth: map[ID][]sample2{}}
	for range rocks {
		id, err := r.Spawn(kRock)
		if err != nil {
			t.Fatal(err)
		}
		b := body{id: id, x: w.rng.Float64()*2*worldHalf - worldHalf, y: w.rng.Float64()*2*worldHalf - worldHalf,
			vx: w.rng.Float64()*60 - 30, vy: w.rng.Float64()*60 - 30, moving: true}
		r.SetInt(id, fHP, 10)
		w.rocks = append(w.rocks, b)
	}
	for i := range ships {
		id, err := r.Spawn(kShip)
		if err != nil {
			t.Fatal(err)
		}
		r.SetString(id, fName, "ship"+string(rune('a'+i%26)))
		w.ships = append(w.ships, body{id: id, x: float64(i*37%400) - 200, y: float64(i*53%400) - 200, moving: true})
	}
	w.publish()
	return w
}

const dt = 1.0 / 60

func (w *world) step(now time.Time) {
	w.tick++
	for i := range w.rocks {
		b := &w.rocks[i]
		if !b.moving {
			continue
		}
		b.x += b.vx * dt
		b.y += b.vy * dt
		if math.Abs(b.x) > worldHalf {
			b.vx = -b.vx
			b.x = math.Copysign(worldHalf, b.x)
		}
		if math.Abs(b.y) > worldHalf {
			b.vy = -b.vy
			b.y = math.Copysign(worldHalf, b.y)
		}
	}
	for i := range w.ships {
		b := &w.ships[i]
		if !b.moving {
			b.vx, b.vy = 0, 0
			continue
		}
		// Thrust on a slow turn: speed and heading change every tick.
		b.angle += (1.5 + float64(i%3)) * dt
		b.vx += math.Cos(b.angle) * 200 * dt
		b.vy += math.Sin(b.angle) * 200 * dt
		b.vx -= b.vx * 0.9 * dt
		b.vy -= b.vy * 0.9 * dt
		b.x += b.vx * dt
		b.y += b.vy * dt
	}
	w.publish()
	w.r.Update(now)
	// The replicator's clock: milliseconds since its first Update.
	ms := float64(now.Sub(w.r.start)) / float64(time.Millisecond)
	for _, b := range append(w.rocks, w.ships...) {
		w.truth[b.id] = append(w.truth[b.id], sample2{ms, b.x, b.y})
	}
}

func (w *world) publish() {
	for _, b := range append(w.rocks, w.ships...) {
		w.r.Set(b.id, fX, b.x)
		w.r.Set(b.id, fY, b.y)
		w.r.Set(b.id, fVX, b.vx)
		w.r.Set(b.id, fVY, b.vy)
		w.r.Set(b.id, fAngle, b.angle)
	}
}

// at returns a body's true position at server time ms.
func (w *world) at(id ID, ms float64) (x, y float64, ok bool) {
	h := w.truth[id]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].ms <= ms {
			if i+1 < len(h) {
				f := (ms - h[i].ms) / (h[i+1].ms - h[i].ms)
				return h[i].x + (h[i+1].x-h[i].x)*f, h[i].y + (h[i+1].y-h[i].y)*f, true
			}
			return h[i].x, h[i].y, true
		}
	}
	return 0, 0, false
}

var epoch0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
