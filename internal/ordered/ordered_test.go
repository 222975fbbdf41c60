package ordered

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunk is one chunk of a test stream.
type chunk struct {
	oseq  uint32
	final bool
	data  []byte
}

// stream cuts n chunks, starting at oseq start, into messages of 1 to
// maxChunks chunks of 0 to maxLen random bytes each (the last message may
// be cut short of its final chunk if n runs out; it is then made final).
// It returns the chunks in order and the messages they form.
func stream(rng *rand.Rand, start uint32, n, maxChunks, maxLen int) ([]chunk, [][]byte) {
	var chunks []chunk
	var msgs [][]byte
	for len(chunks) < n {
		k := min(1+rng.IntN(maxChunks), n-len(chunks))
		var msg []byte
		for i := range k {
			b := make([]byte, rng.IntN(maxLen+1))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			msg = append(msg, b...)
			chunks = append(chunks, chunk{start + uint32(len(chunks)), i == k-1, b})
		}
		msgs = append(msgs, msg)
	}
	return chunks, msgs
}

// shuffle permutes chunks within consecutive blocks of block chunks, so
// that no chunk arrives block or more places away from its turn.
func shuffle(rng *rand.Rand, chunks []chunk, block int) []chunk {
	out := append([]chunk(nil), chunks...)
	for i := 0; i < len(out); i += block {
		b := out[i:min(i+block, len(out))]
		rng.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
	}
	return out
}

// collect returns a deliver function that appends copies of the messages
// to *got.
func collect(got *[][]byte) func([]byte) {
	return func(m []byte) { *got = append(*got, bytes.Clone(m)) }
}

func TestVerdictString(t *testing.T) {
	assert.Equal(t, "Accepted", Accepted.String())
	assert.Equal(t, "Duplicate", Duplicate.String())
	assert.Equal(t, "TooFar", TooFar.String())
	assert.Equal(t, "TooLarge", TooLarge.String())
	assert.Equal(t, "Verdict(9)", Verdict(9).String())
}

func TestInit(t *testing.T) {
	var r Receiver
	assert.Equal(t, TooFar, r.Add(0, true, nil, nil), "the zero value accepts nothing")
	for _, w := range []int{0, -1, 3, 1000, 1 << 31} {
		assert.Panics(t, func() { r.Init(w, 10) }, "window %d", w)
	}
	assert.Panics(t, func() { r.Init(4, -1) })
	r.Init(1, 0)
	assert.Equal(t, Accepted, r.Add(0, true, nil, nil))
	assert.Equal(t, TooFar, r.Add(2, true, nil, nil))
	r.Init(8, 10)
	assert.Zero(t, r.Next(), "Init resets")
}

// In-order single-chunk messages go straight to deliver, without a copy
// or an allocation.
func TestInOrder(t *testing.T) {
	var r Receiver
	r.Init(1024, 1<<20)
	data := []byte("hello")
	var got []byte
	calls := 0
	deliver := func(m []byte) { got = m; calls++ }
	for i := range 10 {
		require.Equal(t, Accepted, r.Add(uint32(i), true, data, deliver))
		require.Equal(t, i+1, calls)
		require.Same(t, &data[0], &got[0], "delivered from data, not a copy")
		require.Equal(t, uint32(i+1), r.Next())
	}
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())
	assert.Nil(t, r.slots, "no ring without reordering")

	allocs := testing.AllocsPerRun(1000, func() {
		r.Add(r.Next(), true, data, deliver)
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(1000, func() {
		r.Add(r.Next(), true, data, nil)
	})
	assert.Zero(t, allocs)
}

// A shuffled stream with duplicates delivers every message once, in order.
func TestShuffledWithDuplicates(t *testing.T) {
	const window = 256
	rng := rand.New(rand.NewPCG(1, 2))
	chunks, msgs := stream(rng, 0, 10000, 5, 40)

	// duplicate about a fifth of the chunks within their block, and resend
	// some old ones later
	var feed []chunk
	dups := 0
	for i, c := range chunks {
		feed = append(feed, c)
		if rng.IntN(5) == 0 {
			feed = append(feed, c)
			dups++
		}
		if i > window && rng.IntN(10) == 0 {
			feed = append(feed, chunks[i-window+rng.IntN(window/2)])
			dups++
		}
	}
	// feed has more entries than chunks: shuffling it in blocks of window/2
	// entries still moves no chunk window/2 oseqs away from the previous
	// block's chunks
	feed = shuffle(rng, feed, window/2)

	var r Receiver
	r.Init(window, 5*40)
	var got [][]byte
	counts := map[Verdict]int{}
	maxPending := 0
	for _, c := range feed {
		counts[r.Add(c.oseq, c.final, c.data, collect(&got))]++
		maxPending = max(maxPending, r.Pending())
		require.LessOrEqual(t, r.Held(), window*(5*40+ChunkOverhead))
	}
	assert.Equal(t, map[Verdict]int{Accepted: len(chunks), Duplicate: dups}, counts)
	require.Equal(t, len(msgs), len(got))
	for i := range msgs {
		require.True(t, bytes.Equal(msgs[i], got[i]), "message %d", i)
	}
	assert.Equal(t, uint32(len(chunks)), r.Next())
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())
	assert.Greater(t, maxPending, 10, "the test reorders")
}

