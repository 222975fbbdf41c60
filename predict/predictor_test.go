package predict_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/predict"
)

// script returns the thrust of tick i in the tests: varied, deterministic.
func script(i int) thrust { return thrust{Thrust: int8(i*7%5) - 2} }

// server is the toy game's authoritative side in the predictor tests:
// the state after each input, the same Step.
type server struct {
	states []ship // states[k]: after input k
}

func newServer(s ship) *server { return &server{states: []ship{s}} }

func (sv *server) apply(in thrust) {
	s := sv.states[len(sv.states)-1]
	stepShip(&s, in)
	sv.states = append(sv.states, s)
}

func TestNewPanicsWithoutStep(t *testing.T) {
	require.PanicsWithValue(t, "predict: New with a nil Config.Step", func() {
		predict.New(ship{}, predict.Config[ship, thrust]{})
	})
}

func TestPredictorTick(t *testing.T) {
	p := predict.New(ship{X: 1}, shipConfig())
	require.Zero(t, p.Seq())
	require.Zero(t, p.Acked())
	require.Empty(t, p.Batch())
	want := ship{X: 1}
	for i := 1; i <= 10; i++ {
		require.Equal(t, uint32(i), p.Tick(at(i), script(i), 0))
		stepShip(&want, script(i))
		require.Equal(t, want, p.State())
		require.Equal(t, want, p.Shown(at(i)))
	}
	require.Equal(t, uint32(10), p.Seq())
	st := p.Stats()
	require.Equal(t, uint64(10), st.Ticks)
	require.Equal(t, 10, st.Pending)
	require.Zero(t, st.Reconciles)
}

func TestPerfectServer(t *testing.T) {
	const lag = 6 // ticks between an input and its acknowledgement
	start := ship{X: -3, V: 0.25}
	p := predict.New(start, shipConfig())
	sv := newServer(start)
	for i := 1; i <= 300; i++ {
		p.Tick(at(i), script(i), time.Duration(i)*time.Millisecond)
		sv.apply(script(i))
		if ack := i - lag; ack >= 0 {
			require.True(t, p.Reconcile(at(i), sv.states[ack], uint32(ack)))
			require.Equal(t, sv.states[i], p.State(), "tick %d", i)
			require.Equal(t, p.State(), p.Shown(at(i)), "nothing to smooth")
		}
	}
	st := p.Stats()
	require.Equal(t, uint64(300-lag+1), st.Reconciles)
	require.Equal(t, uint64(300-lag), st.Errors, "every ack but 0 measured")
	require.Zero(t, st.ErrorMax)
	require.Zero(t, st.ErrorSum)
	require.Zero(t, st.CorrectionMax)
	require.Zero(t, st.MeanError())
	require.Zero(t, st.MeanCorrection())
	require.Zero(t, st.Snaps)
	require.Equal(t, lag, st.Pending)
	require.Equal(t, uint64(lag*(300-lag)+lag), st.Replayed)
	require.Equal(t, uint32(300-lag), p.Acked())
}

// pushed returns a predictor of the toy game that ticked n inputs, and
// reconciles it with the server's state after input ack pushed by dx.
func pushed(t *testing.T, cfg predict.Config[ship, thrust], n, ack int, dx float64, now time.Time) (*predict.Predictor[ship, thrust], ship) {
	t.Helper()
	p := predict.New(ship{}, cfg)
	sv := newServer(ship{})
	for i := 1; i <= n; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
	}
	before := p.State()
	auth := sv.states[ack]
	auth.X += dx
	require.True(t, p.Reconcile(now, auth, uint32(ack)))
	return p, before
}

