package predict_test

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/predict"
)

// in returns input seq of the buffer tests: its thrust tells it apart.
func in(seq uint32) predict.Input[thrust] {
	return predict.Input[thrust]{Seq: seq, In: thrust{Thrust: int8(seq % 100)}}
}

func ins(seqs ...uint32) []predict.Input[thrust] {
	r := make([]predict.Input[thrust], len(seqs))
	for i, s := range seqs {
		r[i] = in(s)
	}
	return r
}

// next calls Next and checks the inputs it returns: none (a hold), one,
// or two (a drain).
func next(t *testing.T, b *predict.Buffer[thrust], want ...predict.Input[thrust]) {
	t.Helper()
	got := b.Next(nil)
	if len(want) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, want, got)
	require.Equal(t, want[len(want)-1], b.Last())
	require.Equal(t, want[len(want)-1].Seq, b.Applied())
}

// as returns input of (its In) numbered seq: a repeat.
func as(input predict.Input[thrust], seq uint32) predict.Input[thrust] {
	input.Seq = seq
	return input
}

func TestBufferBeforeAnyInput(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	for range 3 {
		next(t, b)
	}
	require.Zero(t, b.Applied())
	require.Zero(t, b.Len())
	require.Zero(t, b.Last())
	require.Equal(t, predict.BufferStats{}, b.Stats(), "no tick held before any input")
}

func TestBufferInOrder(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	require.Equal(t, 3, b.Add(ins(1, 2, 3)))
	require.Equal(t, 3, b.Len())
	for s := uint32(1); s <= 3; s++ {
		next(t, b, in(s))
		require.Equal(t, s, b.Applied())
	}
	for s := uint32(4); s <= 100; s++ {
		require.Equal(t, 1, b.Add(ins(s)))
		next(t, b, in(s))
	}
	require.Equal(t, predict.BufferStats{Applied: 100}, b.Stats())
}

func TestBufferNextAppends(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	b.Add(ins(1, 2))
	dst := ins(7)
	dst = b.Next(dst)
	require.Equal(t, ins(7, 1), dst, "appended to dst")
	require.Equal(t, ins(2), b.Next(dst[:0]))
	require.Equal(t, ins(9), b.Next(ins(9)), "a hold appends nothing")
}

func TestBufferRedundantBatches(t *testing.T) {
	// A client's batches repeat its last 4 inputs.
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	for s := uint32(1); s <= 50; s++ {
		var batch []predict.Input[thrust]
		for k := max(int(s)-3, 1); k <= int(s); k++ {
			batch = append(batch, in(uint32(k)))
		}
		require.Equal(t, 1, b.Add(batch), "seq %d", s)
		next(t, b, in(s))
	}
	st := b.Stats()
	require.Equal(t, uint64(50), st.Applied)
	require.Equal(t, uint64(0+1+2+3*47), st.Duplicates)

	// Waiting duplicates count too.
	require.Equal(t, 2, b.Add(ins(51, 52)))
	require.Equal(t, 1, b.Add(ins(51, 52, 53)))
	require.Equal(t, 3, b.Len())
	require.Equal(t, st.Duplicates+2, b.Stats().Duplicates)
}

func TestBufferUnordered(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{Depth: 8})
	require.Equal(t, 6, b.Add(ins(5, 3, 4, 2, 3, 1, 6)))
	require.Equal(t, uint64(1), b.Stats().Duplicates)
	for s := uint32(1); s <= 6; s++ {
		next(t, b, in(s))
	}
	require.Equal(t, 3, b.Add(ins(9, 7, 8)))
	for s := uint32(7); s <= 9; s++ {
		next(t, b, in(s))
	}
}

