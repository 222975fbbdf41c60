package predict_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/predict"
)

// channel is a deterministic lossy link: each message is lost with
// probability loss (but never more than maxRun in a row, if maxRun ≥ 0),
// else delivered delay to delay+jitter ticks after it was sent, so
// messages overtake each other.
type channel[T any] struct {
	rng                  *rand.Rand
	loss                 float64
	maxRun               int
	delay, jitter        int
	run, longest         int
	flight               []flying[T]
	sent, lost, overtook int
}

type flying[T any] struct {
	at  int
	msg T
}

func newChannel[T any](seed uint64, loss float64, maxRun, delay, jitter int) *channel[T] {
	return &channel[T]{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), loss: loss, maxRun: maxRun, delay: delay, jitter: jitter}
}

func (c *channel[T]) send(now int, msg T) {
	c.sent++
	if c.rng.Float64() < c.loss && (c.maxRun < 0 || c.run < c.maxRun) {
		c.run++
		c.lost++
		c.longest = max(c.longest, c.run)
		return
	}
	c.run = 0
	at := now + c.delay + c.rng.IntN(c.jitter+1)
	if n := len(c.flight); n > 0 && c.flight[n-1].at > at {
		c.overtook++
	}
	c.flight = append(c.flight, flying[T]{at, msg})
}

// deliver calls f with the messages due at now, in their order of
// arrival (of sending, among those due at the same tick).
func (c *channel[T]) deliver(now int, f func(T)) {
	for t := 0; ; t++ {
		found := false
		kept := c.flight[:0]
		var due []T
		for _, m := range c.flight {
			if m.at <= now {
				due = append(due, m.msg)
				found = true
			} else {
				kept = append(kept, m)
			}
		}
		c.flight = kept
		for _, m := range due {
			f(m)
		}
		if !found {
			return
		}
	}
}

// report is the server's message to the client: its state after input
// ack.
type report struct {
	state ship
	ack   uint32
}

// sim runs the toy game: a client predicting, a server with a jitter
// buffer applying one input per tick, the links between them.
type sim struct {
	t                *testing.T
	rng              *rand.Rand
	p                *predict.Predictor[ship, thrust]
	buf              *predict.Buffer[thrust]
	up               *channel[[]byte]
	down             *channel[report]
	server           ship
	firstRecv, start int // ticks: the server's first datagram, its first Next
	startAfter       int
	tick             int
	parsed, ins      []predict.Input[thrust]
	reconciled       int
	// erred counts the reconciliations that measured a misprediction.
	erred int
	// lag is the latency after each of the server's ticks while the
	// client sends inputs: the client's newest input minus the last the
	// server applied.
	lag []int
	// newest is the newest input the server received; serverLag is the
	// newest received minus the last applied, after the same ticks.
	newest    uint32
	serverLag []int
}

func newSim(t *testing.T, seed uint64, up *channel[[]byte], down *channel[report], depth, startAfter int) *sim {
	start := ship{X: 10, V: -1}
	return &sim{
		t:          t,
		rng:        rand.New(rand.NewPCG(seed, 1)),
		p:          predict.New(start, shipConfig()),
		buf:        predict.NewBuffer[thrust](predict.BufferConfig{Depth: depth}),
		up:         up,
		down:       down,
		server:     start,
		firstRecv:  -1,
		start:      -1,
		startAfter: startAfter,
		parsed:     make([]predict.Input[thrust], 0, predict.MaxBatch),
	}
}

