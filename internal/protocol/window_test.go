package protocol_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

type bitfieldVectors struct {
	Sequences []struct {
		Name  string `json:"name"`
		NBits int    `json:"nbits"`
		Steps []struct {
			Op      string          `json:"op"`
			Seq     uint16          `json:"seq"`
			Result  json.RawMessage `json:"result"`
			Current uint16          `json:"current_after"`
			Bits    string          `json:"bits_after_hex"`
		} `json:"steps"`
	} `json:"sequences"`
	HeaderAck struct {
		Received []uint16        `json:"received_packet_seqs_in_order"`
		Ack      uint16          `json:"header_ack"`
		AckBits  vectors.HexUint `json:"header_ack_bits_hex"`
	} `json:"header_ack_from_receipts"`
	AckProcessing []struct {
		Ack          uint16          `json:"header_ack"`
		AckBits      vectors.HexUint `json:"header_ack_bits_hex"`
		Pending      []uint16        `json:"pending_packet_seqs"`
		Acked        []uint16        `json:"acked"`
		StillPending []uint16        `json:"still_pending"`
	} `json:"ack_processing"`
}

// referenceResult maps a verdict to the reference's insert result: a seq
// more than nbits behind is accepted as new there.
func referenceResult(v protocol.Verdict) string {
	switch v {
	case protocol.Fresh, protocol.Stale:
		return "ok"
	case protocol.Duplicate:
		return "duplicate"
	}
	return v.String()
}

func TestWindowVectors(t *testing.T) {
	v := vectors.MustLoad[bitfieldVectors]("bitfield.json")
	require.Len(t, v.Sequences, 3)
	for _, sq := range v.Sequences {
		t.Run(sq.Name, func(t *testing.T) {
			w := protocol.NewWindow(sq.NBits)
			require.Equal(t, sq.NBits, w.Size())
			for i, st := range sq.Steps {
				msg := fmt.Sprintf("step %d: %s %d", i, st.Op, st.Seq)
				s := protocol.Seq(st.Seq)
				switch st.Op {
				case "insert":
					var want string
					require.NoError(t, json.Unmarshal(st.Result, &want), msg)
					checked := w.Check(s)
					got := w.Insert(s)
					assert.Equal(t, checked, got, "%s: Check predicts Insert", msg)
					assert.Equal(t, want, referenceResult(got), msg)
					if got != protocol.Stale {
						assert.True(t, w.Contains(s), "%s: recorded", msg)
					}
				case "contains":
					var want bool
					require.NoError(t, json.Unmarshal(st.Result, &want), msg)
					assert.Equal(t, want, w.Contains(s), msg)
				default:
					t.Fatalf("%s: unknown op", msg)
				}
				assert.Equal(t, protocol.Seq(st.Current), w.Current(), msg)
				assert.Equal(t, st.Bits, w.Hex(), msg)
				top, err := strconv.ParseUint(st.Bits[:8], 16, 32)
				require.NoError(t, err)
				assert.Equal(t, uint32(top), w.AckBits(), "%s: AckBits is the newest 32 bits", msg)
			}
		})
	}
}

func TestWindowHeaderAckFromReceipts(t *testing.T) {
	v := vectors.MustLoad[bitfieldVectors]("bitfield.json")
	require.NotEmpty(t, v.HeaderAck.Received)
	w := protocol.NewWindow(32)
	for _, s := range v.HeaderAck.Received {
		require.Equal(t, protocol.Fresh, w.Insert(protocol.Seq(s)), "seq %d", s)
	}
	assert.Equal(t, protocol.Seq(v.HeaderAck.Ack), w.Current())
	assert.Equal(t, uint32(v.HeaderAck.AckBits), w.AckBits())
	// and every received packet is acked by those header fields
	for _, s := range v.HeaderAck.Received {
		assert.True(t, protocol.Acks(w.Current(), w.AckBits(), protocol.Seq(s)) || w.Current().Diff(protocol.Seq(s)) > 32, "seq %d", s)
	}
}