func TestBufferStarvation(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{}) // Depth 4
	b.Add(ins(1))
	next(t, b, in(1))
	// Nothing waits: input 2 is late. No input this tick (held); 2's
	// turn is not taken, and Last is still 1.
	next(t, b)
	require.Equal(t, uint32(1), b.Applied())
	require.Equal(t, in(1), b.Last())
	st := b.Stats()
	require.Equal(t, uint64(1), st.Held)
	require.Zero(t, st.Missing)
	require.Equal(t, uint64(1), st.Applied)

	// 2 comes with 3: 2 is applied on this tick, a tick later than its
	// own, and 3 waits: from now on the client's inputs are applied a tick
	// later (one input of slack).
	require.Equal(t, 2, b.Add(ins(2, 3)))
	st = b.Stats()
	require.Zero(t, st.Late)
	require.Zero(t, st.Duplicates)
	next(t, b, in(2))
	require.Equal(t, 1, b.Len())
	require.Zero(t, b.Add(ins(1, 2)), "then duplicates")
	require.Equal(t, uint64(2), b.Stats().Duplicates)

	// Input s comes on tick s (with s-1 again): s-1 is applied, s waits.
	// One waiting is not more slack than needed: nothing is drained.
	for s := uint32(4); s <= 3+2*predict.DrainAfter; s++ {
		require.Equal(t, 1, b.Add(ins(s-1, s)))
		next(t, b, in(s-1))
		require.Equal(t, 1, b.Len())
	}
	st = b.Stats()
	require.Equal(t, uint64(2+2*predict.DrainAfter), st.Applied) // 1, then 2 to 2+2*DrainAfter
	require.Equal(t, uint64(1), st.Held)
	require.Zero(t, st.Missing)
	require.Zero(t, st.Late)
	require.Zero(t, st.Drained)
	require.Equal(t, uint64(2+2*predict.DrainAfter), st.Duplicates) // 1, 2, then s-1 waiting
}

func TestBufferMissingRepeated(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	b.Add(ins(1))
	next(t, b, in(1))
	// Input 2 is lost, 3 and 4 came: 1 again, in 2's place.
	require.Equal(t, 2, b.Add(ins(3, 4)))
	next(t, b, as(in(1), 2))
	st := b.Stats()
	require.Equal(t, uint64(1), st.Missing)
	require.Zero(t, st.Held)
	require.Equal(t, uint64(1), st.Applied, "a repeat is not an input the client sent")
	next(t, b, in(3))

	// 2 comes late, then again: late once, then a duplicate.
	require.Zero(t, b.Add(ins(2)))
	require.Equal(t, uint64(1), b.Stats().Late)
	require.Zero(t, b.Add(ins(2, 3)))
	st = b.Stats()
	require.Equal(t, uint64(1), st.Late)
	require.Equal(t, uint64(2), st.Duplicates)
	next(t, b, in(4))

	// Two missing in a row, then nothing waiting: the repeats in place of
	// missing inputs carry their numbers; a hold applies none.
	b.Add(ins(7))
	next(t, b, as(in(4), 5))
	next(t, b, as(in(4), 6))
	next(t, b, in(7))
	next(t, b)
	require.Equal(t, uint32(7), b.Applied())
	// 9 comes, 8 has not: 7 again, in 8's place, then 9 on the next tick.
	b.Add(ins(9))
	next(t, b, as(in(7), 8))
	next(t, b, in(9))
	next(t, b)
	next(t, b)
	require.Equal(t, uint32(9), b.Applied())
	st = b.Stats()
	require.Equal(t, uint64(4), st.Missing) // 2, 5, 6, 8
	require.Equal(t, uint64(3), st.Held)    // after 7, twice after 9
	require.Equal(t, uint64(5), st.Applied) // 1, 3, 4, 7, 9

	// Late for 5, 6 and 8, in any order, each once.
	require.Zero(t, b.Add(ins(8, 6, 5, 6, 8, 9)))
	st = b.Stats()
	require.Equal(t, uint64(1+3), st.Late)
	require.Equal(t, uint64(2+3), st.Duplicates)

	// 10 and 11 were held for, not missing: they come late with 12, in
	// any order, and are applied, in order.
	require.Equal(t, 3, b.Add(ins(12, 11, 10)))
	st = b.Stats()
	require.Equal(t, uint64(1+3), st.Late)
	require.Equal(t, uint64(4), st.Missing)
	next(t, b, in(10))
	next(t, b, in(11))
	next(t, b, in(12))
}