func TestCorrectionSmoothed(t *testing.T) {
	now := at(10)
	p, before := pushed(t, shipConfig(), 10, 4, 5, now)

	after := p.State()
	assert.InDelta(t, before.X+5, after.X, 1e-9, "the push, replayed")
	assert.InDelta(t, before.V, after.V, 1e-9)

	st := p.Stats()
	assert.Equal(t, uint64(1), st.Reconciles)
	assert.Equal(t, uint64(1), st.Errors)
	assert.InDelta(t, 5, st.ErrorMax, 1e-9)
	assert.InDelta(t, 5, st.CorrectionMax, 1e-9)
	assert.InDelta(t, 5, st.MeanCorrection(), 1e-9)
	assert.Equal(t, uint64(6), st.Replayed)
	assert.Equal(t, 6, st.Pending)
	assert.Zero(t, st.Snaps)

	// Shown goes from the old prediction to the new one over Smooth.
	smooth := predict.DefaultSmooth
	assert.Equal(t, before, p.Shown(now))
	assert.Equal(t, before, p.Shown(now.Add(-time.Second)), "before the correction: the old")
	for _, f := range []float64{0.1, 0.25, 0.5, 0.9} {
		s := p.Shown(now.Add(time.Duration(f * float64(smooth))))
		assert.InDelta(t, before.X+5*f, s.X, 1e-9, "at %v", f)
	}
	assert.Equal(t, after, p.Shown(now.Add(smooth)))
	assert.Equal(t, after, p.Shown(now.Add(time.Hour)))
	assert.Equal(t, after, p.State(), "Shown changes nothing")
}

func TestSmoothingFollowsTicks(t *testing.T) {
	cfg := shipConfig()
	cfg.Smooth = 10 * tickDur
	now := at(10)
	p, _ := pushed(t, cfg, 10, 4, -4, now)
	// The state smoothed from is stepped with the same inputs: the shown
	// state lags the prediction by the part of the push not yet shown.
	for i := 11; i < 20; i++ {
		p.Tick(at(i), script(i), 0)
		f := float64(i-10) / 10
		assert.InDelta(t, p.State().X+4*(1-f), p.Shown(at(i)).X, 1e-9, "tick %d", i)
		assert.InDelta(t, p.State().V, p.Shown(at(i)).V, 1e-9)
	}
	p.Tick(at(20), script(20), 0)
	assert.Equal(t, p.State(), p.Shown(at(20)))
}

func TestCorrectionContinuous(t *testing.T) {
	// A correction during a smoothing starts from what is shown: nothing
	// jumps.
	cfg := shipConfig()
	p := predict.New(ship{}, cfg)
	sv := newServer(ship{})
	for i := 1; i <= 40; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
		if i >= 6 && i%3 == 0 { // a correction every 3 ticks, under 100 ms apart
			auth := sv.states[i-5]
			auth.X += float64(i % 7)
			auth.V -= 0.01 * float64(i%5)
			shown := p.Shown(at(i))
			require.True(t, p.Reconcile(at(i), auth, uint32(i-5)))
			require.InDelta(t, shown.X, p.Shown(at(i)).X, 1e-9, "tick %d", i)
			require.InDelta(t, shown.V, p.Shown(at(i)).V, 1e-9, "tick %d", i)
			// Go on with the server's pushed state.
			sv.states = append(sv.states[:i-5], auth)
			for k := i - 4; k <= i; k++ {
				sv.apply(script(k))
			}
			require.InDelta(t, sv.states[i].X, p.State().X, 1e-9)
		}
	}
}

func TestSnapOver(t *testing.T) {
	cfg := shipConfig()
	cfg.SnapOver = 10
	now := at(10)
	p, before := pushed(t, cfg, 10, 4, 50, now)
	assert.Equal(t, p.State(), p.Shown(now), "snapped")
	assert.InDelta(t, before.X+50, p.Shown(now).X, 1e-9)
	assert.Equal(t, uint64(1), p.Stats().Snaps)

	// A smaller correction is smoothed.
	p, before = pushed(t, cfg, 10, 4, 9, now)
	assert.Equal(t, before, p.Shown(now))
	assert.Zero(t, p.Stats().Snaps)

	// A snap ends a smoothing under way.
	auth := p.State()
	auth.X += 100
	require.True(t, p.Reconcile(now.Add(time.Millisecond), auth, 10))
	assert.Equal(t, auth, p.Shown(now.Add(time.Millisecond)))
	assert.Equal(t, uint64(1), p.Stats().Snaps)
}

func TestCorrectionShownAtOnce(t *testing.T) {
	now := at(10)
	for name, cfg := range map[string]predict.Config[ship, thrust]{
		"no Lerp":         {Step: stepShip, Distance: distShip},
		"negative Smooth": {Step: stepShip, Distance: distShip, Lerp: lerpShip, Smooth: -1},
	} {
		t.Run(name, func(t *testing.T) {
			p, before := pushed(t, cfg, 10, 4, 5, now)
			assert.Equal(t, p.State(), p.Shown(now))
			assert.InDelta(t, before.X+5, p.Shown(now).X, 1e-9)
			assert.Zero(t, p.Stats().Snaps, "no SnapOver: not a snap")
			assert.InDelta(t, 5, p.Stats().CorrectionMax, 1e-9)
		})
	}
}

