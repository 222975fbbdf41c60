package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var all []time.Duration
	for i := 0; i < 100000; i++ {
		// a spread like round trips: mostly 5-20 ms, a tail to a second
		d := time.Duration(5000+rng.IntN(15000)) * time.Microsecond
		if rng.IntN(100) == 0 {
			d = time.Duration(rng.IntN(1_000_000)) * time.Microsecond
		}
		h.record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.quantile(q)
		assert.InEpsilon(t, float64(exact), float64(got), 0.033, "q=%g: %v vs %v", q, got, exact)
	}
	assert.Equal(t, all[len(all)-1].Microseconds(), int64(h.max))
	assert.Equal(t, uint64(len(all)), h.n)

	var other histogram
	other.record(2 * time.Second)
	h.merge(&other)
	assert.Equal(t, 2*time.Second, h.quantile(1))
	assert.Zero(t, new(histogram).quantile(0.5), "empty")
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v += 1 + v/50 {
		b := bucket(v)
		require.GreaterOrEqual(t, b, prev, "monotonic at %d", v)
		lo, w := bucketRange(b)
		require.True(t, v >= lo && v < lo+w, "%d in [%d, %d)", v, lo, lo+w)
		prev = b
	}
	assert.Less(t, bucket(1<<62), histBuckets, "huge values fit")
}

func TestMessageRoundTrip(t *testing.T) {
	for _, size := range []int{MinSize, 64, 1000} {
		b := make([]byte, size)
		fillMessage(b, markPlain, byte(phaseSteady), 123456, 987654321)
		mark, phase, seq, at, ok := parseMessage(b)
		require.True(t, ok)
		assert.Equal(t, byte(markPlain), mark)
		assert.Equal(t, byte(phaseSteady), phase)
		assert.Equal(t, uint32(123456), seq)
		assert.Equal(t, uint64(987654321), at)
		if size > MinSize {
			b[size-1] ^= 1
			_, _, _, _, ok = parseMessage(b)
			assert.False(t, ok, "a changed byte is noticed")
		}
	}
	_, _, _, _, ok := parseMessage(make([]byte, MinSize-1))
	assert.False(t, ok)
}

// FuzzParseMessage: whatever an echo server sends back, matching it never
// panics.
func FuzzParseMessage(f *testing.F) {
	b := make([]byte, 64)
	fillMessage(b, markGuaranteed, 1, 7, 99)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		mark, _, seq, _, ok := parseMessage(msg)
		if ok {
			again := make([]byte, len(msg))
			fillMessage(again, mark, msg[1], seq, 0)
			assert.Equal(t, msg[headerSize:], again[headerSize:])
		}
	})
}