func TestBufferLateFarBack(t *testing.T) {
	// The marks of the inputs repeated in place of missing ones go back
	// 64 inputs: 2, missing, is late up to 63 inputs after it was
	// repeated, a duplicate after that.
	for _, c := range []struct {
		last uint32
		late bool
	}{{65, true}, {66, false}, {70, false}} {
		b := predict.NewBuffer[thrust](predict.BufferConfig{})
		b.Add(ins(1))
		next(t, b, in(1))
		b.Add(ins(3))
		next(t, b, as(in(1), 2))
		next(t, b, in(3))
		for s := uint32(4); s <= c.last; s++ {
			b.Add(ins(s))
			next(t, b, in(s))
		}
		require.Zero(t, b.Add(ins(2)))
		st := b.Stats()
		if c.late {
			require.Equal(t, uint64(1), st.Late, "applied %d", c.last)
			require.Zero(t, st.Duplicates)
		} else {
			require.Zero(t, st.Late, "applied %d", c.last)
			require.Equal(t, uint64(1), st.Duplicates)
		}
	}
}

func TestBufferJumpFirst(t *testing.T) {
	// A first input is applied whatever its number.
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	b.Add(ins(1002, 1000, 1001))
	next(t, b, in(1000))
	require.Equal(t, uint32(1000), b.Applied())
	next(t, b, in(1001))
	require.Zero(t, b.Stats().Jumps)
	require.Zero(t, b.Stats().Missing)
	require.Zero(t, b.Add(ins(999)), "before the first: a duplicate")
	require.Equal(t, uint64(1), b.Stats().Duplicates)
}

func TestBufferJumpFarAhead(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{}) // Depth 4
	b.Add(ins(5))
	next(t, b, in(5))
	// 9 is 3 missing ahead of 5 (fewer than Depth): repeats.
	b.Add(ins(9))
	next(t, b, as(in(5), 6))
	require.Zero(t, b.Stats().Jumps)
	next(t, b, as(in(5), 7))
	next(t, b, as(in(5), 8))
	next(t, b, in(9))
	// 14 is 4 missing ahead of 9 (Depth): jumped to.
	b.Add(ins(14))
	next(t, b, in(14))
	st := b.Stats()
	require.Equal(t, uint64(1), st.Jumps)
	require.Equal(t, uint64(3), st.Missing)
	require.Equal(t, uint32(14), b.Applied())
	// The inputs jumped over are duplicates when they come.
	require.Zero(t, b.Add(ins(10, 11, 12, 13)))
	require.Equal(t, uint64(4), b.Stats().Duplicates)

	// A client that restarts its numbering far ahead.
	b.Add(ins(1_000_000, 1_000_001))
	next(t, b, in(1_000_000))
	next(t, b, in(1_000_001))
	require.Equal(t, uint64(2), b.Stats().Jumps)
}

func TestBufferDropped(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{Depth: 4})
	b.Add(ins(1))
	b.Next(nil)
	// 2 lost; 3 to 6 wait; 7 makes 5: the oldest, 3, is dropped, with its
	// turn: 2 and 3 count as applied.
	require.Equal(t, 5, b.Add(ins(3, 4, 5, 6, 7)))
	require.Equal(t, 4, b.Len())
	st := b.Stats()
	require.Equal(t, uint64(1), st.Dropped)
	require.Equal(t, uint32(3), b.Applied())
	next(t, b, in(4))
	require.Zero(t, b.Add(ins(2, 3)))
	st = b.Stats()
	require.Equal(t, uint64(2), st.Duplicates)
	require.Zero(t, st.Missing)
	require.Zero(t, st.Late)

	// Before the first Next: the first inputs are dropped the same way.
	b = predict.NewBuffer[thrust](predict.BufferConfig{Depth: 4})
	require.Equal(t, 6, b.Add(ins(1, 2, 3, 4, 5, 6)))
	require.Equal(t, 4, b.Len())
	require.Equal(t, uint64(2), b.Stats().Dropped)
	require.Equal(t, uint32(2), b.Applied())
	require.Zero(t, b.Add(ins(1)))
	next(t, b, in(3))
	require.Zero(t, b.Stats().Jumps)

	// 4, 5 and 6 wait; 7 and 8 drop 4; 9 drops 5.
	require.Equal(t, 2, b.Add(ins(5, 6, 7, 8)))
	require.Equal(t, 4, b.Len())
	require.Equal(t, uint32(4), b.Applied())
	require.Equal(t, 1, b.Add(ins(9)))
	require.Equal(t, uint32(5), b.Applied())
	require.Equal(t, uint64(4), b.Stats().Dropped)
	next(t, b, in(6))
}

