package predict_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/predict"
)

// inputs returns n consecutive thrust inputs ending at newest.
func inputs(newest uint32, n int) []predict.Input[thrust] {
	ins := make([]predict.Input[thrust], n)
	for i := range ins {
		seq := newest - uint32(n-1-i)
		ins[i] = predict.Input[thrust]{
			Seq:  seq,
			View: time.Duration(seq) * 7 * time.Millisecond,
			In:   thrust{Thrust: int8(seq%7) - 3},
		}
	}
	return ins
}

func TestAppendBatchLayout(t *testing.T) {
	ins := []predict.Input[thrust]{
		{Seq: 0x01020304, View: 10 * time.Millisecond, In: thrust{1}},
		{Seq: 0x01020305, View: 0x0a0b0c0d * time.Millisecond, In: thrust{-1}},
	}
	b := predict.AppendBatch([]byte{0xee}, ins, thrustCodec)
	want := []byte{
		0xee,                   // what was there
		2,                      // count
		0x05, 0x03, 0x02, 0x01, // newest seq
		10, 0, 0, 0, 1, // oldest: view, thrust
		0x0d, 0x0c, 0x0b, 0x0a, 0xff, // newest
	}
	require.Equal(t, want, b)
}

func TestAppendBatchEmptyAppendsNothing(t *testing.T) {
	b := []byte{1, 2, 3}
	out := predict.AppendBatch(b, nil, thrustCodec)
	require.Equal(t, []byte{1, 2, 3}, out)
	require.Len(t, predict.AppendBatch(nil, []predict.Input[thrust]{}, thrustCodec), 0)
}

func TestAppendBatchKeepsNewest(t *testing.T) {
	ins := inputs(100, predict.MaxBatch+5)
	b := predict.AppendBatch(nil, ins, thrustCodec)
	require.Equal(t, byte(predict.MaxBatch), b[0])
	got, err := predict.ParseBatch(nil, b, thrustCodec)
	require.NoError(t, err)
	require.Equal(t, ins[5:], got)
}

func TestBatchRoundTrip(t *testing.T) {
	for _, newest := range []uint32{16, 17, 1000, math.MaxUint32 - 1, math.MaxUint32} {
		for n := 1; n <= predict.MaxBatch; n++ {
			ins := inputs(newest, n)
			b := predict.AppendBatch(nil, ins, thrustCodec)
			require.Len(t, b, 5+n*5)
			got, err := predict.ParseBatch(nil, b, thrustCodec)
			require.NoError(t, err, "newest %d n %d", newest, n)
			require.Len(t, got, n)
			for i := range got {
				assert.Equal(t, ins[i].Seq, got[i].Seq)
				assert.Equal(t, ins[i].In, got[i].In)
				assert.Equal(t, time.Duration(uint32(ins[i].View.Milliseconds()))*time.Millisecond, got[i].View)
			}
		}
	}
	// The smallest newest for a count.
	got, err := predict.ParseBatch(nil, predict.AppendBatch(nil, inputs(3, 3), thrustCodec), thrustCodec)
	require.NoError(t, err)
	require.Equal(t, []uint32{1, 2, 3}, seqs(got))
}

func TestBatchView(t *testing.T) {
	for _, c := range []struct {
		view, want time.Duration
	}{
		{0, 0},
		{time.Millisecond, time.Millisecond},
		{1500 * time.Microsecond, time.Millisecond}, // to the millisecond
		{time.Hour, time.Hour},
		{(1<<32 - 1) * time.Millisecond, (1<<32 - 1) * time.Millisecond},
		{(1<<32 + 5) * time.Millisecond, 5 * time.Millisecond}, // modulo 2^32 ms
		{-time.Millisecond, (1<<32 - 1) * time.Millisecond},
	} {
		ins := []predict.Input[thrust]{{Seq: 1, View: c.view}}
		got, err := predict.ParseBatch(nil, predict.AppendBatch(nil, ins, thrustCodec), thrustCodec)
		require.NoError(t, err)
		assert.Equal(t, c.want, got[0].View, "view %v", c.view)
	}
}

func TestBatchVariableLength(t *testing.T) {
	ins := []predict.Input[cmd]{
		{Seq: 8, In: cmd{}},
		{Seq: 9, View: time.Second, In: cmd{N: 3, B: [3]byte{1, 2, 3}}},
		{Seq: 10, View: 2 * time.Second, In: cmd{N: 1, B: [3]byte{7}}},
	}
	b := predict.AppendBatch(nil, ins, cmdCodec)
	got, err := predict.ParseBatch(nil, b, cmdCodec)
	require.NoError(t, err)
	require.Equal(t, ins, got)
	require.Equal(t, b, predict.AppendBatch(nil, got, cmdCodec))
}