func TestNoDistance(t *testing.T) {
	// Without Distance nothing is measured and every correction is
	// smoothed, even over SnapOver.
	cfg := predict.Config[ship, thrust]{Step: stepShip, Lerp: lerpShip, SnapOver: 1}
	now := at(10)
	p, before := pushed(t, cfg, 10, 4, 5, now)
	assert.Equal(t, before, p.Shown(now))
	assert.InDelta(t, before.X+2.5, p.Shown(now.Add(predict.DefaultSmooth/2)).X, 1e-9)
	st := p.Stats()
	assert.Zero(t, st.Errors)
	assert.Zero(t, st.CorrectionMax)
	assert.Zero(t, st.Snaps)
	assert.Equal(t, uint64(1), st.Reconciles)
}

func TestZeroCorrectionKeepsSmoothing(t *testing.T) {
	now := at(10)
	p, before := pushed(t, shipConfig(), 10, 4, 2, now)
	// The server agrees with the corrected prediction: the smoothing under
	// way goes on unchanged.
	mid := now.Add(predict.DefaultSmooth / 2)
	shown := p.Shown(mid)
	require.InDelta(t, before.X+1, shown.X, 1e-9)
	require.True(t, p.Reconcile(mid, p.State(), 10))
	require.Equal(t, shown, p.Shown(mid))
	require.Equal(t, p.State(), p.Shown(now.Add(predict.DefaultSmooth)))
}

func TestOldAcksIgnored(t *testing.T) {
	p := predict.New(ship{}, shipConfig())
	sv := newServer(ship{})
	for i := 1; i <= 10; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
	}
	// Ack 0 (the server applied nothing yet) is news the first time.
	require.True(t, p.Reconcile(at(10), sv.states[0], 0))
	require.Equal(t, sv.states[10], p.State())
	require.Equal(t, 10, p.Stats().Pending)
	require.Equal(t, uint64(10), p.Stats().Replayed)
	require.Zero(t, p.Stats().Errors, "no input 0 to measure")
	require.False(t, p.Reconcile(at(10), ship{X: 99}, 0))

	require.True(t, p.Reconcile(at(11), sv.states[5], 5))
	st := p.Stats()
	for _, ack := range []uint32{5, 4, 0} {
		require.False(t, p.Reconcile(at(12), ship{X: 99}, ack), "ack %d", ack)
	}
	require.Equal(t, st, p.Stats(), "ignored")
	require.Equal(t, sv.states[10], p.State())
	require.Equal(t, uint32(5), p.Acked())
	require.Equal(t, 5, st.Pending)
	require.Equal(t, uint64(2), st.Reconciles)

	// Acks may skip: the server reports only some of its states.
	require.True(t, p.Reconcile(at(12), sv.states[9], 9))
	require.Equal(t, 1, p.Stats().Pending)
	require.Equal(t, sv.states[10], p.State())

	// All applied: the prediction is the server's state.
	require.True(t, p.Reconcile(at(13), sv.states[10], 10))
	require.Equal(t, 0, p.Stats().Pending)
	require.Equal(t, sv.states[10], p.State())
	require.Zero(t, p.Stats().ErrorMax)
}