func TestBufferFlood(t *testing.T) {
	// A client sends inputs far faster than the server ticks: 10,000
	// distinct inputs in batches of MaxBatch, one tick per batch.
	for _, depth := range []int{1, 4, 16} {
		b := predict.NewBuffer[thrust](predict.BufferConfig{Depth: depth})
		batch := make([]predict.Input[thrust], predict.MaxBatch)
		dst := make([]predict.Input[thrust], 0, 2)
		seq := uint32(0)
		fill := func() {
			for i := range batch {
				seq++
				batch[i] = in(seq)
			}
		}
		for seq < 10_000 {
			fill()
			require.Equal(t, len(batch), b.Add(batch))
			require.LessOrEqual(t, b.Len(), depth)
			drained := b.Stats().Drained
			dst = b.Next(dst[:0])
			// The oldest of the newest Depth, and the one after it when a
			// drain gives back a tick of slack.
			want := []predict.Input[thrust]{in(seq - uint32(depth) + 1)}
			if b.Stats().Drained > drained {
				want = append(want, in(seq-uint32(depth)+2))
			}
			require.Equal(t, want, dst, "the oldest of the newest Depth")
		}
		allocs := testing.AllocsPerRun(100, func() {
			fill()
			b.Add(batch)
			dst = b.Next(dst[:0])
		})
		require.Zero(t, allocs)
		require.LessOrEqual(t, b.Len(), depth)
		st := b.Stats()
		// Depth-1 wait after every tick: for Depth over 2, more than one,
		// and a tick applies two every DrainAfter+1 ticks.
		require.Equal(t, depth > 2, st.Drained > 0, "depth %d: drained %d", depth, st.Drained)
		require.Equal(t, uint64(seq), st.Applied+st.Dropped+uint64(b.Len()), "every input applied, dropped or waiting")
		require.Zero(t, st.Missing)
		require.Zero(t, st.Held)
	}
}

func TestBufferSeqZeroIgnored(t *testing.T) {
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	require.Zero(t, b.Add(ins(0, 0)))
	require.Zero(t, b.Len())
	next(t, b)
	require.Equal(t, predict.BufferStats{}, b.Stats())
}

func TestBufferSeqNearMax(t *testing.T) {
	const top = math.MaxUint32
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	require.Equal(t, 3, b.Add(ins(top, top-2, top-1)))
	next(t, b, in(top-2))
	next(t, b, in(top-1))
	next(t, b, in(top))
	require.Equal(t, uint32(top), b.Applied())
	// Nothing can come after: holds, and everything is a duplicate.
	for range 100 {
		next(t, b)
	}
	require.Equal(t, in(top), b.Last())
	require.Zero(t, b.Add(ins(1, 2, top, top-1, 0)))
	require.Zero(t, b.Len())
	st := b.Stats()
	require.Equal(t, uint64(100), st.Held)
	require.Equal(t, uint64(4), st.Duplicates)

	// A jump to the top, a gap below it.
	b = predict.NewBuffer[thrust](predict.BufferConfig{})
	b.Add(ins(1))
	b.Next(nil)
	b.Add(ins(top, top-2))
	next(t, b, in(top-2))
	next(t, b, as(in(top-2), top-1))
	next(t, b, in(top))
	next(t, b)
	require.Equal(t, uint64(1), b.Stats().Jumps)
	require.Zero(t, b.Add(ins(top-1)))
	require.Equal(t, uint64(1), b.Stats().Late)

	// A flood at the top.
	b = predict.NewBuffer[thrust](predict.BufferConfig{Depth: 3})
	all := make([]predict.Input[thrust], 0, 40)
	for s := uint32(top - 39); ; s++ {
		all = append(all, in(s))
		if s == top {
			break
		}
	}
	require.Equal(t, 40, b.Add(all))
	require.Equal(t, 3, b.Len())
	next(t, b, in(top-2))
	next(t, b, in(top-1))
	next(t, b, in(top))
	next(t, b)

	// A batch parsed at the top goes in.
	raw := predict.AppendBatch(nil, inputs(top, predict.MaxBatch), thrustCodec)
	parsed, err := predict.ParseBatch(nil, raw, thrustCodec)
	require.NoError(t, err)
	b = predict.NewBuffer[thrust](predict.BufferConfig{Depth: predict.MaxBatch})
	require.Equal(t, predict.MaxBatch, b.Add(parsed))
	for i := range parsed {
		assert.Equal(t, parsed[i:i+1], b.Next(nil))
	}
	next(t, b)
}

