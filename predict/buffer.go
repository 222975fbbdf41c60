package predict

// BufferConfig configures a Buffer; a zero field takes its default.
type BufferConfig struct {
	// Depth is the most inputs a client can have waiting (4). When one
	// more comes, the oldest waiting is dropped unapplied: a client that
	// sends faster than the server ticks (a flood, a fast clock, a burst
	// after a stall) gains nothing and adds no delay.
	Depth int
}

// DefaultDepth is BufferConfig.Depth's default.
const DefaultDepth = 4

// BufferStats are a Buffer's figures since it was made.
type BufferStats struct {
	// Applied counts the inputs Next returned that the client sent.
	Applied uint64
	// Held counts the ticks Next returned no input: the client's next
	// input had not come (a lost datagram whose inputs the next one
	// brings, jitter, a slow clock, a pause). From then on its inputs
	// have a tick more of slack.
	Held uint64
	// Drained counts the ticks Next returned two inputs: more than one
	// had waited after every tick for DrainAfter ticks, slack the client
	// no longer needs, which would delay its inputs for good. One input
	// of slack stays, for a late one.
	Drained uint64
	// Missing counts the inputs that never came before a newer one (all
	// their copies lost): Next returned the last input again in their
	// place.
	Missing uint64
	// Duplicates counts inputs received again (the batches repeat each
	// input): already applied or waiting.
	Duplicates uint64
	// Late counts inputs that came after their turn went to a repeat
	// (Missing).
	Late uint64
	// Dropped counts inputs dropped unapplied because Depth were waiting.
	Dropped uint64
	// Jumps counts the times the buffer skipped ahead to a client's
	// inputs more than Depth ahead of the last applied (a client that
	// restarted its numbering, or lies).
	Jumps uint64
}

// DrainAfter is how many ticks in a row a Buffer lets more than one input
// wait before Next gives two at once (two seconds at 60 ticks a second).
const DrainAfter = 120

// Buffer is the server's jitter buffer of one client's inputs: Add what
// the client sends; each tick, apply what Next returns. It holds at most
// Depth inputs whatever the client sends, and its work per input is
// bounded by Depth.
//
// Each input the client sent is applied once, in order, by the game's
// step function: the state the server computes is the one the client
// predicted, whatever the network did to the inputs' timing. When the
// next input is late, the tick applies none (the game leaves the
// client's entity where it is, or repeats the last input if it must move
// it); when the client has more slack than it needs, a tick applies two.
//
// Sequence numbers are compared as plain uint32 (2^32 ticks are more than
// two years at 60 ticks a second): they do not wrap. A client that sends
// sequence numbers near 2^32-1 is jumped to them and then has nothing
// newer to send; it only hurts itself. Its memory is fixed by NewBuffer:
// Add and Next allocate nothing.
type Buffer[I any] struct {
	depth int
	// wait holds the waiting inputs, sorted by Seq, all after applied;
	// at most depth of them (cap depth+1 for the one that overflows).
	wait []Input[I]
	// applied is the last input applied or repeated (0 before any), last
	// the input Next last returned.
	applied uint32
	last    Input[I]
	started bool
	// slack counts the ticks in a row after which more than one input
	// waited.
	slack int
	// repeated marks the inputs repeated in place of a missing one and
	// not yet received: bit i for applied-i.
	repeated uint64
	stats    BufferStats
}

// NewBuffer returns an empty buffer.
func NewBuffer[I any](cfg BufferConfig) *Buffer[I] {
	if cfg.Depth <= 0 {
		cfg.Depth = DefaultDepth
	}
	return &Buffer[I]{depth: cfg.Depth, wait: make([]Input[I], 0, cfg.Depth+1)}
}

// advance moves applied to seq (after it), shifting the marks of the
// repeated inputs with it.
func (b *Buffer[I]) advance(seq uint32) {
	if d := seq - b.applied; d >= 64 {
		b.repeated = 0
	} else {
		b.repeated <<= d
	}
	b.applied = seq
}

// pop removes the oldest waiting input and returns it.
func (b *Buffer[I]) pop() Input[I] {
	in := b.wait[0]
	copy(b.wait, b.wait[1:])
	b.wait[len(b.wait)-1] = Input[I]{}
	b.wait = b.wait[:len(b.wait)-1]
	return in
}