func TestAckOfForgottenInput(t *testing.T) {
	cfg := shipConfig()
	cfg.Capacity = 8
	p := predict.New(ship{}, cfg)
	sv := newServer(ship{})
	for i := 1; i <= 20; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
	}
	st := p.Stats()
	require.Equal(t, 8, st.Pending)
	require.Equal(t, uint64(12), st.Forgotten)

	// Input 5 is forgotten: the inputs kept (13 to 20) are replayed on its
	// state, which the prediction cannot match (6 to 12 are lost).
	require.True(t, p.Reconcile(at(20), sv.states[5], 5))
	st = p.Stats()
	require.Zero(t, st.Errors, "not measured: forgotten")
	require.Equal(t, uint64(8), st.Replayed)
	require.Equal(t, 8, st.Pending)
	want := sv.states[5]
	for k := 13; k <= 20; k++ {
		stepShip(&want, script(k))
	}
	require.Equal(t, want, p.State())

	// Input 12, the newest forgotten: the same inputs, the right state.
	require.True(t, p.Reconcile(at(20), sv.states[12], 12))
	require.Equal(t, sv.states[20], p.State())
	require.Equal(t, 8, p.Stats().Pending)
	require.Zero(t, p.Stats().Errors)

	// Input 15 is kept: measured, and 16 to 20 replayed.
	require.True(t, p.Reconcile(at(20), sv.states[15], 15))
	st = p.Stats()
	require.Equal(t, uint64(1), st.Errors)
	require.Zero(t, st.ErrorMax)
	require.Equal(t, 5, st.Pending)
	require.Equal(t, uint64(8+8+5), st.Replayed)
	require.Equal(t, sv.states[20], p.State())

	// The ring goes on after being partly emptied.
	for i := 21; i <= 40; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
	}
	require.Equal(t, 8, p.Stats().Pending)
	require.Equal(t, uint64(12+17), p.Stats().Forgotten)
	require.True(t, p.Reconcile(at(40), sv.states[36], 36))
	require.Equal(t, sv.states[40], p.State())
	require.Equal(t, 4, p.Stats().Pending)
	require.Zero(t, p.Stats().ErrorMax)
}

func TestAckAheadOfSeq(t *testing.T) {
	// A server cannot apply an input the client never sent; if it says it
	// did, its state is taken and nothing is replayed.
	p := predict.New(ship{}, shipConfig())
	for i := 1; i <= 3; i++ {
		p.Tick(at(i), script(i), 0)
	}
	require.True(t, p.Reconcile(at(3), ship{X: 7}, 100))
	require.Equal(t, ship{X: 7}, p.State())
	require.Zero(t, p.Stats().Pending)
	require.Equal(t, uint32(100), p.Acked())
}

func TestReset(t *testing.T) {
	now := at(10)
	p, _ := pushed(t, shipConfig(), 10, 4, 5, now)
	batch := seqs(p.Batch())
	p.Reset(ship{X: 100})
	require.Equal(t, ship{X: 100}, p.State())
	require.Equal(t, ship{X: 100}, p.Shown(now), "no smoothing")
	st := p.Stats()
	require.Zero(t, st.Pending)
	require.Equal(t, uint32(10), p.Seq())
	require.Equal(t, uint32(4), p.Acked())
	require.Equal(t, batch, seqs(p.Batch()), "the batch still repeats the inputs")

	require.Equal(t, uint32(11), p.Tick(at(11), thrust{1}, 0))
	want := ship{X: 100}
	stepShip(&want, thrust{1})
	require.Equal(t, want, p.State())
	require.Equal(t, 1, p.Stats().Pending)
	require.Equal(t, []uint32{8, 9, 10, 11}, seqs(p.Batch()))

	require.False(t, p.Reconcile(at(11), ship{}, 4), "still old")
	// The server's state after input 10 (the reset it made): input 11 is
	// replayed on it.
	require.True(t, p.Reconcile(at(12), ship{X: 100}, 10))
	require.Equal(t, want, p.State())
	require.Equal(t, 1, p.Stats().Pending)
	require.True(t, p.Reconcile(at(12), want, 11))
	require.Zero(t, p.Stats().Pending)
}