func TestParseBatchRefuses(t *testing.T) {
	valid := predict.AppendBatch(nil, inputs(10, 3), thrustCodec)
	header := func(count byte, newest uint32) []byte {
		return binary.LittleEndian.AppendUint32([]byte{count}, newest)
	}
	tooMany := header(predict.MaxBatch+1, 100)
	for range predict.MaxBatch + 1 {
		tooMany = append(tooMany, 0, 0, 0, 0, 0)
	}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"count 0", append(header(0, 10), 0, 0, 0, 0, 0)},
		{"count over MaxBatch", tooMany},
		{"count 255", header(255, 1000)},
		{"header truncated", []byte{1, 10, 0, 0}},
		{"count byte only", []byte{1}},
		{"newest 0", append(header(1, 0), 0, 0, 0, 0, 0)},
		{"newest below count", append(header(3, 2), make([]byte, 15)...)},
		{"no inputs", header(1, 10)},
		{"truncated view", append(header(1, 10), 0, 0, 0)},
		{"truncated input", append(header(1, 10), 0, 0, 0, 0)},
		{"missing input", valid[:len(valid)-5]},
		{"missing last byte", valid[:len(valid)-1]},
		{"trailing byte", append(bytes.Clone(valid), 0)},
		{"trailing batch", append(bytes.Clone(valid), valid...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]predict.Input[thrust], 2, predict.MaxBatch)
			got, err := predict.ParseBatch(dst, c.b, thrustCodec)
			require.ErrorIs(t, err, predict.ErrMalformed)
			require.Empty(t, got)
		})
	}
	_, err := predict.ParseBatch(nil, valid, thrustCodec)
	require.NoError(t, err)
}

func TestParseBatchRefusesCodec(t *testing.T) {
	b := predict.AppendBatch(nil, []predict.Input[cmd]{{Seq: 5, In: cmd{N: 2}}}, cmdCodec)
	b[5+4] = 4 // a length cmdCodec refuses
	_, err := predict.ParseBatch(nil, b, cmdCodec)
	require.ErrorIs(t, err, predict.ErrMalformed)
	require.ErrorIs(t, err, errBadCmd, "the codec's error is wrapped too")

	ok := predict.AppendBatch(nil, inputs(5, 2), thrustCodec)
	for _, c := range []struct {
		name string
		n    int
	}{{"n 0", 0}, {"n negative", -1}, {"n past the end", 100}, {"n one past the end", 2}} {
		t.Run(c.name, func(t *testing.T) {
			liar := predict.Codec[thrust]{
				Append: thrustCodec.Append,
				Parse:  func(b []byte) (thrust, int, error) { return thrust{}, c.n, nil },
			}
			_, err := predict.ParseBatch(nil, ok, liar)
			require.ErrorIs(t, err, predict.ErrMalformed)
		})
	}
}

func TestParseBatchReusesDst(t *testing.T) {
	b := predict.AppendBatch(nil, inputs(50, predict.MaxBatch), thrustCodec)
	dst := make([]predict.Input[thrust], 3, predict.MaxBatch)
	got, err := predict.ParseBatch(dst, b, thrustCodec)
	require.NoError(t, err)
	require.Len(t, got, predict.MaxBatch)
	require.Same(t, &dst[:1][0], &got[0], "parsed into dst's memory")

	allocs := testing.AllocsPerRun(100, func() {
		got, err = predict.ParseBatch(got, b, thrustCodec)
		if err != nil || len(got) != predict.MaxBatch {
			panic("parse failed")
		}
	})
	require.Zero(t, allocs)

	// Too small a dst grows.
	got, err = predict.ParseBatch(make([]predict.Input[thrust], 0, 1), b, thrustCodec)
	require.NoError(t, err)
	require.Equal(t, inputs(50, predict.MaxBatch)[0].Seq, got[0].Seq)
}

func seqs[I any](ins []predict.Input[I]) []uint32 {
	s := make([]uint32, len(ins))
	for i := range ins {
		s[i] = ins[i].Seq
	}
	return s
}

func FuzzParseBatch(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{17, 100, 0, 0, 0})
	f.Add(predict.AppendBatch(nil, []predict.Input[cmd]{
		{Seq: 4, In: cmd{N: 1, B: [3]byte{9}}},
		{Seq: 5, View: time.Minute, In: cmd{N: 3, B: [3]byte{1, 2, 3}}},
	}, cmdCodec))
	many := make([]predict.Input[cmd], predict.MaxBatch)
	for i := range many {
		many[i] = predict.Input[cmd]{Seq: math.MaxUint32 - uint32(len(many)-1-i), In: cmd{N: uint8(i % 4)}}
	}
	f.Add(predict.AppendBatch(nil, many, cmdCodec))

	dst := make([]predict.Input[cmd], 0, predict.MaxBatch)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := predict.ParseBatch(dst, b, cmdCodec)
		if err != nil {
			if !errors.Is(err, predict.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(got) == 0 || len(got) > predict.MaxBatch {
			t.Fatalf("%d inputs", len(got))
		}
		newest := binary.LittleEndian.Uint32(b[1:])
		for i := range got {
			want := newest - uint32(len(got)-1-i)
			if got[i].Seq != want || got[i].Seq == 0 {
				t.Fatalf("input %d: seq %d, want %d", i, got[i].Seq, want)
			}
		}
		if again := predict.AppendBatch(nil, got, cmdCodec); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, was %x", again, b)
		}
		if allocs := testing.AllocsPerRun(1, func() {
			_, _ = predict.ParseBatch(dst, b, cmdCodec)
		}); allocs != 0 {
			t.Fatalf("%v allocations", allocs)
		}
	})
}