// Delivery carries on across the wrap of oseq at 2^32.
func TestWraparound(t *testing.T) {
	const start = 1<<32 - 5
	var r Receiver
	r.Init(16, 1000)
	r.next = start // as if 2^32-5 chunks had been delivered
	rng := rand.New(rand.NewPCG(3, 4))
	chunks, msgs := stream(rng, start, 40, 3, 10)
	require.Equal(t, uint32(0), chunks[5].oseq, "the stream wraps")

	var got [][]byte
	for _, c := range shuffle(rng, chunks, 8) {
		require.Equal(t, Accepted, r.Add(c.oseq, c.final, c.data, collect(&got)), "oseq %d", c.oseq)
	}
	assert.Equal(t, msgs, got)
	assert.Equal(t, uint32(35), r.Next())
	assert.Zero(t, r.Held())

	// before the wrap is now old; the window reaches across nothing
	assert.Equal(t, Duplicate, r.Add(start, true, nil, nil))
	assert.Equal(t, Duplicate, r.Add(1<<32-1, true, nil, nil))
	assert.Equal(t, Duplicate, r.Add(34, true, nil, nil))
	assert.Equal(t, TooFar, r.Add(35+16, true, nil, nil))
	assert.Equal(t, TooFar, r.Add(35+1<<31-1, true, nil, nil))

	// held chunks across the wrap
	r.Init(8, 1000)
	r.next = 1<<32 - 2
	got = nil
	assert.Equal(t, Accepted, r.Add(1, true, []byte("c"), collect(&got)))
	assert.Equal(t, Accepted, r.Add(0, false, []byte("b"), collect(&got)))
	assert.Equal(t, Accepted, r.Add(1<<32-1, true, []byte("a"), collect(&got)))
	assert.Equal(t, 3, r.Pending())
	assert.Equal(t, TooFar, r.Add(6, true, nil, nil), "next+window")
	assert.Equal(t, Accepted, r.Add(5, true, []byte("e"), collect(&got)), "next+window-1")
	assert.Equal(t, Accepted, r.Add(1<<32-2, false, []byte("z"), collect(&got)))
	assert.Equal(t, [][]byte{[]byte("za"), []byte("bc")}, got)
	assert.Equal(t, uint32(2), r.Next())
	assert.Equal(t, 1, r.Pending())
}

func TestVerdicts(t *testing.T) {
	var r Receiver
	r.Init(8, 10)
	var got [][]byte
	d := collect(&got)

	// TooFar at exactly next+window, whatever Next is
	assert.Equal(t, TooFar, r.Add(8, true, []byte("x"), d))
	assert.Equal(t, TooFar, r.Add(1<<31-1, true, []byte("x"), d))
	// half the sequence space away is behind, by serial arithmetic
	assert.Equal(t, Duplicate, r.Add(1<<31, true, []byte("x"), d))
	assert.Equal(t, Accepted, r.Add(7, true, []byte("7"), d))
	assert.Equal(t, 1, r.Pending())
	assert.Equal(t, 1+ChunkOverhead, r.Held()-ringBytes(&r))

	// Duplicate when held; the first copy is kept
	assert.Equal(t, Duplicate, r.Add(7, false, []byte("other"), d))
	assert.Equal(t, 1+ChunkOverhead, r.Held()-ringBytes(&r))

	for i := range 7 {
		assert.Equal(t, Accepted, r.Add(uint32(i), true, []byte{'0' + byte(i)}, d))
	}
	assert.Equal(t, [][]byte{[]byte("0"), []byte("1"), []byte("2"), []byte("3"),
		[]byte("4"), []byte("5"), []byte("6"), []byte("7")}, got)
	assert.Equal(t, uint32(8), r.Next())
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())

	// Duplicate when old, however old
	assert.Equal(t, Duplicate, r.Add(7, true, []byte("7"), d))
	assert.Equal(t, Duplicate, r.Add(0, true, []byte("0"), d))
	assert.Equal(t, Duplicate, r.Add(8+1<<31, true, nil, d))
	assert.Equal(t, TooFar, r.Add(16, true, nil, d))
	assert.Equal(t, Accepted, r.Add(15, true, nil, d))
	assert.Len(t, got, 8)
}

