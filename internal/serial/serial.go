// Package serial implements the subset of the Python mpgameserver
// "Serializable" encoding that appears on the wire: typed integers, byte
// strings, text strings, booleans and null. The handshake messages
// (internal/protocol) are built from these values.
//
// Every value starts with a big-endian u16 type id followed by the value's
// body. Integers are written in the narrowest signed width whose range holds
// the absolute value of the number (so -128 is an int16), which is what the
// reference produces; any width is accepted when reading.
//
// Decoders never allocate in proportion to a length field: byte and string
// values are returned as sub-slices of the input.
package serial

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// TypeID identifies the kind of an encoded value.
type TypeID uint16

// Base type ids of the reference encoding. Ids from 128 upward name object
// types (see internal/protocol for the handshake objects).
const (
	Bool    TypeID = 1
	Int8    TypeID = 3
	Int16   TypeID = 4
	Int32   TypeID = 5
	Int64   TypeID = 6
	Uint8   TypeID = 8
	Uint16  TypeID = 9
	Uint32  TypeID = 10
	Float32 TypeID = 11 // collides with uint64 in the reference; decoded as float32 there
	Float64 TypeID = 12
	String  TypeID = 13
	Bytes   TypeID = 14
	Null    TypeID = 15
	// ObjectBase is the first type id used for object types.
	ObjectBase TypeID = 128
)

// Errors returned by the decoders. They are wrapped with detail; test with
// errors.Is.
var (
	ErrTruncated  = errors.New("serial: value truncated")
	ErrType       = errors.New("serial: unexpected type id")
	ErrRange      = errors.New("serial: value out of range")
	ErrBadUTF8    = errors.New("serial: string is not valid UTF-8")
	ErrBadBoolean = errors.New("serial: boolean byte is not 0 or 1")
)

// IntType returns the type id the reference chooses for v: the narrowest
// signed width whose positive range holds |v|.
func IntType(v int64) TypeID {
	a := uint64(v)
	if v < 0 {
		a = uint64(-v) // math.MinInt64 wraps to itself, which is > MaxInt32: int64
	}
	switch {
	case a <= math.MaxInt8:
		return Int8
	case a <= math.MaxInt16:
		return Int16
	case a <= math.MaxInt32:
		return Int32
	default:
		return Int64
	}
}

// IntSize returns the encoded size of v, type id included.
func IntSize(v int64) int {
	switch IntType(v) {
	case Int8:
		return 3
	case Int16:
		return 4
	case Int32:
		return 6
	default:
		return 10
	}
}

// AppendInt appends the encoding of v.
func AppendInt(b []byte, v int64) []byte {
	t := IntType(v)
	b = binary.BigEndian.AppendUint16(b, uint16(t))
	switch t {
	case Int8:
		return append(b, byte(int8(v)))
	case Int16:
		return binary.BigEndian.AppendUint16(b, uint16(int16(v)))
	case Int32:
		return binary.BigEndian.AppendUint32(b, uint32(int32(v)))
	default:
		return binary.BigEndian.AppendUint64(b, uint64(v))
	}
}

// AppendBytes appends a byte string: type id, length as an int, raw bytes.
func AppendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(Bytes))
	b = AppendInt(b, int64(len(v)))
	return append(b, v...)
}

// BytesSize returns the encoded size of a byte string of length n.
func BytesSize(n int) int { return 2 + IntSize(int64(n)) + n }

// AppendString appends a UTF-8 string: type id, byte length as an int, bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(String))
	b = AppendInt(b, int64(len(s)))
	return append(b, s...)
}

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(Bool))
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendNull appends the null value.
func AppendNull(b []byte) []byte {
	return binary.BigEndian.AppendUint16(b, uint16(Null))
}

// AppendTypeID appends a bare type id, as used to start an object.
func AppendTypeID(b []byte, t TypeID) []byte {
	return binary.BigEndian.AppendUint16(b, uint16(t))
}

// A Reader decodes values from a byte slice in order. The first error
// sticks: later calls return zero values and Err reports it.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader over b. It does not copy b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Reset makes r read b from the start and clears its error.
func (r *Reader) Reset(b []byte) { *r = Reader{buf: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Remaining returns the bytes not yet consumed.
func (r *Reader) Remaining() []byte { return r.buf[r.off:] }

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.buf)-r.off < n {
		r.fail(fmt.Errorf("%w: need %d bytes at offset %d, have %d", ErrTruncated, n, r.off, len(r.buf)-r.off))
		return nil
	}
	s := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

// TypeID reads a bare u16 type id.
func (r *Reader) TypeID() TypeID {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return TypeID(binary.BigEndian.Uint16(b))
}

// Expect reads a type id and fails unless it equals want.
func (r *Reader) Expect(want TypeID) {
	got := r.TypeID()
	if r.err == nil && got != want {
		r.fail(fmt.Errorf("%w: got %d, want %d", ErrType, got, want))
	}
}

// Int reads an integer of any width (int8..int64, uint8..uint32).
func (r *Reader) Int() int64 {
	t := r.TypeID()
	if r.err != nil {
		return 0
	}
	return r.intBody(t)
}

func (r *Reader) intBody(t TypeID) int64 {
	switch t {
	case Int8:
		if b := r.take(1); b != nil {
			return int64(int8(b[0]))
		}
	case Uint8:
		if b := r.take(1); b != nil {
			return int64(b[0])
		}
	case Int16:
		if b := r.take(2); b != nil {
			return int64(int16(binary.BigEndian.Uint16(b)))
		}
	case Uint16:
		if b := r.take(2); b != nil {
			return int64(binary.BigEndian.Uint16(b))
		}
	case Int32:
		if b := r.take(4); b != nil {
			return int64(int32(binary.BigEndian.Uint32(b)))
		}
	case Uint32:
		if b := r.take(4); b != nil {
			return int64(binary.BigEndian.Uint32(b))
		}
	case Int64:
		if b := r.take(8); b != nil {
			return int64(binary.BigEndian.Uint64(b))
		}
	default:
		r.fail(fmt.Errorf("%w: %d is not an integer type", ErrType, t))
	}
	return 0
}

// length reads an integer used as a length and checks it against the bytes
// left, so that no caller allocates for a length the input cannot back.
func (r *Reader) length() int {
	n := r.Int()
	if r.err != nil {
		return 0
	}
	if n < 0 {
		r.fail(fmt.Errorf("%w: negative length %d", ErrRange, n))
		return 0
	}
	if n > int64(len(r.buf)-r.off) {
		r.fail(fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrTruncated, n, len(r.buf)-r.off))
		return 0
	}
	return int(n)
}

// Bytes reads a byte string. The result aliases the input.
func (r *Reader) Bytes() []byte {
	r.Expect(Bytes)
	n := r.length()
	if r.err != nil {
		return nil
	}
	return r.take(n)
}

// String reads a UTF-8 string.
func (r *Reader) String() string {
	r.Expect(String)
	n := r.length()
	b := r.take(n)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail(ErrBadUTF8)
		return ""
	}
	return string(b)
}

// Bool reads a boolean.
func (r *Reader) Bool() bool {
	r.Expect(Bool)
	b := r.take(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.fail(ErrBadBoolean)
		return false
	}
	return b[0] == 1
}

// Null reads the null value.
func (r *Reader) Null() { r.Expect(Null) }