// batchOf returns the batch a client sends after input newest, as the
// server parses it: its last red inputs (fewer at the start), oldest
// first.
func batchOf(t *testing.T, newest uint32, red int) []predict.Input[thrust] {
	t.Helper()
	n := min(uint32(red), newest)
	sent := make([]uint32, 0, n)
	for s := newest - n + 1; s <= newest; s++ {
		sent = append(sent, s)
	}
	raw := predict.AppendBatch(nil, ins(sent...), thrustCodec)
	got, err := predict.ParseBatch(nil, raw, thrustCodec)
	require.NoError(t, err)
	require.Equal(t, ins(sent...), got)
	return got
}

func TestBufferBatchAnyOrder(t *testing.T) {
	// 2 had not come on its tick: the tick was held. A batch brings 2
	// with 3 after it (and 1 again). Whatever the order of its inputs, 2
	// and 3 are new, and applied in order on the next ticks.
	for _, batch := range [][]uint32{{2, 3}, {3, 2}, {1, 2, 3}, {3, 1, 2}, {3, 2, 1}} {
		b := predict.NewBuffer[thrust](predict.BufferConfig{})
		b.Add(ins(1))
		next(t, b, in(1))
		next(t, b)
		require.Equal(t, 2, b.Add(ins(batch...)), "batch %v", batch)
		st := b.Stats()
		require.Zero(t, st.Late, "batch %v", batch)
		require.Equal(t, uint64(1), st.Held, "batch %v", batch)
		require.Equal(t, 2, b.Len(), "batch %v", batch)
		next(t, b, in(2))
		next(t, b, in(3))
	}

	// 2 was missing (3 had come): 1 was repeated in its place. A batch
	// brings 2 and 4 (and 3 again): whatever the order, 2 is late and
	// dropped, 4 is new.
	for _, batch := range [][]uint32{{2, 4}, {4, 2}, {2, 3, 4}, {4, 3, 2}, {3, 4, 2}} {
		b := predict.NewBuffer[thrust](predict.BufferConfig{})
		b.Add(ins(1))
		next(t, b, in(1))
		b.Add(ins(3))
		next(t, b, as(in(1), 2))
		next(t, b, in(3))
		require.Equal(t, 1, b.Add(ins(batch...)), "batch %v", batch)
		st := b.Stats()
		require.Equal(t, uint64(1), st.Late, "batch %v", batch)
		require.Equal(t, uint64(len(batch)-2), st.Duplicates, "batch %v", batch)
		require.Equal(t, 1, b.Len(), "batch %v", batch)
		next(t, b, in(4))
	}
}

func TestBufferSteadyArrival(t *testing.T) {
	// A client's batches (each repeating its last 4 inputs) arrive one per
	// tick, input s in tick s, but every 20th is lost. The first loss
	// starves the buffer: the tick is held, and the lost input comes in
	// the next batch, with the next one: from then on one input waits
	// after each tick (the client's inputs are applied a tick after they
	// come). That slack covers every later loss: the next batch brings the
	// lost input again, nothing more is held, none is missing, and never
	// more than 2 wait.
	const ticks = 2001
	for _, order := range []string{"as parsed", "newest first"} {
		t.Run(order, func(t *testing.T) {
			b := predict.NewBuffer[thrust](predict.BufferConfig{})
			received := 0
			for s := uint32(1); s <= ticks; s++ {
				lost := s%20 == 0
				if !lost {
					batch := batchOf(t, s, predict.DefaultRedundancy)
					received += len(batch)
					if order == "newest first" {
						slices.Reverse(batch)
					}
					b.Add(batch)
					require.LessOrEqual(t, b.Len(), 2, "tick %d", s)
				}
				got := b.Next(nil)
				switch {
				case s < 20:
					require.Equal(t, ins(s), got, "tick %d: on its tick", s)
					require.Zero(t, b.Len(), "tick %d", s)
				case s == 20:
					require.Empty(t, got, "tick %d: held", s)
					require.Equal(t, s-1, b.Applied(), "tick %d", s)
					require.Zero(t, b.Len(), "tick %d", s)
				default:
					require.Equal(t, ins(s-1), got, "tick %d: a tick after it came", s)
					if lost {
						require.Zero(t, b.Len(), "tick %d: the slack used", s)
					} else {
						require.Equal(t, 1, b.Len(), "tick %d", s)
					}
				}
				wantHeld := uint64(0)
				if s >= 20 {
					wantHeld = 1
				}
				require.Equal(t, wantHeld, b.Stats().Held, "tick %d: held once", s)
			}
			st := b.Stats()
			require.Equal(t, uint64(1), st.Held)
			require.Zero(t, st.Missing)
			require.Zero(t, st.Late)
			require.Equal(t, uint64(ticks-1), st.Applied, "every input but the last, waiting")
			require.Equal(t, uint64(received-ticks), st.Duplicates)
			require.Zero(t, st.Dropped)
			require.Zero(t, st.Jumps)
			require.Zero(t, st.Drained, "one waiting is not too much slack")
		})
	}
}