func TestTooLarge(t *testing.T) {
	var r Receiver
	r.Init(8, 10)
	var got [][]byte
	d := collect(&got)

	// a chunk alone, in order or held
	assert.Equal(t, TooLarge, r.Add(0, true, make([]byte, 11), d))
	assert.Equal(t, TooLarge, r.Add(3, true, make([]byte, 11), d))
	assert.Equal(t, Accepted, r.Add(0, true, make([]byte, 10), d))

	// joined in order: 6+4 fits, 6+5 does not
	assert.Equal(t, Accepted, r.Add(1, false, []byte("abcdef"), d))
	assert.Equal(t, 6+ChunkOverhead, r.Held()-ringBytes(&r), "the partial message is held")
	assert.Equal(t, Accepted, r.Add(2, true, []byte("ghij"), d))
	assert.Equal(t, []byte("abcdefghij"), got[1])
	assert.Equal(t, Accepted, r.Add(3, false, []byte("abcdef"), d))
	assert.Equal(t, Accepted, r.Add(5, true, []byte("x"), d))
	assert.Equal(t, TooLarge, r.Add(4, false, []byte("ghijk"), d))
	assert.Zero(t, r.Held(), "TooLarge resets")
	assert.Zero(t, r.Pending())
	assert.Equal(t, uint32(4), r.Next(), "what was consumed stays consumed")

	// joined while draining held chunks: the messages before are delivered
	got = nil
	assert.Equal(t, Accepted, r.Add(5, true, []byte("m"), d))
	assert.Equal(t, Accepted, r.Add(6, false, []byte("123456"), d))
	assert.Equal(t, Accepted, r.Add(7, false, []byte("78901"), d))
	assert.Equal(t, Accepted, r.Add(8, true, nil, d))
	assert.Equal(t, 4, r.Pending())
	assert.Equal(t, 4*ChunkOverhead+12, r.Held()-ringBytes(&r))
	assert.Equal(t, TooLarge, r.Add(4, true, []byte("k"), d))
	assert.Equal(t, [][]byte{[]byte("k"), []byte("m")}, got)
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())
	assert.Nil(t, r.slots, "the ring is released")
}

func TestReset(t *testing.T) {
	var r Receiver
	r.Init(16, 1000)
	var got [][]byte
	d := collect(&got)
	require.Equal(t, Accepted, r.Add(0, false, []byte("abc"), d))
	require.Equal(t, Accepted, r.Add(2, true, []byte("de"), d))
	require.Equal(t, Accepted, r.Add(5, true, nil, d))
	assert.Equal(t, 3+2+3*ChunkOverhead, r.Held()-ringBytes(&r))
	assert.Equal(t, 2, r.Pending())
	r.Reset()
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())
	assert.Equal(t, uint32(1), r.Next(), "Next is kept")
	assert.Nil(t, r.slots)
	assert.Nil(t, r.partial)

	// the forgotten chunks are new again, and the window is kept
	require.Equal(t, Accepted, r.Add(2, true, []byte("de"), d))
	require.Equal(t, Accepted, r.Add(1, false, []byte("x"), d))
	assert.Equal(t, [][]byte{[]byte("xde")}, got)
	assert.Equal(t, TooFar, r.Add(3+16, true, nil, d))
}

// A one-off huge message does not stay resident; ordinary ones keep the
// partial buffer for reuse; the ring of held chunks goes once it is empty.
func TestBuffersReleased(t *testing.T) {
	var r Receiver
	r.Init(4, 1<<20)
	big := make([]byte, 100<<10)
	r.Add(0, false, big, nil)
	assert.Equal(t, len(big)+ChunkOverhead, r.Held()-ringBytes(&r))
	r.Add(1, true, big, nil)
	assert.Nil(t, r.partial)
	assert.Zero(t, r.Held())

	r.Add(3, true, big, nil)
	r.Add(2, false, []byte("x"), nil)
	assert.Nil(t, r.partial, "joined into a huge message")
	assert.Nil(t, r.slots, "the ring goes once nothing is held")

	r.Add(4, false, []byte("ab"), nil)
	r.Add(5, true, []byte("cd"), nil)
	assert.NotNil(t, r.partial, "a small partial buffer is kept")
	assert.Empty(t, r.partial)

	r.Add(7, true, []byte("y"), nil)
	r.Add(6, true, nil, nil)
	assert.Nil(t, r.slots, "the ring and its buffers are dropped once drained: nothing stays resident beyond Held")
	assert.Zero(t, r.Held())
}

