package predict

import "time"

// Config configures a Predictor. Step is required; a zero field takes its
// default.
type Config[S, I any] struct {
	// Step advances a state by one tick under an input: the game's own
	// simulation of what the client predicts (its ship, its character),
	// the same function the server runs. It must be deterministic.
	//
	// The predictor copies states by assignment (the state kept after
	// each input, the state a correction is smoothed from): a state that
	// holds pointers, slices or maps shares what they point to between
	// its copies, so Step must not change it through them.
	Step func(s *S, in I)
	// Redundancy is how many inputs each batch repeats: the newest and
	// those before it (4; at most MaxBatch).
	Redundancy int
	// Capacity is how many inputs are kept for replay until the server
	// applies them (128, about two seconds at 60 ticks a second). A
	// server that stops acknowledging makes the oldest forgotten.
	Capacity int
	// Distance measures how far apart two states are, in the game's units
	// (a position's distance, say). It measures corrections (Stats) and
	// chooses between smoothing and snapping. Nil: corrections are not
	// measured, and they are smoothed when Lerp is set.
	Distance func(a, b *S) float64
	// Lerp returns the state t of the way from a to b (0 ≤ t ≤ 1). Nil:
	// corrections are shown at once.
	Lerp func(a, b *S, t float64) S
	// Smooth is how long a correction takes to show fully (100 ms). A
	// negative Smooth shows corrections at once.
	Smooth time.Duration
	// SnapOver: a correction farther than this (Distance) is shown at
	// once, not smoothed: a respawn, a teleport. 0: every correction is
	// smoothed.
	SnapOver float64
}

// Defaults of Config.
const (
	DefaultRedundancy = 4
	DefaultCapacity   = 128
	DefaultSmooth     = 100 * time.Millisecond
)

// Stats are a Predictor's figures since it was made.
type Stats struct {
	// Ticks is the number of inputs predicted (Tick).
	Ticks uint64
	// Reconciles is the number of reconciliations: authoritative states
	// for an input newer than the last one reconciled.
	Reconciles uint64
	// Replayed is the number of inputs replayed by reconciliations.
	Replayed uint64
	// Pending is the number of inputs the server has not applied yet:
	// those kept for replay (since the last Reset).
	Pending int
	// Forgotten counts inputs dropped unacknowledged when the ring was
	// full.
	Forgotten uint64
	// Error is the misprediction: per reconciliation, the Distance
	// between the state predicted after the acknowledged input and the
	// server's. ErrorSum is their sum, ErrorMax the largest, Errors how
	// many were measured (those whose input was still kept).
	Errors             uint64
	ErrorSum, ErrorMax float64
	// Correction is what the player would have seen jump without
	// smoothing: per reconciliation, the Distance between the prediction
	// before and after it. CorrectionSum is their sum, CorrectionMax the
	// largest; Snaps counts those shown at once (over SnapOver).
	CorrectionSum, CorrectionMax float64
	Snaps                        uint64
	// Rebases counts the states taken with Rebase.
	Rebases uint64
}

// MeanError returns the mean misprediction per measured reconciliation.
func (s Stats) MeanError() float64 {
	if s.Errors == 0 {
		return 0
	}
	return s.ErrorSum / float64(s.Errors)
}

// MeanCorrection returns the mean correction per reconciliation.
func (s Stats) MeanCorrection() float64 {
	if s.Reconciles == 0 {
		return 0
	}
	return s.CorrectionSum / float64(s.Reconciles)
}

// Predictor predicts a client's own state ahead of the server: it keeps
// the inputs the server has not applied yet in a ring, with the state
// predicted after each, and replays them on each authoritative state.
//
// Its memory is fixed when it is made: after the first ticks, Tick,
// Batch, Reconcile and Shown allocate nothing (given Step, Distance and
// Lerp that allocate nothing).
type Predictor[S, I any] struct {
	cfg Config[S, I]

	// state is the predicted state: the server's last word with every
	// pending input replayed on it.
	state S
	// seq is the newest input's sequence number; acked the newest
	// acknowledged, valid once reconciled.
	seq, acked uint32
	reconciled bool

	// ring holds the pending inputs (those after acked), oldest at head,
	// n of them, with consecutive sequence numbers ending at seq.
	ring    []entry[S, I]
	head, n int

	// batch is the newest Redundancy inputs ticked, oldest first, acked
	// or not: what Batch returns.
	batch []Input[I]

	// While smoothing, ghost is the state shown before the correction,
	// stepped with the inputs since; Shown moves from it to state over
	// cfg.Smooth from smoothFrom.
	ghost      S
	smoothing  bool
	smoothFrom time.Time

	// auth and old are Reconcile's: the server's state and the prediction
	// before it, kept here so that passing them to Distance by pointer
	// allocates nothing.
	auth, old S

	stats Stats
}