func TestAckProcessingVectors(t *testing.T) {
	v := vectors.MustLoad[bitfieldVectors]("bitfield.json")
	require.Len(t, v.AckProcessing, 4)
	for i, c := range v.AckProcessing {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var acked, pending []uint16
			for _, p := range c.Pending {
				if protocol.Acks(protocol.Seq(c.Ack), uint32(c.AckBits), protocol.Seq(p)) {
					acked = append(acked, p)
				} else {
					pending = append(pending, p)
				}
			}
			assert.ElementsMatch(t, c.Acked, acked)
			assert.ElementsMatch(t, c.StillPending, pending)
		})
	}
}

func TestAcks(t *testing.T) {
	cases := []struct {
		ack  protocol.Seq
		bits uint32
		p    protocol.Seq
		want bool
	}{
		{10, 0, 10, true},
		{10, 0, 9, false},
		{10, 0x80000000, 9, true},
		{10, 0x00000001, 65513, true}, // 10-32 on the ring: d = 32, bit 0
		{40, 0x00000001, 8, true},
		{40, 0xffffffff, 7, false}, // 33 behind
		{40, 0xffffffff, 41, false},
		{1, 0x80000000, 65535, true}, // wrap
		{0, 0, 65535, true},          // the 0/65535 alias
		{0, 0, 1, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, protocol.Acks(c.ack, c.bits, c.p), "ack %d bits %08x p %d", c.ack, c.bits, c.p)
	}
}

// refWindow is an independent model of the reference window (SPEC §7.1),
// holding the bits in a big.Int.
type refWindow struct {
	n       int
	current int
	bits    *big.Int
}

func newRefWindow(n int) *refWindow { return &refWindow{n: n, bits: new(big.Int)} }

func (w *refWindow) insert(s int) string {
	if w.current == 0 {
		w.current = s
		return "ok"
	}
	d := protocol.Seq(w.current).Diff(protocol.Seq(s))
	switch {
	case d < 0:
		n := -d
		w.bits.Rsh(w.bits, uint(n))
		if n <= w.n {
			w.bits.SetBit(w.bits, w.n-n, 1)
		}
		w.current = s
		return "ok"
	case d == 0:
		return "duplicate"
	case d <= w.n:
		if w.bits.Bit(w.n-d) == 1 {
			return "duplicate"
		}
		w.bits.SetBit(w.bits, w.n-d, 1)
		return "ok"
	}
	return "ok"
}

func (w *refWindow) hex() string {
	return fmt.Sprintf("%0*x", w.n/4, w.bits)
}

func TestWindowMatchesModel(t *testing.T) {
	for _, nbits := range []int{32, 64, 96, 256, 1024} {
		t.Run(strconv.Itoa(nbits), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(nbits), 7))
			w := protocol.NewWindow(nbits)
			m := newRefWindow(nbits)
			s := protocol.Seq(65535 - 3*nbits) // run across the wrap
			for i := range 20000 {
				var x protocol.Seq
				switch rng.IntN(4) {
				case 0: // newer, sometimes by more than the window
					s = s.Add(1 + rng.IntN(nbits+nbits/2))
					x = s
				case 1: // recent
					x = s.Sub(rng.IntN(nbits + 2))
				case 2: // just around the window edge
					x = s.Sub(nbits - 2 + rng.IntN(5))
				default: // anywhere
					x = protocol.Seq(1 + rng.IntN(65535))
				}
				want := m.insert(int(x))
				got := w.Insert(x)
				require.Equal(t, want, referenceResult(got), "step %d insert %d", i, x)
				if m.current != 0 {
					s = protocol.Seq(m.current)
				}
				require.Equal(t, protocol.Seq(m.current), w.Current(), "step %d", i)
				require.Equal(t, m.hex(), w.Hex(), "step %d", i)
				top := new(big.Int).Rsh(m.bits, uint(nbits-32)).Uint64()
				require.Equal(t, uint32(top), w.AckBits(), "step %d", i)
			}
		})
	}
}

