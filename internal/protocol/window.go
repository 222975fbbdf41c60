package protocol

import (
	"encoding/hex"
	"fmt"
)

// A Window remembers which of the last N sequence numbers were received, to
// fill the header's ack fields (N = 32, the packet window) and to drop
// duplicate messages (N = 256 in the reference, the message window).
//
// It follows the reference exactly: Current is the newest seq inserted and
// bit N-1 of the window stands for Current-1, bit 0 for Current-N. A seq more
// than N behind Current is reported as Stale and not recorded; the reference
// accepts such a seq as new.
type Window struct {
	current Seq
	n       int      // window width in bits, a multiple of 32
	words   []uint64 // a ring of bits, one per seq; more than n+1 of them
	pos     int      // bit of current in the ring
	// inline holds the ring of windows up to 1024 bits, so that it shares
	// the cache lines of the struct around it (one less miss per packet
	// on a server with thousands of connections).
	inline [inlineWords]uint64
	nw     int // words in the ring
}

// ring returns the bits: inline, or words for a wide window.
func (w *Window) ring() []uint64 {
	if w.words != nil {
		return w.words
	}
	return w.inline[:w.nw]
}

const inlineWords = 1024/64 + 1

// Verdict is the outcome of Window.Insert.
type Verdict uint8

// Verdicts.
const (
	// Fresh: the seq was not seen before and is now recorded.
	Fresh Verdict = iota
	// Duplicate: the seq was already recorded.
	Duplicate
	// Stale: the seq is older than the window covers. The reference treats
	// it as new; callers decide.
	Stale
)

// String returns "fresh", "duplicate" or "stale".
func (v Verdict) String() string {
	switch v {
	case Fresh:
		return "fresh"
	case Duplicate:
		return "duplicate"
	case Stale:
		return "stale"
	case Far:
		return "far"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// NewWindow returns an empty window of nbits bits; nbits must be a positive
// multiple of 32 no larger than 32767.
func NewWindow(nbits int) *Window {
	w := &Window{}
	w.Init(nbits)
	return w
}

// Init makes w an empty window of nbits bits, reusing its storage if it can.
func (w *Window) Init(nbits int) {
	if nbits <= 0 || nbits%32 != 0 || nbits > seqThreshold {
		panic(fmt.Sprintf("protocol: window width %d is not a positive multiple of 32 below 32768", nbits))
	}
	nw := nbits/64 + 1 // room for current and the n seqs behind it
	switch {
	case nw <= inlineWords:
		w.words = nil // see ring
		w.inline = [inlineWords]uint64{}
	case cap(w.words) >= nw && len(w.words) > 0:
		w.words = w.words[:nw]
		clear(w.words)
	default:
		w.words = make([]uint64, nw)
	}
	w.n = nbits
	w.nw = nw
	w.current = 0
	w.pos = 0
}

// Size returns the width of the window in bits.
func (w *Window) Size() int { return w.n }

// Current returns the newest seq inserted, or 0 if none.
func (w *Window) Current() Seq { return w.current }

// at returns the ring bit of the seq d behind current (0 <= d <= n).
func (w *Window) at(d int) int {
	i := w.pos - d
	if i < 0 {
		i += w.nw * 64
	}
	return i
}

func (w *Window) bit(i int) bool { return w.ring()[i>>6]&(1<<(uint(i)&63)) != 0 }

func (w *Window) set(i int) { w.ring()[i>>6] |= 1 << (uint(i) & 63) }

// advance moves current k seqs ahead, clearing the bits it moves over a
// word at a time, so a long jump costs no more than the ring's size.
func (w *Window) advance(k int) {
	r := w.ring()
	size := len(r) * 64
	if k >= size {
		clear(r)
		w.pos = (w.pos + k) % size
		return
	}
	for i := w.pos + 1; k > 0; {
		if i == size {
			i = 0
		}
		off := uint(i & 63)
		n := min(k, 64-int(off)) // bits to clear in this word
		var m uint64 = ^uint64(0)
		if n < 64 {
			m = (1<<uint(n) - 1) << off
		}
		r[i>>6] &^= m
		i += n
		k -= n
		w.pos = i - 1
	}
}

// Insert records s and reports whether it was fresh, a duplicate or stale.
func (w *Window) Insert(s Seq) Verdict {
	if w.current == 0 {
		w.current = s
		w.set(w.pos)
		return Fresh
	}
	d := w.current.Diff(s)
	switch {
	case d < 0:
		w.advance(-d)
		w.set(w.pos)
		w.current = s
		return Fresh
	case d == 0:
		return Duplicate
	case d <= w.n:
		i := w.at(d)
		if w.bit(i) {
			return Duplicate
		}
		w.set(i)
		return Fresh
	default:
		return Stale
	}
}

// Check reports what Insert(s) would return, without recording s.
func (w *Window) Check(s Seq) Verdict {
	if w.current == 0 {
		return Fresh
	}
	d := w.current.Diff(s)
	switch {
	case d < 0:
		return Fresh
	case d == 0:
		return Duplicate
	case d <= w.n:
		if w.bit(w.at(d)) {
			return Duplicate
		}
		return Fresh
	default:
		return Stale
	}
}

// Contains reports whether s is recorded (Current itself included).
func (w *Window) Contains(s Seq) bool {
	if w.current == 0 {
		return false
	}
	d := w.current.Diff(s)
	if d == 0 {
		return true
	}
	return d > 0 && d <= w.n && w.bit(w.at(d))
}

// AckBits returns the 32 newest bits of the window (Current-1 .. Current-32)
// in the header's ack_bits layout: bit 31 is Current-1.
func (w *Window) AckBits() uint32 {
	if w.current == 0 {
		return 0
	}
	start := w.at(32) // the bit of Current-32, the lowest of the result
	word, off := start>>6, uint(start&63)
	r := w.ring()
	v := r[word] >> off
	if off > 32 {
		next := word + 1
		if next == len(r) {
			next = 0
		}
		v |= r[next] << (64 - off)
	}
	return uint32(v)
}

// Hex returns the whole window as a big-endian hex number (most significant
// bit = Current-1), the layout of the reference and of the test vectors.
func (w *Window) Hex() string {
	b := make([]byte, w.n/8)
	if w.current != 0 {
		for d := 1; d <= w.n; d++ {
			if w.bit(w.at(d)) {
				b[(d-1)/8] |= 0x80 >> uint((d-1)%8)
			}
		}
	}
	return hex.EncodeToString(b)
}

// Acks reports whether the header fields ack/ackBits acknowledge packet p:
// p == ack, or p is 1..32 behind ack and its bit is set.
func Acks(ack Seq, ackBits uint32, p Seq) bool {
	d := ack.Diff(p)
	if d == 0 {
		return true
	}
	return d >= 1 && d <= 32 && ackBits&(0x80000000>>uint(d-1)) != 0
}
