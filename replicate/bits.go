package replicate

import "errors"

// errShort is a bit reader running past the end of its message.
var errShort = errors.New("replicate: message ends early")

// bitWriter appends bits, least significant first, to a byte slice. With
// count set it only counts them (a dry run that sizes an entity).
type bitWriter struct {
	buf   []byte
	acc   uint64
	n     uint // bits in acc
	count bool
	bits  int // bits written in all
}

func (w *bitWriter) reset(buf []byte, count bool) {
	*w = bitWriter{buf: buf, count: count}
}

// write appends the low n bits of v (n <= 32).
func (w *bitWriter) write(v uint32, n int) {
	w.bits += n
	if w.count || n == 0 {
		return
	}
	w.acc |= uint64(v&(1<<n-1)) << w.n
	w.n += uint(n)
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func (w *bitWriter) bit(b bool) {
	if b {
		w.write(1, 1)
	} else {
		w.write(0, 1)
	}
}

// flush pads the last byte and returns the bytes.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.buf
}

// uvar writes an unsigned number in tiers: 0+4 bits, 10+8, 110+16, 111+32.
func (w *bitWriter) uvar(v uint32) {
	switch {
	case v < 1<<4:
		w.write(0, 1)
		w.write(v, 4)
	case v < 1<<8:
		w.write(0b01, 2)
		w.write(v, 8)
	case v < 1<<16:
		w.write(0b011, 3)
		w.write(v, 16)
	default:
		w.write(0b111, 3)
		w.write(v, 32)
	}
}

// bitReader reads what bitWriter wrote. Reading past the end sets err
// and returns zeros, so a decoder checks err once per entity.
type bitReader struct {
	buf []byte
	pos int // bit position
	err error
}

func (r *bitReader) read(n int) uint32 {
	if n == 0 || r.err != nil {
		return 0
	}
	if r.pos+n > len(r.buf)*8 {
		r.err = errShort
		return 0
	}
	var v uint64
	got := 0
	for got < n {
		byteI, off := r.pos>>3, r.pos&7
		take := min(8-off, n-got)
		v |= uint64(r.buf[byteI]>>off&(1<<take-1)) << got
		got += take
		r.pos += take
	}
	return uint32(v)
}

func (r *bitReader) bit() bool { return r.read(1) == 1 }

// mask reads n bits, one a field, into a mask whose bit f is field f's.
func (r *bitReader) mask(n int) uint32 {
	var m uint32
	for f := range n {
		if r.bit() {
			m |= 1 << f
		}
	}
	return m
}

func (r *bitReader) uvar() uint32 {
	if !r.bit() {
		return r.read(4)
	}
	if !r.bit() {
		return r.read(8)
	}
	if !r.bit() {
		return r.read(16)
	}
	return r.read(32)
}

// zigzag maps a signed difference to an unsigned one: 0, -1, 1, -2, ...
func zigzag(d int64) uint64 { return uint64(d<<1) ^ uint64(d>>63) }

func unzigzag(z uint64) int64 { return int64(z>>1) ^ -int64(z&1) }

// writeDelta writes a changed numeric value v against its baseline b: a
// small difference in 5 or 9 bits, anything else as the raw value.
func writeDelta(w *bitWriter, f *field, v, b uint32) {
	if f.bits <= 6 {
		w.write(v, f.bits)
		return
	}
	d := int64(v) - int64(b)
	if f.Type == TypeAngle { // the short way round
		d = wrapSigned(d, f.bits)
	}
	switch z := zigzag(d); {
	case z < 1<<5:
		w.write(0, 1)
		w.write(uint32(z), 5)
	case z < 1<<9:
		w.write(0b01, 2)
		w.write(uint32(z), 9)
	default:
		w.write(0b11, 2)
		w.write(v, f.bits)
	}
}

func readDelta(r *bitReader, f *field, b uint32) uint32 {
	if f.bits <= 6 {
		return r.read(f.bits)
	}
	var z uint64
	switch {
	case !r.bit():
		z = uint64(r.read(5))
	case !r.bit():
		z = uint64(r.read(9))
	default:
		return r.read(f.bits)
	}
	v := int64(b) + unzigzag(z)
	if f.Type == TypeAngle {
		return uint32(v) & f.span
	}
	if v < 0 || v > int64(f.span) {
		r.err = errRange
		return 0
	}
	return uint32(v)
}

var errRange = errors.New("replicate: value out of its field's range")

// wrapSigned maps d into [-2^(bits-1), 2^(bits-1)).
func wrapSigned(d int64, bits int) int64 {
	m := int64(1) << bits
	d &= m - 1
	if d >= m/2 {
		d -= m
	}
	return d
}