func TestBufferSlowClient(t *testing.T) {
	// A client whose clock runs slow: it sends its input every tick but
	// has none on every 50th. That tick is held (no input, Applied
	// stays), and its next input is applied on the next tick: a hold per
	// skip, no latency added, and no input late, missing or drained.
	const ticks = 1010
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	var seq uint32
	skipped := 0
	for tick := 1; tick <= ticks; tick++ {
		skip := tick%50 == 0
		if skip {
			skipped++
		} else {
			seq++
			require.Equal(t, 1, b.Add(batchOf(t, seq, predict.DefaultRedundancy)), "tick %d", tick)
			require.Equal(t, 1, b.Len(), "tick %d", tick)
		}
		got := b.Next(nil)
		if skip {
			require.Empty(t, got, "tick %d", tick)
		} else {
			require.Equal(t, ins(seq), got, "tick %d", tick)
		}
		require.Equal(t, seq, b.Applied(), "tick %d: no latency added", tick)
		require.Zero(t, b.Len(), "tick %d", tick)
		require.Equal(t, uint64(skipped), b.Stats().Held, "tick %d: a hold per skip", tick)
	}
	st := b.Stats()
	require.Equal(t, 20, skipped)
	require.Equal(t, uint32(ticks-skipped), seq)
	require.Equal(t, uint64(skipped), st.Held)
	require.Equal(t, uint64(seq), st.Applied, "every input applied")
	require.Zero(t, st.Missing)
	require.Zero(t, st.Late)
	require.Zero(t, st.Dropped)
	require.Zero(t, st.Jumps)
	require.Zero(t, st.Drained)
}

func TestBufferSlowClientJitter(t *testing.T) {
	// The slow client over a link that delays its batches 1 to 4 ticks
	// (they overtake each other; none is lost), then 1 tick: the jitter
	// passed. A batch later than the ones before it holds a tick, which
	// leaves the client a tick more of slack; its skips use the slack up
	// once the link no longer needs it (and a drain would, if it lasted
	// DrainAfter ticks). Every input is applied once, in order; the
	// latency (the client's newest input minus the last applied) stays
	// under the link's longest delay, and falls back to its shortest
	// once the jitter passed.
	const ticks = 30_000
	const delay, jitter = 1, 3
	for seed := uint64(1); seed <= 4; seed++ {
		link := newChannel[[]predict.Input[thrust]](seed, 0, -1, delay, jitter)
		b := predict.NewBuffer[thrust](predict.BufferConfig{})
		var seq uint32
		var lag []int
		var got []predict.Input[thrust]
		want := uint32(1)
		first, skips := 0, 0
		for tick := 1; tick <= ticks; tick++ {
			if tick == ticks/2 {
				link.jitter = 0
			}
			if tick%50 != 0 {
				seq++
				link.send(tick, batchOf(t, seq, predict.DefaultRedundancy))
			} else {
				skips++
			}
			link.deliver(tick, func(batch []predict.Input[thrust]) { b.Add(batch) })
			got = b.Next(got[:0])
			for _, g := range got {
				require.Equal(t, in(want), g, "tick %d: each input once, in order", tick)
				want++
			}
			if b.Applied() > 0 {
				if first == 0 {
					first = tick
				}
				lag = append(lag, int(seq)-int(b.Applied()))
			}
		}
		st := b.Stats()
		means := windowMeans(lag, 3000)
		t.Logf("seed %d: overtook %d; %+v; lag max %d, per 3000 ticks %.2f", seed, link.overtook, st, slices.Max(lag), means)
		require.Greater(t, link.overtook, 1000)
		require.Zero(t, st.Missing, "every batch brings the 3 inputs before its newest")
		require.Zero(t, st.Late)
		require.Zero(t, st.Dropped)
		require.Zero(t, st.Jumps)
		require.Equal(t, uint64(b.Applied()), st.Applied)
		// From its first input on, the buffer took one input a tick, none
		// in a hold, two in a drain; the client made one a tick but in its
		// skips: the holds pay for the skips, and for the latency left.
		end := lag[len(lag)-1]
		require.Equal(t, skips+end-(first-1), int(st.Held)-int(st.Drained), "seed %d", seed)
		// A hold comes when every input received is applied, and the
		// inputs sent delay+jitter ticks before have all come: the
		// latency is then at most delay+jitter, and does not grow until
		// the next hold (a tick applies one input or two, the client
		// makes at most one).
		for i, l := range lag {
			require.LessOrEqual(t, l, delay+jitter, "seed %d, tick %d", seed, i)
		}
		for _, m := range means[:len(means)/2] {
			require.LessOrEqual(t, m, means[0]+0.5, "seed %d: latency per 3000 ticks %.2f", seed, means)
		}
		// The jitter passed: the input of each tick comes the next, and
		// is applied then (at a skip, the one before: no more slack).
		for i, l := range lag[len(lag)-ticks/4:] {
			require.LessOrEqual(t, l, delay, "seed %d, tick %d of the last quarter", seed, i)
		}
	}
}

