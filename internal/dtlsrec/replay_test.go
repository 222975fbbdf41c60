package dtlsrec

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWindow(t *testing.T) {
	w := newWindow(1)
	assert.False(t, w.fresh(0), "below the start: taken as seen")
	assert.True(t, w.fresh(1))
	assert.True(t, w.fresh(100))

	w.accept(100)
	assert.False(t, w.fresh(100))
	assert.False(t, w.fresh(36), "64 behind the newest: too old")
	assert.True(t, w.fresh(37), "63 behind")
	w.accept(37)
	assert.False(t, w.fresh(37))
	assert.True(t, w.fresh(38))
	w.accept(200) // a jump past the whole window
	assert.True(t, w.fresh(199))
	assert.False(t, w.fresh(136))

	w = newWindow(0)
	assert.True(t, w.fresh(0))
}

// The window against a model that remembers everything.
func TestWindowModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		start := rng.Uint64N(100)
		w := newWindow(start)
		seen := map[uint64]bool{}
		newest := start - 1 // wraps when start is 0; only used when start > 0
		has := start > 0
		for range 2000 {
			var seq uint64
			if has && rng.IntN(3) > 0 {
				// near the newest, either side
				seq = max(newest+10, 80) - rng.Uint64N(80)
			} else {
				seq = newest + 1 + rng.Uint64N(100)
			}
			want := seq >= start && !seen[seq] && (!has || seq > newest || newest-seq < windowSize)
			require.Equal(t, want, w.fresh(seq), "seq %d newest %d start %d", seq, newest, start)
			if want && rng.IntN(4) > 0 { // some records fail to authenticate
				w.accept(seq)
				seen[seq] = true
				if !has || seq > newest {
					newest, has = seq, true
				}
			}
		}
	}
}