func TestBatchContents(t *testing.T) {
	cfg := shipConfig()
	cfg.Redundancy = 3
	p := predict.New(ship{}, cfg)
	p.Tick(at(1), thrust{1}, 1500*time.Microsecond)
	require.Equal(t, []predict.Input[thrust]{{Seq: 1, View: time.Millisecond, In: thrust{1}}}, p.Batch(),
		"the view to the millisecond")
	p.Tick(at(2), thrust{2}, 2*time.Millisecond)
	require.Equal(t, []uint32{1, 2}, seqs(p.Batch()))
	for i := 3; i <= 7; i++ {
		p.Tick(at(i), thrust{int8(i)}, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, []predict.Input[thrust]{
		{Seq: 5, View: 5 * time.Millisecond, In: thrust{5}},
		{Seq: 6, View: 6 * time.Millisecond, In: thrust{6}},
		{Seq: 7, View: 7 * time.Millisecond, In: thrust{7}},
	}, p.Batch())

	// Acknowledged inputs are still repeated.
	require.True(t, p.Reconcile(at(7), ship{}, 7))
	require.Equal(t, []uint32{5, 6, 7}, seqs(p.Batch()))

	// AppendBatch is the batch's encoding.
	b := p.AppendBatch([]byte{9}, thrustCodec)
	require.Equal(t, predict.AppendBatch([]byte{9}, p.Batch(), thrustCodec), b)
	got, err := predict.ParseBatch(nil, b[1:], thrustCodec)
	require.NoError(t, err)
	require.Equal(t, p.Batch(), got)
}

func TestConfigDefaults(t *testing.T) {
	batchLen := func(red int) int {
		cfg := shipConfig()
		cfg.Redundancy = red
		p := predict.New(ship{}, cfg)
		for i := 1; i <= 40; i++ {
			p.Tick(at(i), script(i), 0)
		}
		b := p.Batch()
		require.Equal(t, uint32(40), b[len(b)-1].Seq)
		return len(b)
	}
	assert.Equal(t, predict.DefaultRedundancy, batchLen(0))
	assert.Equal(t, predict.DefaultRedundancy, batchLen(-3))
	assert.Equal(t, 1, batchLen(1))
	assert.Equal(t, 9, batchLen(9))
	assert.Equal(t, predict.MaxBatch, batchLen(predict.MaxBatch))
	assert.Equal(t, predict.MaxBatch, batchLen(100))

	kept := func(capacity, red int) int {
		cfg := shipConfig()
		cfg.Capacity, cfg.Redundancy = capacity, red
		p := predict.New(ship{}, cfg)
		for i := 1; i <= 300; i++ {
			p.Tick(at(i), script(i), 0)
		}
		st := p.Stats()
		require.Equal(t, uint64(300-st.Pending), st.Forgotten)
		return st.Pending
	}
	assert.Equal(t, predict.DefaultCapacity, kept(0, 0))
	assert.Equal(t, predict.DefaultCapacity, kept(-1, 0))
	assert.Equal(t, 10, kept(10, 0))
	assert.Equal(t, 4, kept(2, 0), "at least Redundancy")
	assert.Equal(t, 16, kept(2, 100), "at least Redundancy, clamped")
	assert.Equal(t, 1, kept(1, 1))

	// Smooth's default.
	p, before := pushed(t, shipConfig(), 10, 4, 5, at(10))
	assert.Equal(t, before, p.Shown(at(10)))
	assert.NotEqual(t, p.State(), p.Shown(at(10).Add(predict.DefaultSmooth-time.Millisecond)))
	assert.Equal(t, p.State(), p.Shown(at(10).Add(predict.DefaultSmooth)))
}

func TestPredictorAllocs(t *testing.T) {
	cfg := shipConfig()
	cfg.Capacity = 32
	p := predict.New(ship{}, cfg)
	buf := make([]byte, 0, 256)
	i := 0
	round := func() {
		i++
		p.Tick(at(i), script(i), time.Duration(i)*time.Millisecond)
		buf = p.AppendBatch(buf[:0], thrustCodec)
		if i > 5 {
			auth := p.State()
			auth.X += float64(i % 3) // a correction, smoothed, now and then
			if i%10 == 0 {
				p.Rebase(at(i), auth, uint32(i-5))
			} else {
				p.Reconcile(at(i), auth, uint32(i-5))
			}
		}
		_ = p.Shown(at(i).Add(tickDur / 2))
		_ = p.Stats()
	}
	for range 100 {
		round()
	}
	require.Zero(t, testing.AllocsPerRun(1000, round))
	// Without acks, forgetting allocates nothing either.
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		i++
		p.Tick(at(i), script(i), 0)
	}))
	require.Equal(t, 32, p.Stats().Pending)
}