func TestBufferQuietClient(t *testing.T) {
	// A client stops sending for 100 ticks (paused), then goes on where
	// it was. While it is quiet its ticks are held: Applied stays, no
	// turn is taken. When it comes back its inputs are applied in order,
	// on their ticks.
	for _, depth := range []int{1, 4, 8} {
		b := predict.NewBuffer[thrust](predict.BufferConfig{Depth: depth})
		var seq uint32
		for range 30 {
			seq++
			b.Add(batchOf(t, seq, predict.DefaultRedundancy))
			next(t, b, in(seq))
		}
		for i := 1; i <= 100; i++ {
			next(t, b)
			require.Equal(t, seq, b.Applied(), "depth %d, quiet tick %d", depth, i)
			require.Equal(t, uint64(i), b.Stats().Held, "depth %d, quiet tick %d", depth, i)
		}
		require.Equal(t, in(seq), b.Last())
		require.Zero(t, b.Stats().Missing)

		for range 50 {
			seq++
			require.Equal(t, 1, b.Add(batchOf(t, seq, predict.DefaultRedundancy)))
			require.Equal(t, 1, b.Len())
			next(t, b, in(seq))
		}
		st := b.Stats()
		require.Equal(t, uint64(80), st.Applied, "depth %d", depth)
		require.Equal(t, uint64(100), st.Held)
		require.Zero(t, st.Missing)
		require.Zero(t, st.Late)
		require.Zero(t, st.Dropped)
		require.Zero(t, st.Jumps)
		require.Zero(t, st.Drained)
	}
}

func TestBufferOutage(t *testing.T) {
	// A client's datagrams are all lost for 100 ticks while it goes on
	// (inputs 31 to 130). The buffer holds its ticks meanwhile. Then a
	// batch brings 128 to 131, far more than Depth past the last applied:
	// it jumps to them, the inputs in between are gone (they are
	// duplicates if they come), and the 3 inputs of slack the batch left
	// are given back, a tick applying two every DrainAfter+1 ticks, down
	// to one.
	b := predict.NewBuffer[thrust](predict.BufferConfig{}) // Depth 4
	var seq uint32
	for range 30 {
		seq++
		b.Add(batchOf(t, seq, predict.DefaultRedundancy))
		next(t, b, in(seq))
	}
	for range 100 {
		seq++
		next(t, b)
	}
	require.Equal(t, uint32(130), seq)
	require.Equal(t, uint64(100), b.Stats().Held)

	var drains []int
	want := uint32(128)
	for tick := 1; tick <= 3*predict.DrainAfter; tick++ {
		seq++
		b.Add(batchOf(t, seq, predict.DefaultRedundancy))
		got := b.Next(nil)
		if tick == 1 {
			require.Equal(t, ins(128), got, "jumped to the oldest waiting")
			require.Equal(t, uint64(1), b.Stats().Jumps)
			require.Zero(t, b.Add(ins(31, 100, 127)), "jumped over")
		}
		if len(got) == 2 {
			drains = append(drains, tick)
		}
		for _, g := range got {
			require.Equal(t, in(want), g, "tick %d", tick)
			want++
		}
		require.Equal(t, 3-len(drains), int(seq-b.Applied()), "tick %d: the slack left", tick)
	}
	require.Equal(t, []int{predict.DrainAfter + 1, 2*predict.DrainAfter + 1}, drains)
	require.Equal(t, 1, b.Len())
	st := b.Stats()
	require.Equal(t, uint64(1), st.Jumps)
	require.Equal(t, uint64(2), st.Drained)
	require.Equal(t, uint64(100), st.Held)
	require.Zero(t, st.Missing)
	require.Zero(t, st.Late)
	require.Zero(t, st.Dropped)
}