// Add takes the inputs of one batch (ParseBatch), in any order: those
// already applied or waiting are duplicates, those whose tick was
// repeated are late, the rest wait for their tick. It returns how many
// were new. Inputs numbered 0 (never a valid sequence number) are
// ignored.
//
// When more than Depth inputs wait, the oldest is dropped unapplied
// (Stats.Dropped), and with it its turn: the inputs up to it count as
// applied (Applied), and are duplicates if they come after, as are those
// a jump skipped (Next).
func (b *Buffer[I]) Add(ins []Input[I]) int {
	added := 0
	for i := range ins {
		in := &ins[i]
		if in.Seq == 0 {
			continue
		}
		if in.Seq <= b.applied {
			if d := b.applied - in.Seq; d < 64 && b.repeated&(1<<d) != 0 {
				b.repeated &^= 1 << d
				b.stats.Late++
			} else {
				b.stats.Duplicates++
			}
			continue
		}
		// Find its place from the newest end: inputs mostly come in
		// order.
		j := len(b.wait)
		for j > 0 && b.wait[j-1].Seq > in.Seq {
			j--
		}
		if j > 0 && b.wait[j-1].Seq == in.Seq {
			b.stats.Duplicates++
			continue
		}
		b.wait = append(b.wait, Input[I]{})
		copy(b.wait[j+1:], b.wait[j:])
		b.wait[j] = *in
		added++
		if len(b.wait) > b.depth {
			old := b.pop()
			b.stats.Dropped++
			b.advance(old.Seq)
		}
	}
	return added
}

// Next appends to dst the inputs to apply this tick, oldest first, and
// returns it:
//   - one: the next input in order;
//   - none, when the next has not come (Stats.Held): the client's inputs
//     came late, and from then on have a tick more of slack;
//   - two, when more than one input waited after every tick for
//     DrainAfter ticks (Stats.Drained): slack the client no longer needs
//     is given back, and its inputs are applied a tick sooner from then
//     on;
//   - when a newer input waits but the next never came (all its copies
//     lost), the last input again in the missing one's place, with the
//     missing one's number (Stats.Missing); the missing one is late and
//     dropped if it comes.
//
// A client more than Depth inputs ahead of the last applied (or whose
// first input this is) is jumped to: its oldest waiting input is
// applied. Last returns the last input applied.
func (b *Buffer[I]) Next(dst []Input[I]) []Input[I] {
	if len(b.wait) == 0 {
		if b.started {
			b.stats.Held++
		}
		return dst
	}
	dst = append(dst, b.take())
	if b.slack >= DrainAfter && len(b.wait) > 0 {
		// More slack than the client has needed for a while: two
		// inputs this tick.
		b.slack = 0
		b.stats.Drained++
		dst = append(dst, b.take())
	}
	if len(b.wait) > 1 {
		b.slack++
	} else {
		b.slack = 0
	}
	return dst
}

// take applies the next input: the oldest waiting, or a repeat in place
// of a missing one. Something waits.
func (b *Buffer[I]) take() Input[I] {
	seq := b.wait[0].Seq
	switch {
	case !b.started, seq == b.applied+1:
	case uint64(seq-b.applied-1) >= uint64(b.depth):
		b.stats.Jumps++
	default:
		// A gap shorter than Depth: the next input is missing. Repeat
		// the last in its place, and count it applied.
		b.advance(b.applied + 1)
		b.repeated |= 1
		b.last.Seq = b.applied
		b.stats.Missing++
		return b.last
	}
	b.last = b.pop()
	b.advance(b.last.Seq)
	b.started = true
	b.stats.Applied++
	return b.last
}

// Last returns the last input Next returned (the zero Input before any).
func (b *Buffer[I]) Last() Input[I] { return b.last }

// Applied returns the sequence number of the last input applied (or
// repeated in place of a missing one, or dropped: Add): what the server
// reports to the client as acknowledged. 0 before any.
func (b *Buffer[I]) Applied() uint32 {
	return b.applied
}

// Len returns the number of inputs waiting.
func (b *Buffer[I]) Len() int {
	return len(b.wait)
}

// Stats returns the buffer's figures.
func (b *Buffer[I]) Stats() BufferStats {
	return b.stats
}