func TestWindowWidths(t *testing.T) {
	for _, nbits := range []int{32, 256, 1024} {
		t.Run(strconv.Itoa(nbits), func(t *testing.T) {
			w := protocol.NewWindow(nbits)
			assert.Equal(t, nbits, w.Size())
			assert.Equal(t, protocol.Seq(0), w.Current())
			assert.Len(t, w.Hex(), nbits/4)

			base := protocol.Seq(1000)
			require.Equal(t, protocol.Fresh, w.Insert(base))
			newest := base.Add(nbits)
			require.Equal(t, protocol.Fresh, w.Insert(newest))
			// base is now exactly nbits behind: the oldest bit
			assert.True(t, w.Contains(base))
			assert.Equal(t, protocol.Duplicate, w.Insert(base))
			// everything between is free, once
			for k := 1; k < nbits; k++ {
				s := base.Add(k)
				require.False(t, w.Contains(s), "k=%d", k)
				require.Equal(t, protocol.Fresh, w.Insert(s), "k=%d", k)
				require.Equal(t, protocol.Duplicate, w.Insert(s), "k=%d", k)
			}
			// one further back is outside the window
			assert.Equal(t, protocol.Stale, w.Check(base.Sub(1)))
			assert.Equal(t, protocol.Stale, w.Insert(base.Sub(1)))
			assert.False(t, w.Contains(base.Sub(1)))
			// the window is now full
			for i := 0; i < nbits/4; i++ {
				require.Equal(t, byte('f'), w.Hex()[i])
			}
			assert.Equal(t, uint32(0xffffffff), w.AckBits())
			assert.Equal(t, newest, w.Current())

			// moving forward by one drops base off the end
			require.Equal(t, protocol.Fresh, w.Insert(newest.Next()))
			assert.False(t, w.Contains(base))
			assert.Equal(t, protocol.Stale, w.Check(base))
			assert.True(t, w.Contains(base.Add(1)))
			assert.True(t, w.Contains(newest))

			// jumping far ahead forgets everything
			far := w.Current().Add(nbits + 1)
			require.Equal(t, protocol.Fresh, w.Insert(far))
			assert.Equal(t, fmt.Sprintf("%0*d", nbits/4, 0), w.Hex())
			assert.Zero(t, w.AckBits())

			// a jump of exactly nbits keeps only the old current
			w2 := protocol.NewWindow(nbits)
			w2.Insert(5)
			w2.Insert(protocol.Seq(5).Add(nbits))
			assert.True(t, w2.Contains(5))
			want := make([]byte, nbits/4)
			for i := range want {
				want[i] = '0'
			}
			want[len(want)-1] = '1'
			assert.Equal(t, string(want), w2.Hex())
		})
	}
}

func TestWindowWrapAround(t *testing.T) {
	for _, nbits := range []int{32, 256, 1024} {
		t.Run(strconv.Itoa(nbits), func(t *testing.T) {
			w := protocol.NewWindow(nbits)
			start := protocol.Seq(65535).Sub(nbits / 2)
			s := start
			var all []protocol.Seq
			for range nbits {
				require.Equal(t, protocol.Fresh, w.Insert(s), "seq %d", s)
				all = append(all, s)
				s = s.Next()
			}
			require.Less(t, w.Current(), start, "crossed 65535 -> 1")
			require.NotContains(t, all, protocol.Seq(0), "0 is never produced")
			assert.True(t, w.Contains(65535))
			assert.True(t, w.Contains(1))
			for _, x := range all {
				assert.Equal(t, protocol.Duplicate, w.Check(x), "seq %d", x)
				assert.Equal(t, protocol.Duplicate, w.Insert(x), "seq %d", x)
			}
			// 65535 -> 1 is a step of one
			w3 := protocol.NewWindow(nbits)
			w3.Insert(65535)
			require.Equal(t, protocol.Fresh, w3.Insert(1))
			assert.Equal(t, uint32(0x80000000), w3.AckBits(), "65535 is current-1")
			assert.Equal(t, protocol.Duplicate, w3.Insert(65535))
			assert.Equal(t, protocol.Fresh, w3.Insert(65534))
			assert.Equal(t, uint32(0xc0000000), w3.AckBits())
		})
	}
}