// entry is a pending input with the state predicted after it.
type entry[S, I any] struct {
	in   Input[I]
	pred S
}

// New returns a predictor starting from state s. It panics if cfg.Step
// is nil.
//
// Redundancy is clamped to 1..MaxBatch and Capacity is at least
// Redundancy.
func New[S, I any](s S, cfg Config[S, I]) *Predictor[S, I] {
	if cfg.Step == nil {
		panic("predict: New with a nil Config.Step")
	}
	if cfg.Redundancy <= 0 {
		cfg.Redundancy = DefaultRedundancy
	}
	cfg.Redundancy = min(cfg.Redundancy, MaxBatch)
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	cfg.Capacity = max(cfg.Capacity, cfg.Redundancy)
	if cfg.Smooth == 0 {
		cfg.Smooth = DefaultSmooth
	}
	return &Predictor[S, I]{
		cfg:   cfg,
		state: s,
		ring:  make([]entry[S, I], cfg.Capacity),
		batch: make([]Input[I], 0, cfg.Redundancy),
	}
}

// smoothEnd ends the smoothing once it has run its course at now.
func (p *Predictor[S, I]) smoothEnd(now time.Time) {
	if p.smoothing && !now.Before(p.smoothFrom.Add(p.cfg.Smooth)) {
		p.stopSmoothing()
	}
}

// Tick takes this tick's input, taken at now with the screen showing
// server time view: it numbers it (the returned sequence number), keeps
// it for the batch and for replay, and steps the predicted state (and the
// state a correction is smoothing from) with it.
//
// The view is kept to the millisecond (rounded toward zero), as the batch
// carries it. Once the ring holds Capacity inputs the server has not
// acknowledged, the oldest is forgotten (Stats.Forgotten).
func (p *Predictor[S, I]) Tick(now time.Time, in I, view time.Duration) uint32 {
	p.smoothEnd(now)
	p.seq++
	p.stats.Ticks++
	p.cfg.Step(&p.state, in)
	if p.smoothing {
		p.cfg.Step(&p.ghost, in)
	}
	input := Input[I]{Seq: p.seq, View: view.Truncate(time.Millisecond), In: in}

	if p.n == len(p.ring) {
		p.ring[p.head] = entry[S, I]{}
		p.head = p.next(p.head)
		p.n--
		p.stats.Forgotten++
	}
	e := &p.ring[p.at(p.n)]
	e.in = input
	e.pred = p.state
	p.n++

	if len(p.batch) == p.cfg.Redundancy {
		copy(p.batch, p.batch[1:])
		p.batch = p.batch[:len(p.batch)-1]
	}
	p.batch = append(p.batch, input)
	return p.seq
}

// at returns the ring index of the i-th pending input (0: the oldest).
func (p *Predictor[S, I]) at(i int) int {
	j := p.head + i
	if j >= len(p.ring) {
		j -= len(p.ring)
	}
	return j
}

// next returns the ring index after i.
func (p *Predictor[S, I]) next(i int) int {
	if i++; i == len(p.ring) {
		return 0
	}
	return i
}

// Batch returns the inputs to send this tick: the newest Redundancy,
// oldest first. It is valid until the next Tick.
//
// The batch repeats inputs whether or not the server acknowledged them
// (it ignores those it has), and those before a Reset. Fewer than
// Redundancy before as many ticks; empty before the first. The slice is
// the predictor's: do not change it.
func (p *Predictor[S, I]) Batch() []Input[I] {
	return p.batch
}

// AppendBatch appends Batch's encoding (package-level AppendBatch) to b.
func (p *Predictor[S, I]) AppendBatch(b []byte, c Codec[I]) []byte {
	return AppendBatch(b, p.Batch(), c)
}

// Reconcile takes the server's state auth after it applied input ack (0:
// none yet), received at now: the predicted state becomes auth with the
// inputs after ack replayed on it. A state for an input older than, or
// the same as, the last one reconciled carries nothing new and is
// ignored; Reconcile then returns false. The shown state (Shown) moves
// from the old prediction to the new one over Config.Smooth, or jumps
// when they are further apart than Config.SnapOver.
//
// When Config.Distance is set, the misprediction (Stats.Errors) is
// measured if the acknowledged input is still kept, and the correction
// (Stats.CorrectionSum) always. A correction of distance 0 leaves a smoothing
// under way as it is. An ack of an input the ring forgot replays every
// input kept.
func (p *Predictor[S, I]) Reconcile(now time.Time, auth S, ack uint32) bool {
	return p.reconcile(now, auth, ack, true)
}

// Rebase is Reconcile for a state the server moved by its own decision
// (a spawn, a respawn, a teleport), which is no misprediction: the
// inputs after ack are replayed on auth, and the result is shown at once
// and not measured (Stats.Rebases counts it). The first state of all is
// one too.
func (p *Predictor[S, I]) Rebase(now time.Time, auth S, ack uint32) bool {
	return p.reconcile(now, auth, ack, false)
}