// cost returns the allocations and bytes allocated by fn, measured as
// testing.AllocsPerRun does (GOMAXPROCS 1, runtime.MemStats around fn).
func cost(fn func()) (mallocs, bytes uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// What Add allocates is bounded by the bytes it is given: a receiver
// allocates its ring once, then no more than one copy of each chunk it
// holds out of order (one allocation each) and the partial buffer
// doubling up to the largest message.
func TestAllocationBound(t *testing.T) {
	const (
		window  = 64
		maxLen  = 1200 // chunks of up to one datagram
		perMsg  = 5
		nChunks = 4096
	)
	rng := rand.New(rand.NewPCG(5, 6))
	chunks, _ := stream(rng, 0, nChunks, perMsg, maxLen)
	feed := shuffle(rng, chunks, window/2)
	total := 0
	for _, c := range feed {
		total += len(c.data)
	}
	var r Receiver
	r.Init(window, perMsg*maxLen)
	delivered := 0
	deliver := func(m []byte) { delivered += len(m) }
	base := uint32(0)
	run := func() {
		for _, c := range feed {
			if r.Add(base+c.oseq, c.final, c.data, deliver) != Accepted {
				panic("not accepted")
			}
		}
		base += nChunks
	}

	// the ring, at most one copy of every byte held and the partial
	// buffer's doublings (less than twice the largest message); per Add
	// on average, within len(data) plus a small constant
	for round := 0; round < 2; round++ {
		mallocs, bytes := cost(run)
		ring := window * 32
		bound := ring + total + 2*perMsg*maxLen + 16*nChunks
		t.Logf("round %d: %d allocations, %d bytes for %d chunks of %d bytes", round, mallocs, bytes, nChunks, total)
		assert.LessOrEqual(t, bytes, uint64(bound))
		assert.LessOrEqual(t, mallocs, uint64(nChunks+64), "at most one allocation a chunk")
		assert.Zero(t, r.Held())
	}
}

func BenchmarkInOrder(b *testing.B) {
	var r Receiver
	r.Init(1024, 1<<20)
	data := make([]byte, 200)
	n := 0
	deliver := func(m []byte) { n += len(m) }
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Add(r.Next(), true, data, deliver)
	}
}

// BenchmarkShuffled feeds 3-chunk messages of 200-byte chunks shuffled
// within blocks of 32 to a warm receiver with a window of 64.
func BenchmarkShuffled(b *testing.B) {
	const n = 3 * 1024
	feed := make([]chunk, n)
	data := make([]byte, 200)
	for i := range feed {
		feed[i] = chunk{uint32(i), i%3 == 2, data}
	}
	feed = shuffle(rand.New(rand.NewPCG(7, 8)), feed, 32)
	var r Receiver
	r.Init(64, 1<<20)
	deliver := func([]byte) {}
	base := uint32(0)
	i := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c := feed[i]
		r.Add(base+c.oseq, c.final, c.data, deliver)
		if i++; i == n {
			i, base = 0, base+n
		}
	}
}

// TestRingGrowsWithDistance: the ring is as long as the furthest chunk
// held needs, charged in Held, and moves its chunks when it grows.
func TestRingGrowsWithDistance(t *testing.T) {
	var r Receiver
	r.Init(1024, 1<<20)
	var got [][]byte
	d := collect(&got)
	r.Add(3, true, []byte("3"), d)
	assert.Len(t, r.slots, minRing)
	assert.Equal(t, 1+ChunkOverhead+minRing*slotSize, r.Held())
	r.Add(100, true, []byte("100"), d)
	assert.Len(t, r.slots, 128)
	r.Add(1023, true, []byte("1023"), d)
	assert.Len(t, r.slots, 1024, "at most the window")
	for i := uint32(0); i < 1024; i++ {
		r.Add(i, true, []byte(strconv.Itoa(int(i))), d)
	}
	require.Len(t, got, 1024)
	for i, m := range got {
		require.Equal(t, strconv.Itoa(i), string(m), "in order across the ring's growth")
	}
	assert.Zero(t, r.Held())
	assert.Nil(t, r.slots)
}

// ringBytes is what r's ring of held chunks is charged in Held.
func ringBytes(r *Receiver) int { return len(r.slots) * slotSize }