// step runs one tick; with input, the client ticks. It sends its batch
// every tick, as long as its inputs are not all acknowledged (so that
// the last ones, once it stops, still come through).
func (s *sim) step(input bool, th thrust) {
	s.tick++
	now := at(s.tick)
	if input {
		s.p.Tick(now, th, time.Duration(s.tick)*time.Millisecond)
	}
	if s.p.Acked() < s.p.Seq() {
		s.up.send(s.tick, s.p.AppendBatch(nil, thrustCodec))
	}
	s.up.deliver(s.tick, func(b []byte) {
		var err error
		s.parsed, err = predict.ParseBatch(s.parsed, b, thrustCodec)
		require.NoError(s.t, err)
		s.buf.Add(s.parsed)
		if n := len(s.parsed); n > 0 {
			s.newest = max(s.newest, s.parsed[n-1].Seq)
		}
		if s.firstRecv < 0 {
			s.firstRecv = s.tick
		}
	})
	// The server starts its ticks for the client a little after its first
	// input, which gives the inputs behind it time to come.
	if s.start < 0 && s.firstRecv >= 0 && s.tick >= s.firstRecv+s.startAfter {
		s.start = s.tick
	}
	// Once the client's inputs stop, the server stops its ticks once it
	// applied them all; it reports its state every tick.
	if s.start >= 0 {
		if input || s.buf.Applied() < s.p.Seq() {
			// Each input the server takes is one step: none when the
			// client's next input has not come, two when it drains.
			s.ins = s.buf.Next(s.ins[:0])
			for _, in := range s.ins {
				stepShip(&s.server, in.In)
			}
			if input {
				s.lag = append(s.lag, int(s.p.Seq())-int(s.buf.Applied()))
				s.serverLag = append(s.serverLag, int(s.newest)-int(s.buf.Applied()))
			}
		}
		s.down.send(s.tick, report{s.server, s.buf.Applied()})
	}
	s.down.deliver(s.tick, func(r report) {
		before := s.p.Stats().ErrorSum
		if s.p.Reconcile(now, r.state, r.ack) {
			s.reconciled++
		}
		if s.p.Stats().ErrorSum > before {
			s.erred++
		}
	})
}

// flush runs ticks without input until the server applied every input
// and the client heard of it.
func (s *sim) flush() {
	for range 1000 {
		if s.buf.Applied() == s.p.Seq() && s.p.Acked() == s.p.Seq() {
			return
		}
		s.step(false, thrust{})
	}
	s.t.Fatal("the simulation does not settle")
}

func (s *sim) thrust() thrust { return thrust{Thrust: int8(s.rng.IntN(7) - 3)} }

// windowMeans returns the means of xs over consecutive windows of n (the
// last one may be shorter).
func windowMeans(xs []int, n int) []float64 {
	var means []float64
	for i := 0; i < len(xs); i += n {
		w := xs[i:min(i+n, len(xs))]
		sum := 0
		for _, x := range w {
			sum += x
		}
		means = append(means, float64(sum)/float64(len(w)))
	}
	return means
}