func (p *Predictor[S, I]) reconcile(now time.Time, auth S, ack uint32, measure bool) bool {
	if p.reconciled && ack <= p.acked {
		return false
	}
	p.smoothEnd(now)
	smooth := p.cfg.Lerp != nil && p.cfg.Smooth > 0
	// What the player sees now, before the correction: where a smoothing
	// starts from.
	var shown S
	if smooth {
		shown = p.Shown(now)
	}
	p.auth = auth
	p.old = p.state

	// Drop the inputs the server applied, measuring the misprediction
	// of the acknowledged one when it is kept.
	if p.n > 0 {
		first := p.ring[p.head].in.Seq
		if ack >= first {
			k := uint64(ack-first) + 1
			if k <= uint64(p.n) && p.cfg.Distance != nil && measure {
				d := p.cfg.Distance(&p.ring[p.at(int(k)-1)].pred, &p.auth)
				p.stats.Errors++
				p.stats.ErrorSum += d
				p.stats.ErrorMax = max(p.stats.ErrorMax, d)
			}
			for k > 0 && p.n > 0 {
				p.ring[p.head] = entry[S, I]{}
				p.head = p.next(p.head)
				p.n--
				k--
			}
		}
	}

	// Replay the rest on the server's word.
	p.state = p.auth
	for i := 0; i < p.n; i++ {
		e := &p.ring[p.at(i)]
		p.cfg.Step(&p.state, e.in.In)
		e.pred = p.state
	}
	p.stats.Replayed += uint64(p.n)
	p.acked = ack
	p.reconciled = true
	if !measure {
		p.stats.Rebases++
		p.stopSmoothing()
		var zero S
		p.auth, p.old = zero, zero
		return true
	}
	p.stats.Reconciles++

	correction, measured := 0.0, p.cfg.Distance != nil
	if measured {
		correction = p.cfg.Distance(&p.old, &p.state)
		p.stats.CorrectionSum += correction
		p.stats.CorrectionMax = max(p.stats.CorrectionMax, correction)
	}
	switch {
	case p.cfg.SnapOver > 0 && measured && correction > p.cfg.SnapOver:
		p.stats.Snaps++
		p.stopSmoothing()
	case !smooth:
		p.stopSmoothing()
	case measured && correction == 0:
		// Nothing moved: a smoothing under way goes on.
	default:
		p.ghost = shown
		p.smoothing = true
		p.smoothFrom = now
	}
	var zero S
	p.auth, p.old = zero, zero
	return true
}

// stopSmoothing shows the predicted state from now on.
func (p *Predictor[S, I]) stopSmoothing() {
	p.smoothing = false
	var zero S
	p.ghost = zero
}

// Reset sets the predicted state to s and forgets the inputs waiting for
// replay (a respawn, a teleport, a death: the server's word replaces the
// prediction at once). The sequence numbers go on, the last
// acknowledged input is kept (states for it or older are still ignored),
// and so are the inputs Batch repeats. A correction being smoothed is
// dropped: Shown is s.
func (p *Predictor[S, I]) Reset(s S) {
	p.state = s
	for p.n > 0 {
		p.ring[p.head] = entry[S, I]{}
		p.head = p.next(p.head)
		p.n--
	}
	p.head = 0
	p.stopSmoothing()
}

// State returns the predicted state: the server's last word with every
// input since replayed on it.
func (p *Predictor[S, I]) State() S {
	return p.state
}

// Shown returns the state to draw at now: the predicted state, or while
// a correction is being smoothed, a state between the prediction before
// the correction (stepped with the same inputs since) and after it.
//
// While smoothing, it is Config.Lerp(from, predicted, t), where from is
// what was shown at the correction, stepped with the inputs since, and t
// goes from 0 at the correction to 1 Config.Smooth after it (0 at times
// before it). A correction during another starts from what is shown:
// the shown state does not jump.
func (p *Predictor[S, I]) Shown(now time.Time) S {
	if !p.smoothing {
		return p.state
	}
	el := now.Sub(p.smoothFrom)
	if el >= p.cfg.Smooth {
		return p.state
	}
	t := 0.0
	if el > 0 {
		t = min(float64(el)/float64(p.cfg.Smooth), 1)
	}
	return p.cfg.Lerp(&p.ghost, &p.state, t)
}

// Seq returns the sequence number of the newest input (0 before the
// first Tick).
func (p *Predictor[S, I]) Seq() uint32 {
	return p.seq
}

// Acked returns the newest input the server said it applied (0 before
// the first Reconcile).
func (p *Predictor[S, I]) Acked() uint32 {
	return p.acked
}

// Stats returns the predictor's figures.
func (p *Predictor[S, I]) Stats() Stats {
	s := p.stats
	s.Pending = p.n
	return s
}
