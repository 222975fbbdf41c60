package replicate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run drives the world, the replicator, the link and the receiver on a
// fake clock for d, and calls each (if set) after every tick.
func run(w *world, links []*link, start time.Time, d time.Duration, each func(now time.Time)) time.Time {
	tick := time.Second / 60
	now := start
	for end := start.Add(d); now.Before(end); now = now.Add(tick) {
		w.step(now)
		for _, l := range links {
			l.step(now)
			l.rx.Advance(now)
		}
		if each != nil {
			each(now)
		}
	}
	return now
}

func newLink(s *Schema, seed uint64) *link {
	return &link{rx: NewReceiver(s, ReceiverConfig{}), rng: rand.New(rand.NewPCG(seed, 2)), delay: 30 * time.Millisecond}
}

// settle stops everything and checks that the receiver then shows every
// entity in view exactly as the server has it.
func settle(t *testing.T, w *world, l *link, v *Viewer, now time.Time) {
	t.Helper()
	for i := range w.rocks {
		w.rocks[i].moving, w.rocks[i].vx, w.rocks[i].vy = false, 0, 0
	}
	for i := range w.ships {
		w.ships[i].moving = false
	}
	l.loss, l.ackLoss = 0, 0
	run(w, []*link{l}, now, 3*time.Second, nil)
	require.Empty(t, l.errs)
	r := w.r
	want := 0
	for _, b := range append(w.rocks, w.ships...) {
		in := math.Abs(b.x-v.x) <= v.hw && math.Abs(b.y-v.y) <= v.hh
		e, ok := l.rx.Entity(b.id)
		if !in {
			continue
		}
		want++
		if !assert.True(t, ok, "entity %d at (%.0f,%.0f) in view but not shown", b.id, b.x, b.y) {
			continue
		}
		for f := fX; f <= fHP; f++ {
			assert.Equal(t, r.Value(b.id, f), e.Float(f), "entity %d field %d", b.id, f)
		}
	}
	assert.Greater(t, want, 5)
	// Nothing outside the view and its margin is shown.
	for e := range l.rx.Entities() {
		if e.Kind() == kScore {
			continue
		}
		x, y := e.Float(fX), e.Float(fY)
		assert.LessOrEqual(t, math.Abs(x-v.x), v.hw*(1+r.cfg.Margin)+1, "entity %d shown out of view", e.ID())
		assert.LessOrEqual(t, math.Abs(y-v.y), v.hh*(1+r.cfg.Margin)+1, "entity %d shown out of view", e.ID())
	}
}

func TestReplicateConverges(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 600, 8, 1)
	score, _ := r.Spawn(kScore)
	r.SetInt(score, 0, 42)
	l := newLink(s, 1)
	v := r.Add(l)
	v.SetView(0, 0, 800, 500)
	for _, b := range w.ships[:2] {
		v.SetRelevant(b.id, true)
	}
	now := run(w, []*link{l}, epoch0, 3*time.Second, nil)
	require.Empty(t, l.errs)
	e, ok := l.rx.Entity(score)
	require.True(t, ok, "a global entity reaches every client")
	assert.EqualValues(t, 42, e.Int(0))
	sh, ok := l.rx.Entity(w.ships[0].id)
	require.True(t, ok)
	assert.Equal(t, "shipa", sh.String(fName))
	settle(t, w, l, v, now)
	// Every snapshot fitted the budget and one datagram.
	assert.LessOrEqual(t, l.maxLen+overhead, v.stats.Budget)
}