func TestSimulationRedundancyCovers(t *testing.T) {
	// Up to 3 datagrams lost in a row: each input is in 4 of them. The
	// server waits, before its first tick, for the jitter and the losses
	// a later input may suffer behind its first; then no input is late
	// while that slack lasts. The buffer gives back the slack the link
	// does not use (DrainAfter), a few inputs are then late (a tick held)
	// or missing (repeated in their place). Every input is applied once,
	// or missing; a hold or a drain mispredicts nothing: the server steps
	// the client's inputs, in order, as the client did. Every
	// misprediction comes from an input missing.
	const jitter, maxRun = 3, 3
	const startAfter = jitter + maxRun + 1
	for seed := uint64(1); seed <= 5; seed++ {
		up := newChannel[[]byte](seed, 0.3, maxRun, 2, jitter)
		down := newChannel[report](seed+100, 0.3, -1, 2, jitter)
		s := newSim(t, seed, up, down, 16, startAfter)
		for range 1200 {
			s.step(true, s.thrust())
		}
		bs := s.buf.Stats()
		// The server ticked from s.start, taking one input a tick, none
		// in a hold, two in a drain: the latency left is the ticks it
		// waited before its first, plus the holds, minus the drains.
		lagged := s.lag[len(s.lag)-1]
		require.Equal(t, s.start-1+int(bs.Held)-int(bs.Drained), lagged, "seed %d", seed)
		// A hold comes only when every input received is applied; one of
		// any maxRun+1 datagrams in a row comes, delay+jitter ticks after
		// it was sent at the latest: the latency after a hold is at most
		// delay+jitter+maxRun, less than the server began with, and it
		// grows only by holds.
		require.Less(t, up.delay+jitter+maxRun, s.lag[0])
		for i, l := range s.lag {
			require.LessOrEqual(t, l, s.lag[0], "seed %d, tick %d: more than the server began with", seed, i)
			require.GreaterOrEqual(t, l, up.delay, "seed %d, tick %d", seed, i)
		}
		s.flush()

		st := s.p.Stats()
		bs = s.buf.Stats()
		means := windowMeans(s.lag, 200)
		t.Logf("seed %d: up lost %d/%d, overtook %d; predictor %+v; buffer %+v; %d erred; start %d; lag %d..%d, per 200 ticks %.2f",
			seed, up.lost, up.sent, up.overtook, st, bs, s.erred, s.start, slices.Min(s.lag), slices.Max(s.lag), means)
		require.Greater(t, up.lost, 100)
		require.Greater(t, up.overtook, 100)
		require.Greater(t, down.lost, 100)
		require.Equal(t, uint64(1200), bs.Applied+bs.Missing, "every input applied, or repeated in its place")
		require.Positive(t, bs.Drained)
		require.Less(t, bs.Missing, uint64(10), "few missing")
		require.Equal(t, bs.Missing, bs.Late, "the inputs whose turn was taken came")
		require.Zero(t, bs.Dropped)
		require.Zero(t, bs.Jumps)
		require.Greater(t, bs.Duplicates, uint64(1200))
		require.Greater(t, st.Errors, uint64(500))
		require.LessOrEqual(t, uint64(s.erred), bs.Missing, "the same inputs, the same steps: no other misprediction")
		require.Equal(t, s.server, s.p.State())
		require.Equal(t, s.server, s.p.Shown(at(s.tick).Add(predict.DefaultSmooth)))
		require.Zero(t, st.Pending)
		require.Equal(t, uint32(1200), s.p.Acked())
	}
}

func TestSimulationConverges(t *testing.T) {
	// Losses redundancy cannot cover, and a server that starts at once:
	// inputs are held for, missing, late, dropped; the prediction errs
	// and is corrected. The latency does not grow over a long run. Once
	// the link is clean and the inputs stop, the prediction is the
	// server's state.
	const depth = predict.DefaultDepth
	for seed := uint64(1); seed <= 5; seed++ {
		up := newChannel[[]byte](seed, 0.4, -1, 1, 8)
		down := newChannel[report](seed+100, 0.2, -1, 1, 4)
		s := newSim(t, seed, up, down, depth, 0)
		const lossy = 6000
		for range lossy {
			s.step(true, s.thrust())
		}
		st, bs := s.p.Stats(), s.buf.Stats()
		means := windowMeans(s.lag, 1000)
		t.Logf("seed %d: up lost %d/%d (%d in a row); predictor %+v; buffer %+v; lag max %d, per 1000 ticks %.2f; server lag max %d",
			seed, up.lost, up.sent, up.longest, st, bs, slices.Max(s.lag), means, slices.Max(s.serverLag))
		require.Greater(t, bs.Missing, uint64(10))
		require.Greater(t, bs.Late, uint64(0))
		require.Greater(t, bs.Held, uint64(0))
		require.Greater(t, bs.Dropped, uint64(0))
		require.Greater(t, st.ErrorMax, 0.0)
		require.Greater(t, st.CorrectionMax, 0.0)

		// The latency does not grow: the client's newest input minus the
		// last applied keeps its mean, about the link's longest delay,
		// from the first 1000 ticks to the last.
		require.Greater(t, len(s.lag), lossy-20, "the server ticks from the first input it receives")
		for _, m := range means {
			require.LessOrEqual(t, m, means[0]+1, "seed %d: latency per 1000 ticks %.2f", seed, means)
			require.LessOrEqual(t, m, float64(up.delay+up.jitter), "seed %d: latency per 1000 ticks %.2f", seed, means)
		}
		// On the server's side, the newest input received came with the
		// Redundancy-1 before it: they all wait when it is more than that
		// ahead of the last applied, and they are then all the Depth
		// waiting, after a gap shorter than Depth.
		for i, l := range s.serverLag {
			require.LessOrEqual(t, l, predict.DefaultRedundancy+depth-2, "seed %d, tick %d", seed, i)
		}

		// A clean link: the slack the losses left is drained (once every
		// DrainAfter ticks while more than one input waits), then the
		// prediction stops erring and the latency stays the same. The
		// player keeps thrusting for a while, then lets go.
		up.loss, up.jitter, down.loss, down.jitter = 0, 0, 0, 0
		for range depth*predict.DrainAfter + 100 {
			s.step(true, s.thrust())
		}
		require.LessOrEqual(t, s.buf.Len(), 1)
		before, bBefore, n := s.p.Stats(), s.buf.Stats(), len(s.lag)
		for i := range 200 {
			th := s.thrust()
			if i >= 100 {
				th = thrust{}
			}
			s.step(true, th)
		}
		after, bAfter := s.p.Stats(), s.buf.Stats()
		require.Greater(t, after.Errors, before.Errors+150)
		require.Zero(t, after.ErrorSum-before.ErrorSum, "no misprediction on a clean link")
		require.Zero(t, after.CorrectionSum-before.CorrectionSum)
		require.Equal(t, bBefore.Applied+200, bAfter.Applied, "every input applied on its tick")
		bBefore.Applied, bAfter.Applied, bBefore.Duplicates, bAfter.Duplicates = 0, 0, 0, 0
		require.Equal(t, bBefore, bAfter, "nothing held, missing, late, dropped or drained")
		for _, l := range s.lag[n:] {
			require.Equal(t, s.lag[n], l)
		}
		require.LessOrEqual(t, s.lag[n], up.delay+1, "the link's delay, and at most one input waiting")

		// The inputs stop: the prediction is the server's state.
		s.flush()
		require.Zero(t, s.p.Stats().Pending)
		require.Equal(t, s.server, s.p.State())
		require.Equal(t, s.server, s.p.Shown(at(s.tick).Add(predict.DefaultSmooth)))
	}
}

