package protocol_test

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

func TestSeqOfRoundTrip(t *testing.T) {
	for _, n := range []uint64{1, 2, 65534, 65535, 65536, 65537, 131070, 131071, 1 << 40} {
		s := protocol.SeqOf(n)
		require.NotZero(t, s)
		require.Equal(t, s, protocol.SeqOf(n+65535), "n=%d", n)
	}
	assert.Equal(t, protocol.Seq(1), protocol.SeqOf(1))
	assert.Equal(t, protocol.Seq(65535), protocol.SeqOf(65535))
	assert.Equal(t, protocol.Seq(1), protocol.SeqOf(65536))
}

// model is the filter's contract written the slow way: every 64-bit
// number accepted, and the newest.
type model struct {
	seen   map[uint64]bool
	newest uint64
	width  uint64
	ahead  int
}

func (m *model) check(s protocol.Seq) (uint64, protocol.Verdict) {
	if m.newest == 0 {
		return uint64(s) + 65535, protocol.Fresh
	}
	d := s.Diff(protocol.SeqOf(m.newest))
	n := uint64(int64(m.newest) + int64(d))
	switch {
	case d > m.ahead:
		return n, protocol.Far
	case d > 0:
		return n, protocol.Fresh
	case m.newest-n >= m.width:
		return n, protocol.Stale
	case m.seen[n]:
		return n, protocol.Duplicate
	}
	return n, protocol.Fresh
}

func (m *model) accept(n uint64) {
	m.seen[n] = true
	m.newest = max(m.newest, n)
}

func TestSeqFilterAgainstModel(t *testing.T) {
	for _, tc := range []struct{ width, ahead int }{{1024, 16384}, {64, 100}, {1, 1}, {256, 32767}, {5000, 16384}} {
		rng := rand.New(rand.NewPCG(uint64(tc.width), uint64(tc.ahead)))
		f := protocol.NewSeqFilter(tc.width, tc.ahead)
		m := &model{seen: map[uint64]bool{}, width: uint64(tc.width), ahead: tc.ahead}
		next := uint64(1)
		for i := 0; i < 200000; i++ {
			// Mostly a sender moving forward with losses, reordering,
			// duplicates and replays of any age, and the odd leap.
			var n uint64
			switch r := rng.IntN(100); {
			case r < 60:
				next += uint64(rng.IntN(3))
				n = next
			case r < 80:
				n = next - min(next-1, uint64(rng.IntN(2*tc.width+2)))
			case r < 95:
				n = next - min(next-1, uint64(rng.IntN(200000)))
			default:
				next += uint64(rng.IntN(40000))
				n = next
			}
			s := protocol.SeqOf(n)
			wantN, want := m.check(s)
			gotN, got := f.Check(s)
			require.Equal(t, want, got, "step %d seq %d", i, s)
			require.Equal(t, wantN, gotN, "step %d seq %d", i, s)
			if got == protocol.Fresh {
				f.Accept(gotN)
				m.accept(gotN)
			}
			require.Equal(t, m.newest, f.Newest())
		}
	}
}

func TestSeqFilterNeverAcceptsANumberTwice(t *testing.T) {
	// A sender numbering 255 messages a packet wraps the 16-bit ring every
	// 257 packets; replaying any earlier seq, at any point, is refused.
	f := protocol.NewSeqFilter(protocol.DefaultFilterWidth, protocol.DefaultFilterAhead)
	var sent []protocol.Seq
	accepted := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	s := protocol.Seq(0)
	for i := 0; i < 5*65535; i++ {
		s = s.Next()
		sent = append(sent, s)
		n, v := f.Check(s)
		require.Equal(t, protocol.Fresh, v)
		f.Accept(n)
		require.False(t, accepted[n])
		accepted[n] = true
		if i%7 == 0 {
			old := sent[rng.IntN(len(sent))]
			if n, v := f.Check(old); v == protocol.Fresh {
				require.False(t, accepted[n], "a replayed seq %d read as the new number %d", old, n)
			}
		}
	}
}