func TestReplicateThroughLossAndJitter(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 800, 12, 2)
	l := newLink(s, 2)
	l.loss, l.ackLoss, l.delay, l.jitter = 0.05, 0.05, 50*time.Millisecond, 10*time.Millisecond
	v := r.Add(l)
	v.SetView(0, 0, 900, 600)
	var errs []float64
	now := run(w, []*link{l}, epoch0, 2*time.Second, nil)
	now = run(w, []*link{l}, now, 20*time.Second, func(now time.Time) {
		if w.tick%6 != 0 {
			return
		}
		rt := float64(l.rx.RenderTime()) / float64(time.Millisecond)
		for e := range l.rx.Entities() {
			if e.Kind() == kScore {
				continue
			}
			x, y, ok := w.at(e.ID(), rt)
			if !ok {
				continue
			}
			errs = append(errs, math.Hypot(e.Float(fX)-x, e.Float(fY)-y))
		}
	})
	require.Empty(t, l.errs)
	require.NotEmpty(t, errs)
	slices.Sort(errs)
	p99 := errs[len(errs)*99/100]
	mean := 0.0
	for _, e := range errs {
		mean += e
	}
	mean /= float64(len(errs))
	t.Logf("interpolation error over %d samples: mean %.3f, p99 %.3f, max %.3f; %d snapshots, %.1f kbps",
		len(errs), mean, p99, errs[len(errs)-1], l.sent, float64(l.bytes)*8/22/1000)
	assert.Less(t, p99, 1.0, "99th percentile of the distance between shown and true positions")
	settle(t, w, l, v, now)
}

// A naive delta coder encodes against the newest state it sent. This
// link drops exactly the snapshots whose entities the next snapshot would
// then be encoded against, and delays every ack by several snapshots:
// the receiver must never lack a baseline, and still converge.
func TestReplicateNeverDecodesAgainstMissingBaseline(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 300, 6, 3)
	l := newLink(s, 3)
	l.delay = 80 * time.Millisecond
	n := 0
	l.drop = func(msg []byte) bool {
		// Drop every snapshot that carries an entity update (a
		// would-be baseline), one in two.
		br := &bitReader{buf: msg[1:]}
		br.read(16 + 32)
		if br.bit() {
			br.read(6 + 8*int(br.read(6)))
		}
		nrem := br.uvar()
		for range nrem {
			br.uvar()
		}
		if br.uvar() == 0 {
			return false
		}
		n++
		return n%2 == 1
	}
	v := r.Add(l)
	v.SetView(0, 0, 700, 700)
	now := run(w, []*link{l}, epoch0, 10*time.Second, nil)
	require.Empty(t, l.errs, "decode errors")
	assert.Zero(t, l.rx.stats.Errors)
	assert.Greater(t, v.stats.Deltas, uint64(100), "deltas were sent")
	settle(t, w, l, v, now)
}

func TestReplicateViewEnterLeave(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 500, 0, 4)
	l := newLink(s, 4)
	l.loss = 0.1
	entered, left := map[ID]int{}, map[ID]int{}
	l.rx.cfg.OnEnter = func(e Entity) { entered[e.ID()]++ }
	l.rx.cfg.OnLeave = func(e Entity) { left[e.ID()]++ }
	v := r.Add(l)
	now := epoch0
	// Sweep the view back and forth across the world, then stop.
	for pass := range 6 {
		x := -1500.0
		if pass%2 == 1 {
			x = 1500
		}
		v.SetView(x, 0, 500, 500)
		now = run(w, []*link{l}, now, 2*time.Second, nil)
	}
	require.Empty(t, l.errs)
	for id, n := range entered {
		assert.LessOrEqual(t, n-left[id], 1, "entity %d entered %d times, left %d", id, n, left[id])
		assert.GreaterOrEqual(t, n-left[id], 0)
	}
	assert.Equal(t, len(entered)-countLeft(entered, left), l.rx.Len())
	settle(t, w, l, v, now)
}

func countLeft(entered, left map[ID]int) int {
	n := 0
	for id, e := range entered {
		if e == left[id] {
			n++
		}
	}
	return n
}

