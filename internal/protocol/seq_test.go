package protocol_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

type seqnumVectors struct {
	Modulus   int `json:"modulus"`
	Threshold int `json:"threshold"`
	Add       []struct {
		A, B, Result int
	} `json:"add"`
	Sub []struct {
		A, B, Result int
	} `json:"sub"`
	Diff []struct {
		A     int  `json:"a"`
		B     int  `json:"b"`
		Diff  int  `json:"diff"`
		Newer bool `json:"a_newer_than_b"`
	} `json:"diff"`
}

func TestSeqVectors(t *testing.T) {
	v := vectors.MustLoad[seqnumVectors]("seqnum.json")
	require.Equal(t, 65535, v.Modulus)
	require.Equal(t, 32767, v.Threshold)
	require.NotEmpty(t, v.Add)
	require.NotEmpty(t, v.Sub)
	require.NotEmpty(t, v.Diff)

	for _, c := range v.Add {
		assert.Equal(t, protocol.Seq(c.Result), protocol.Seq(c.A).Add(c.B), "add(%d, %d)", c.A, c.B)
		if c.B == 1 {
			assert.Equal(t, protocol.Seq(c.Result), protocol.Seq(c.A).Next(), "next(%d)", c.A)
		}
	}
	for _, c := range v.Sub {
		assert.Equal(t, protocol.Seq(c.Result), protocol.Seq(c.A).Sub(c.B), "sub(%d, %d)", c.A, c.B)
	}
	for _, c := range v.Diff {
		a, b := protocol.Seq(c.A), protocol.Seq(c.B)
		assert.Equal(t, c.Diff, a.Diff(b), "diff(%d, %d)", c.A, c.B)
		assert.Equal(t, c.Newer, a.NewerThan(b), "newer_than(%d, %d)", c.A, c.B)
	}
}

// refAdd is the reference's SeqNum addition, written out literally.
func refAdd(x, k int) int {
	r := x + k
	if r < 1 {
		r += 65535
	}
	if r > 65535 {
		r -= 65535
	}
	return r
}

func TestSeqAddMatchesReferenceFormula(t *testing.T) {
	// the reference formula only wraps once, so compare where |k| < 65535
	for _, x := range []int{0, 1, 2, 100, 32767, 32768, 65534, 65535} {
		for _, k := range []int{-65534, -40000, -32768, -2, -1, 0, 1, 2, 32767, 40000, 65534} {
			assert.Equal(t, protocol.Seq(refAdd(x, k)), protocol.Seq(x).Add(k), "add(%d, %d)", x, k)
		}
	}
}

func TestSeqNextNeverZero(t *testing.T) {
	s := protocol.Seq(0)
	seen := make(map[protocol.Seq]bool, 65535)
	for range 65535 {
		s = s.Next()
		require.NotZero(t, s)
		require.False(t, seen[s], "seq %d repeated within one cycle", s)
		seen[s] = true
	}
	assert.Equal(t, protocol.Seq(65535), s)
	assert.Equal(t, protocol.Seq(1), s.Next())
}

func TestSeqProperties(t *testing.T) {
	for _, s := range []protocol.Seq{1, 2, 1000, 32767, 32768, 32769, 65534, 65535} {
		for _, k := range []int{0, 1, 31, 32, 33, 255, 256, 257, 32767} {
			t.Run(fmt.Sprintf("%d+%d", s, k), func(t *testing.T) {
				a := s.Add(k)
				assert.NotZero(t, a)
				assert.Equal(t, s, a.Sub(k), "sub undoes add")
				assert.Equal(t, k, a.Diff(s), "diff measures add")
				assert.Equal(t, -k, s.Diff(a))
				assert.Equal(t, k > 0, a.NewerThan(s))
				assert.False(t, s.NewerThan(a))
				assert.Equal(t, s.Add(k+65535), a, "the ring has 65535 values")
			})
		}
	}
}

func TestSeqDiffRange(t *testing.T) {
	for a := 0; a <= 65535; a += 97 {
		for _, b := range []int{0, 1, 2, 32767, 32768, 32769, 65534, 65535} {
			d := protocol.Seq(a).Diff(protocol.Seq(b))
			require.GreaterOrEqual(t, d, -32767)
			require.LessOrEqual(t, d, 32767)
		}
	}
	// the 0/65535 alias of the reference
	assert.Zero(t, protocol.Seq(0).Diff(65535))
}

// TestSeqAddFastPathMatchesModulo checks Add, which avoids the division
// for steps shorter than the ring, against plain modular arithmetic for
// every seq and steps on both sides of that boundary.
func TestSeqAddFastPathMatchesModulo(t *testing.T) {
	mod := func(s, k int) protocol.Seq {
		r := (s - 1 + k) % 65535
		if r < 0 {
			r += 65535
		}
		return protocol.Seq(r + 1)
	}
	steps := []int{0, 1, -1, 2, -2, 32, -32, 33, -33, 32767, -32768, 65533, -65533, 65534, -65534, 65535, -65535, 65536, -65536, 131070, -131071}
	bad := 0
	for s := 0; s <= 65535; s++ {
		for _, k := range steps {
			if got, want := protocol.Seq(s).Add(k), mod(s, k); got != want && bad < 10 {
				bad++
				t.Errorf("Seq(%d).Add(%d) = %d, want %d", s, k, got, want)
			}
		}
	}
}