func TestSeqFilterEdges(t *testing.T) {
	f := protocol.NewSeqFilter(1024, 16384)
	_, v := f.Check(0)
	assert.Equal(t, protocol.Stale, v, "seq 0 is never sent")
	require.Equal(t, protocol.Fresh, f.Insert(100))
	assert.Equal(t, protocol.Duplicate, f.Insert(100))
	assert.Equal(t, protocol.Fresh, f.Insert(99))
	assert.Equal(t, protocol.Fresh, f.Insert(protocol.Seq(100).Add(16384)))
	assert.Equal(t, protocol.Far, f.Insert(protocol.Seq(100).Add(16384+16385)))
	assert.Equal(t, protocol.Stale, f.Insert(100), "now far behind")
	assert.Equal(t, "far", protocol.Far.String())
	assert.Panics(t, func() { protocol.NewSeqFilter(0, 1) })
	assert.Panics(t, func() { protocol.NewSeqFilter(10, 40000) })
}

// TestSeqFilterInitIn: a filter whose bitmap is a buffer given to it
// allocates nothing, keeps its bitmap there (HotWord points into it), and
// says what a filter with a bitmap of its own says. A buffer too short
// for the width is not used.
func TestSeqFilterInitIn(t *testing.T) {
	var buf [protocol.FilterWords]uint64
	for i := range buf {
		buf[i] = ^uint64(0) // InitIn empties it
	}
	var in protocol.SeqFilter
	allocs := testing.AllocsPerRun(1, func() {
		in.InitIn(protocol.DefaultFilterWidth, protocol.DefaultFilterAhead, buf[:])
	})
	assert.Zero(t, allocs)
	own := protocol.NewSeqFilter(protocol.DefaultFilterWidth, protocol.DefaultFilterAhead)
	rng := rand.New(rand.NewPCG(3, 4))
	s := protocol.Seq(1)
	for range 5000 {
		s = s.Add(rng.IntN(40) - 10)
		if s == 0 {
			s = 1
		}
		require.Equal(t, own.Insert(s), in.Insert(s), "seq %d", s)
		require.Equal(t, own.AckBits(), in.AckBits())
		hot := uintptr(unsafe.Pointer(in.HotWord()))
		base := uintptr(unsafe.Pointer(&buf[0]))
		require.True(t, hot >= base && hot < base+unsafe.Sizeof(buf), "the hot word is not in the buffer")
		require.Equal(t, *own.HotWord(), *in.HotWord())
	}

	var wide protocol.SeqFilter
	wide.InitIn(4096, protocol.DefaultFilterAhead, buf[:])
	require.Equal(t, protocol.Fresh, wide.Insert(7))
	hot := uintptr(unsafe.Pointer(wide.HotWord()))
	base := uintptr(unsafe.Pointer(&buf[0]))
	assert.False(t, hot >= base && hot < base+unsafe.Sizeof(buf), "a buffer too short was used")
}

func BenchmarkSeqFilter(b *testing.B) {
	f := protocol.NewSeqFilter(protocol.DefaultFilterWidth, protocol.DefaultFilterAhead)
	s := protocol.Seq(1)
	b.ReportAllocs()
	for b.Loop() {
		s = s.Add(3)
		if n, v := f.Check(s); v == protocol.Fresh {
			f.Accept(n)
		}
		f.Check(s.Sub(5))
	}
}

// TestSeqFilterAckFields: the filter gives the header's ack fields exactly
// as the reference's 32-packet window does, for any arrival order.
func TestSeqFilterAckFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	f := protocol.NewSeqFilter(protocol.DefaultFilterWidth, protocol.DefaultFilterAhead)
	w := protocol.NewWindow(32)
	s := protocol.Seq(0)
	for i := 0; i < 200000; i++ {
		var seq protocol.Seq
		switch r := rng.IntN(10); {
		case r < 7:
			s = s.Add(1 + rng.IntN(3))
			seq = s
		case r < 9:
			seq = s.Sub(rng.IntN(40)) // reordered or duplicated
		default:
			s = s.Add(30 + rng.IntN(100)) // a burst of loss
			seq = s
		}
		if seq == 0 {
			continue
		}
		if f.Insert(seq) == protocol.Fresh {
			w.Insert(seq)
		}
		require.Equal(t, w.Current(), f.Current(), "step %d", i)
		require.Equal(t, w.AckBits(), f.AckBits(), "step %d: ack bits", i)
	}
	assert.Zero(t, protocol.NewSeqFilter(64, 64).AckBits())
	assert.Zero(t, protocol.NewSeqFilter(64, 64).Current())
}