func TestRebase(t *testing.T) {
	// A correction being smoothed, then the server moves the ship by its
	// own decision (a teleport) after input 6: the inputs after it are
	// replayed on the new state, shown at once, and nothing is measured,
	// not even as a snap.
	cfg := shipConfig()
	cfg.SnapOver = 10
	now := at(10)
	p, before := pushed(t, cfg, 10, 4, 5, now)
	require.Equal(t, before, p.Shown(now), "smoothing")
	st0 := p.Stats()

	auth := ship{X: 1000, V: 2}
	later := now.Add(time.Millisecond)
	require.True(t, p.Rebase(later, auth, 6))
	want := auth
	for k := 7; k <= 10; k++ {
		stepShip(&want, script(k))
	}
	require.Equal(t, want, p.State(), "inputs 7 to 10 replayed")
	require.Equal(t, want, p.Shown(later), "shown at once: the smoothing stopped")
	require.Equal(t, want, p.Shown(now), "even at an earlier time")
	require.Equal(t, uint32(6), p.Acked())
	st := p.Stats()
	require.Equal(t, uint64(1), st.Rebases)
	require.Equal(t, 4, st.Pending)
	require.Equal(t, st0.Replayed+4, st.Replayed)
	measured := func(s predict.Stats) predict.Stats {
		return predict.Stats{
			Reconciles: s.Reconciles, Errors: s.Errors, ErrorSum: s.ErrorSum, ErrorMax: s.ErrorMax,
			CorrectionSum: s.CorrectionSum, CorrectionMax: s.CorrectionMax, Snaps: s.Snaps,
		}
	}
	require.Equal(t, measured(st0), measured(st), "nothing measured")

	// States for input 6 or older are ignored, by Rebase and Reconcile.
	for _, ack := range []uint32{6, 5, 4, 0} {
		require.False(t, p.Rebase(later, ship{X: -1}, ack), "ack %d", ack)
		require.False(t, p.Reconcile(later, ship{X: -1}, ack), "ack %d", ack)
	}
	require.Equal(t, st, p.Stats(), "ignored")
	require.Equal(t, want, p.State())

	// The prediction goes on from the new state: the server's states after
	// it match, and Reconcile measures them again.
	sv := newServer(auth)
	for k := 7; k <= 10; k++ {
		sv.apply(script(k))
	}
	for i := 11; i <= 14; i++ {
		p.Tick(at(i), script(i), 0)
		sv.apply(script(i))
	}
	require.Equal(t, sv.states[14-6], p.State())
	require.True(t, p.Reconcile(at(14), sv.states[12-6], 12))
	st = p.Stats()
	require.Equal(t, st0.Reconciles+1, st.Reconciles)
	require.Equal(t, st0.Errors+1, st.Errors)
	require.Equal(t, st0.ErrorSum, st.ErrorSum, "no misprediction")
	require.Equal(t, st0.CorrectionSum, st.CorrectionSum)
	require.Equal(t, uint64(1), st.Rebases)
	require.Equal(t, sv.states[14-6], p.State())
	require.Equal(t, p.State(), p.Shown(at(14)))
	require.Equal(t, 2, st.Pending)
}

func TestRebaseFirst(t *testing.T) {
	// The first state of all, before any Reconcile: ack 0 is taken, every
	// input replayed, nothing measured; ack 0 again is old.
	for name, cfg := range map[string]predict.Config[ship, thrust]{
		"full":    shipConfig(),
		"no Lerp": {Step: stepShip, Distance: distShip},
		"minimal": {Step: stepShip},
	} {
		t.Run(name, func(t *testing.T) {
			p := predict.New(ship{}, cfg)
			for i := 1; i <= 5; i++ {
				p.Tick(at(i), script(i), 0)
			}
			spawn := ship{X: 40, V: -1}
			require.True(t, p.Rebase(at(5), spawn, 0))
			want := spawn
			for i := 1; i <= 5; i++ {
				stepShip(&want, script(i))
			}
			require.Equal(t, want, p.State())
			require.Equal(t, want, p.Shown(at(5)))
			st := p.Stats()
			require.Equal(t, predict.Stats{Ticks: 5, Replayed: 5, Pending: 5, Rebases: 1}, st)
			require.False(t, p.Rebase(at(6), ship{}, 0))
			require.False(t, p.Reconcile(at(6), ship{}, 0))
			require.Equal(t, st, p.Stats())

			// Rebase after a Reconcile, with an ack ahead of every input:
			// the state is taken as it is.
			require.True(t, p.Reconcile(at(6), want, 3))
			require.True(t, p.Rebase(at(7), ship{X: 3}, 9))
			require.Equal(t, ship{X: 3}, p.State())
			require.Equal(t, ship{X: 3}, p.Shown(at(7)))
			require.Zero(t, p.Stats().Pending)
			require.Equal(t, uint32(9), p.Acked())
			require.Equal(t, uint64(2), p.Stats().Rebases)
			require.Equal(t, uint64(1), p.Stats().Reconciles)
		})
	}
}
