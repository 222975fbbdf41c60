package serial_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/serial"
)

// FuzzReader decodes the input as a sequence of values, dispatching on each
// value's type id, until the input ends or a value fails. Every value that
// decodes is re-encoded: the encoding must decode to the same value, and it
// must reproduce the input bytes exactly when the input used the canonical
// integer widths (the encoding is canonical apart from integer widths, which
// a reader accepts in any size).
//
// The cost is bounded too: every value takes at least 2 bytes, so the
// values read are at most half the input's bytes; decoding the whole input
// allocates nothing but the strings it returns (their bytes, rounded up by
// the allocator) and, when a value fails, one formatted error; a length
// field never makes the reader allocate or look past the input.
func FuzzReader(f *testing.F) {
	// small seeds only: the fuzzer's minimizer is quadratic in the input
	// size
	for _, c := range allValues(f) {
		if len(c.enc) <= 256 {
			f.Add(c.enc)
		}
	}
	v := loadSerializable(f)
	for _, m := range v.Messages {
		// an object body: skip the 2-byte object id to get a value sequence
		b := []byte(m.Encoded[2:])
		f.Add(b[:min(len(b), 256)])
	}
	f.Add([]byte{0, 9, 0xff, 0xff, 0, 8, 1, 0, 10, 0, 0, 0, 1})
	f.Add([]byte{0, 14, 0, 4, 0, 2, 0xaa, 0xbb})

	f.Fuzz(func(t *testing.T, data []byte) {
		strs, strBytes, failed := decodeAll(data)
		allowed := cost{Mallocs: uint64(strs), Bytes: uint64(strBytes) + uint64(strs)*16 + uint64(strBytes)/4}
		if failed {
			allowed.Mallocs += errCost.Mallocs
			allowed.Bytes += errCost.Bytes
		}
		if c := pureCost(func() { decodeAll(data) }); !c.Within(allowed) {
			t.Fatalf("decoding %d bytes (%d strings of %d bytes, failed %v) cost %v", len(data), strs, strBytes, failed, c)
		}

		r := serial.NewReader(data)
		for len(r.Remaining()) >= 2 {
			start := r.Offset()
			id := serial.TypeID(binary.BigEndian.Uint16(r.Remaining()))
			var reenc []byte
			var check func(*serial.Reader)
			switch id {
			case serial.Int8, serial.Int16, serial.Int32, serial.Int64, serial.Uint8, serial.Uint16, serial.Uint32:
				n := r.Int()
				if r.Err() != nil {
					return
				}
				reenc = serial.AppendInt(nil, n)
				check = func(r *serial.Reader) { require.Equal(t, n, r.Int()) }
			case serial.Bytes:
				b := r.Bytes()
				if r.Err() != nil {
					return
				}
				require.LessOrEqual(t, len(b), len(data))
				reenc = serial.AppendBytes(nil, b)
				check = func(r *serial.Reader) { require.Equal(t, b, r.Bytes()) }
			case serial.String:
				s := r.String()
				if r.Err() != nil {
					return
				}
				reenc = serial.AppendString(nil, s)
				check = func(r *serial.Reader) { require.Equal(t, s, r.String()) }
			case serial.Bool:
				b := r.Bool()
				if r.Err() != nil {
					return
				}
				reenc = serial.AppendBool(nil, b)
				check = func(r *serial.Reader) { require.Equal(t, b, r.Bool()) }
			case serial.Null:
				r.Null()
				require.NoError(t, r.Err())
				reenc = serial.AppendNull(nil)
				check = func(r *serial.Reader) { r.Null() }
			default:
				n := r.Int() // not an integer type: must fail cleanly
				require.Zero(t, n)
				require.ErrorIs(t, r.Err(), serial.ErrType)
				return
			}
			raw := data[start:r.Offset()]
			require.GreaterOrEqual(t, len(raw), 2, "a value takes at least its type id")
			rr := serial.NewReader(reenc)
			check(rr)
			require.NoError(t, rr.Err())
			require.Empty(t, rr.Remaining())
			if canonicalInts(raw) {
				require.True(t, bytes.Equal(raw, reenc), "canonical input %x re-encoded as %x", raw, reenc)
			}
		}
	})
}

// decodeAll reads data as FuzzReader does, without checking anything,
// and returns the strings read, their bytes and whether a value failed.
func decodeAll(data []byte) (strs, strBytes int, failed bool) {
	var r serial.Reader
	r.Reset(data)
	for len(r.Remaining()) >= 2 {
		switch serial.TypeID(binary.BigEndian.Uint16(r.Remaining())) {
		case serial.Bytes:
			r.Bytes()
		case serial.String:
			if s := r.String(); r.Err() == nil {
				strs++
				strBytes += len(s)
			}
		case serial.Bool:
			r.Bool()
		case serial.Null:
			r.Null()
		default:
			r.Int()
		}
		if r.Err() != nil {
			return strs, strBytes, true
		}
	}
	return strs, strBytes, false
}

// canonicalInts reports whether the integer in raw (an int value, or the
// length of a bytes/string value) uses the width AppendInt would choose.
func canonicalInts(raw []byte) bool {
	id := serial.TypeID(binary.BigEndian.Uint16(raw))
	switch id {
	case serial.Bytes, serial.String:
		raw = raw[2:]
	case serial.Bool, serial.Null:
		return true
	}
	t := serial.TypeID(binary.BigEndian.Uint16(raw))
	r := serial.NewReader(raw)
	n := r.Int()
	return r.Err() == nil && serial.IntType(n) == t
}