func TestBufferDrain(t *testing.T) {
	// A burst of delay passed: the client's inputs come one per tick, but
	// 3 wait after every tick (the slack the burst left). After DrainAfter
	// ticks with more than one waiting, the next Next applies two: the
	// client's inputs are applied a tick sooner from then on, and still
	// each once, in order. Down to one waiting, nothing more is drained.
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	seq := uint32(4)
	require.Equal(t, 4, b.Add(batchOf(t, seq, predict.DefaultRedundancy)))
	want := uint32(1)
	var drains []int
	for tick := 1; tick <= 5*predict.DrainAfter; tick++ {
		if tick > 1 {
			seq++
			require.Equal(t, 1, b.Add(batchOf(t, seq, predict.DefaultRedundancy)), "tick %d", tick)
		}
		got := b.Next(nil)
		require.NotEmpty(t, got, "tick %d", tick)
		require.LessOrEqual(t, len(got), 2, "tick %d", tick)
		if len(got) == 2 {
			drains = append(drains, tick)
		}
		for _, g := range got {
			require.Equal(t, in(want), g, "tick %d", tick)
			want++
		}
		require.Equal(t, got[len(got)-1].Seq, b.Applied(), "tick %d: the last input returned is the last applied", tick)
	}
	require.Equal(t, []int{predict.DrainAfter + 1, 2*predict.DrainAfter + 1}, drains)
	require.Equal(t, 1, b.Len())
	require.Equal(t, seq-1, b.Applied())
	st := b.Stats()
	require.Equal(t, uint64(2), st.Drained)
	require.Equal(t, uint64(5*predict.DrainAfter+2), st.Applied, "every input applied, those of the drains too")
	require.Zero(t, st.Missing)
	require.Zero(t, st.Late)
	require.Zero(t, st.Dropped)
	require.Zero(t, st.Held)
}

func TestBufferDrainCountResets(t *testing.T) {
	// The count of ticks with more than one waiting starts again after a
	// tick with one: the slack was needed.
	b := predict.NewBuffer[thrust](predict.BufferConfig{})
	require.Equal(t, 3, b.Add(ins(1, 2, 3)))
	seq := uint32(3)
	want := uint32(1)
	var drains []int
	for tick := 1; tick <= 3*predict.DrainAfter; tick++ {
		switch tick {
		case 1:
		case predict.DrainAfter: // nothing comes: one waits after it
		case predict.DrainAfter + 1: // two come
			b.Add(ins(seq+1, seq+2))
			seq += 2
		default:
			seq++
			b.Add(ins(seq))
		}
		got := b.Next(nil)
		if len(got) == 2 {
			drains = append(drains, tick)
		}
		for _, g := range got {
			require.Equal(t, in(want), g, "tick %d", tick)
			want++
		}
		if tick == predict.DrainAfter {
			require.Equal(t, 1, b.Len())
		}
	}
	// Ticks 1 to DrainAfter-1 had 2 waiting after them, tick DrainAfter
	// one: no drain; from tick DrainAfter+1, 2 again: a drain DrainAfter
	// ticks later.
	require.Equal(t, []int{2*predict.DrainAfter + 1}, drains)
	require.Equal(t, 1, b.Len())
	require.Equal(t, uint64(1), b.Stats().Drained)
	require.Zero(t, b.Stats().Held)
}