func TestWindowCheckDoesNotModify(t *testing.T) {
	for _, nbits := range []int{32, 256, 1024} {
		t.Run(strconv.Itoa(nbits), func(t *testing.T) {
			w := protocol.NewWindow(nbits)
			assert.Equal(t, protocol.Fresh, w.Check(7))
			assert.Equal(t, protocol.Seq(0), w.Current(), "Check on an empty window")
			for _, s := range []protocol.Seq{100, 98, 90, 100 - protocol.Seq(nbits)} {
				w.Insert(s)
			}
			hex, cur, ack := w.Hex(), w.Current(), w.AckBits()
			for x := 0; x <= 65535; x += 7 {
				s := protocol.Seq(x)
				v := w.Check(s)
				require.Equal(t, hex, w.Hex(), "Check(%d)", s)
				require.Equal(t, cur, w.Current(), "Check(%d)", s)
				require.Equal(t, ack, w.AckBits(), "Check(%d)", s)
				if w.Contains(s) {
					require.Equal(t, protocol.Duplicate, v, "Check(%d)", s)
				}
			}
			for _, s := range []protocol.Seq{100, 98, 99, 101, 5000, 100 - protocol.Seq(nbits) - 1} {
				v := w.Check(s)
				require.Equal(t, hex, w.Hex())
				// an identical window must get from Insert what Check said
				w2 := protocol.NewWindow(nbits)
				for _, x := range []protocol.Seq{100, 98, 90, 100 - protocol.Seq(nbits)} {
					w2.Insert(x)
				}
				assert.Equal(t, v, w2.Insert(s), "Check(%d) predicts Insert", s)
			}
		})
	}
}

func TestWindowInit(t *testing.T) {
	for _, bad := range []int{0, -32, 16, 31, 33, 100, 32768, 65536} {
		assert.Panics(t, func() { protocol.NewWindow(bad) }, "width %d", bad)
	}
	assert.NotPanics(t, func() { protocol.NewWindow(32736) }) // largest multiple of 32 below 32768

	var w protocol.Window
	w.Init(256)
	w.Insert(10)
	w.Insert(20)
	require.True(t, w.Contains(10))
	// shrinking reuses storage and clears it
	w.Init(32)
	assert.Equal(t, 32, w.Size())
	assert.Equal(t, protocol.Seq(0), w.Current())
	assert.Equal(t, "00000000", w.Hex())
	w.Insert(20)
	assert.False(t, w.Contains(10))
	// growing again
	w.Init(1024)
	assert.Equal(t, 1024, w.Size())
	assert.Equal(t, protocol.Seq(0), w.Current())
	w.Insert(3)
	w.Insert(1000) // 997 ahead: inside a 1024 window
	assert.True(t, w.Contains(3))
	assert.Equal(t, uint32(0), w.AckBits())
}

func TestWindowFirstInsert(t *testing.T) {
	w := protocol.NewWindow(32)
	// nothing counts as a duplicate before the first insert, and the first
	// seq sets current without setting bits
	assert.Equal(t, protocol.Fresh, w.Insert(500))
	assert.Equal(t, protocol.Seq(500), w.Current())
	assert.Zero(t, w.AckBits())
	assert.Equal(t, protocol.Duplicate, w.Insert(500))
	// older than current, within the window
	assert.Equal(t, protocol.Fresh, w.Insert(499))
	assert.Equal(t, uint32(0x80000000), w.AckBits())
}

func TestVerdictString(t *testing.T) {
	assert.Equal(t, "fresh", protocol.Fresh.String())
	assert.Equal(t, "duplicate", protocol.Duplicate.String())
	assert.Equal(t, "stale", protocol.Stale.String())
	assert.Equal(t, "Verdict(9)", protocol.Verdict(9).String())
}