func TestReplicateDestroyThroughLoss(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 200, 0, 5)
	l := newLink(s, 5)
	l.loss, l.ackLoss = 0.3, 0.3
	v := r.Add(l)
	v.SetView(0, 0, 2100, 2100)
	now := run(w, []*link{l}, epoch0, 2*time.Second, nil)
	// Destroy half the rocks and make new ones (their slots come back
	// later); the receiver ends with exactly the live ones.
	for i := 0; i < len(w.rocks); i += 2 {
		r.Destroy(w.rocks[i].id)
	}
	w.rocks = slices.DeleteFunc(w.rocks, func(b body) bool { return !r.Alive(b.id) })
	now = run(w, []*link{l}, now, 3*time.Second, nil)
	for range 50 {
		id, err := r.Spawn(kRock)
		require.NoError(t, err)
		w.rocks = append(w.rocks, body{id: id, x: 10, y: 10, moving: true, vx: 5})
	}
	now = run(w, []*link{l}, now, 3*time.Second, nil)
	require.Empty(t, l.errs)
	settle(t, w, l, v, now)
	assert.Equal(t, len(w.rocks), l.rx.Len(), "the receiver shows the live rocks, no ghost")
}

func TestReplicateBudgetStarvesNothing(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1, Budget: 32_000})
	defer r.Close()
	w := newWorld(t, r, 0, 120, 6) // 120 ships turning: all change all the time
	l := newLink(s, 6)
	v := r.Add(l)
	v.SetView(0, 0, 2000, 2000)
	last := map[uint32]uint32{}
	worst, picks, snaps := uint32(0), 0, 0
	run(w, []*link{l}, epoch0, 5*time.Second, func(time.Time) {
		sl := &v.ring[r.epoch%ringSize]
		if sl.seq != r.epoch || !sl.pending {
			return
		}
		snaps++
		picks += int(sl.nupd)
		for j := range sl.nupd {
			id := v.ents[v.recs[(sl.start+sl.nrem+j)%recCap].e].slot
			if p, ok := last[id]; ok {
				worst = max(worst, r.epoch-p)
			}
			last[id] = r.epoch
		}
	})
	require.Empty(t, l.errs)
	assert.LessOrEqual(t, l.maxLen+overhead, 32_000/8/30+1, "each snapshot within the budget")
	assert.Len(t, last, len(w.ships), "every ship was sent")
	// Fair shares: a ship's turn comes round about every
	// ships/(ships per snapshot) snapshots; none waits twice that.
	period := float64(len(w.ships)) * float64(snaps) / float64(picks)
	assert.LessOrEqual(t, float64(worst), 2*period+2, "a ship waited %d snapshots; the round is %.1f", worst, period)
	t.Logf("longest gap between sends of one ship: %d snapshots (a round is %.1f; %.1f ships a snapshot)", worst, period, float64(picks)/float64(snaps))
}

// A game that loses a snapshot its client acknowledged (it dropped the
// message before handing it over) makes the receiver lack a baseline; the
// receiver says so (ErrNoBaseline), the game asks for Viewer.Resync, and
// the client converges again.
func TestReplicateResyncAfterALostBaseline(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 1})
	defer r.Close()
	w := newWorld(t, r, 300, 6, 7)
	l := newLink(s, 7)
	v := r.Add(l)
	v.SetView(0, 0, 900, 900)
	now := run(w, []*link{l}, epoch0, 2*time.Second, nil)
	swallowed := 0
	l.swallow = func([]byte) bool {
		if swallowed < 3 {
			swallowed++
			return true
		}
		return false
	}
	asked := 0
	l.onErr = func(err error) {
		require.ErrorIs(t, err, ErrNoBaseline)
		require.ErrorIs(t, err, ErrMalformed)
		if asked == 0 {
			v.Resync() // in a game: a message from the client, rate-limited
		}
		asked++
	}
	now = run(w, []*link{l}, now, 3*time.Second, nil)
	assert.Positive(t, asked, "the receiver noticed")
	assert.Positive(t, l.rx.Stats().NoBaseline)
	assert.EqualValues(t, 1, v.Stats().Resyncs)
	l.onErr = nil
	settle(t, w, l, v, now)
}