func TestSimulationLatency(t *testing.T) {
	// A long run over a link that loses one datagram in ten (sometimes
	// more in a row than redundancy covers) and delays them 2 to 4 ticks.
	// A late input costs a held tick, and leaves a tick more of slack,
	// given back once unused. A hold comes only when every input
	// received is applied: the latency (the client's newest input minus
	// the last applied) never exceeds the link's longest delay plus the
	// longest run of losses, and its mean does not grow. On the server's
	// side, its newest input is never more than Redundancy+Depth-2 ahead
	// of the last applied (TestSimulationConverges).
	for seed := uint64(1); seed <= 5; seed++ {
		up := newChannel[[]byte](seed, 0.1, -1, 2, 2)
		down := newChannel[report](seed+100, 0.1, -1, 2, 2)
		s := newSim(t, seed, up, down, predict.DefaultDepth, 0)
		for range 20_000 {
			s.step(true, s.thrust())
		}
		bs := s.buf.Stats()
		means := windowMeans(s.lag, 2000)
		t.Logf("seed %d: up lost %d/%d (%d in a row); buffer %+v; lag max %d, per 2000 ticks %.2f; server lag max %d",
			seed, up.lost, up.sent, up.longest, bs, slices.Max(s.lag), means, slices.Max(s.serverLag))
		require.Greater(t, bs.Held, uint64(10))
		for i, l := range s.lag {
			require.LessOrEqual(t, l, up.delay+up.jitter+up.longest, "seed %d, tick %d", seed, i)
			require.LessOrEqual(t, s.serverLag[i], predict.DefaultRedundancy+predict.DefaultDepth-2, "seed %d, tick %d", seed, i)
		}
		for _, m := range means {
			require.LessOrEqual(t, m, means[0]+0.5, "seed %d: latency per 2000 ticks %.2f", seed, means)
		}

		// The inputs stop: the prediction is the server's state.
		up.loss, down.loss = 0, 0
		s.flush()
		require.Equal(t, s.server, s.p.State())
	}
}
