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
	words   []uint64 // words[0] holds bits 0..63 (the oldest)
}

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
	nw := (nbits + 63) / 64
	if cap(w.words) >= nw {
		w.words = w.words[:nw]
		clear(w.words)
	} else {
		w.words = make([]uint64, nw)
	}
	w.n = nbits
	w.current = 0
}

// Size returns the width of the window in bits.
func (w *Window) Size() int { return w.n }

// Current returns the newest seq inserted, or 0 if none.
func (w *Window) Current() Seq { return w.current }

func (w *Window) bit(i int) bool { return w.words[i>>6]&(1<<(uint(i)&63)) != 0 }

func (w *Window) set(i int) { w.words[i>>6] |= 1 << (uint(i) & 63) }

// shiftRight shifts the whole window right by k bits (toward bit 0),
// dropping bits that fall off and clearing the vacated high bits.
func (w *Window) shiftRight(k int) {
	if k >= w.n {
		clear(w.words)
		return
	}
	ws, bs := k>>6, uint(k&63)
	nw := len(w.words)
	for i := 0; i < nw; i++ {
		var v uint64
		if j := i + ws; j < nw {
			v = w.words[j] >> bs
			if bs != 0 && j+1 < nw {
				v |= w.words[j+1] << (64 - bs)
			}
		}
		w.words[i] = v
	}
	if r := w.n & 63; r != 0 {
		w.words[nw-1] &= 1<<uint(r) - 1
	}
}

// Insert records s and reports whether it was fresh, a duplicate or stale.
func (w *Window) Insert(s Seq) Verdict {
	if w.current == 0 {
		w.current = s
		return Fresh
	}
	d := w.current.Diff(s)
	switch {
	case d < 0:
		n := -d
		w.shiftRight(n)
		if n <= w.n {
			w.set(w.n - n)
		}
		w.current = s
		return Fresh
	case d == 0:
		return Duplicate
	case d <= w.n:
		i := w.n - d
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
		if w.bit(w.n - d) {
			return Duplicate
		}
		return Fresh
	default:
		return Stale
	}
}

// Contains reports whether s is recorded (Current itself included).
func (w *Window) Contains(s Seq) bool {
	d := w.current.Diff(s)
	if d == 0 {
		return true
	}
	return d > 0 && d <= w.n && w.bit(w.n-d)
}

// AckBits returns the 32 newest bits of the window (Current-1 .. Current-32)
// in the header's ack_bits layout: bit 31 is Current-1.
func (w *Window) AckBits() uint32 {
	top := w.n - 32 // index of the bit for Current-32
	word, off := top>>6, uint(top&63)
	v := w.words[word] >> off
	if off > 32 && word+1 < len(w.words) {
		v |= w.words[word+1] << (64 - off)
	}
	return uint32(v)
}

// Hex returns the whole window as a big-endian hex number (most significant
// bit = Current-1), the layout of the reference and of the test vectors.
func (w *Window) Hex() string {
	b := make([]byte, w.n/8)
	for i := range b {
		// byte i (from the most significant end) holds bits n-1-8i .. n-8-8i
		lo := w.n - 8 - 8*i
		b[i] = byte(w.words[lo>>6] >> uint(lo&63))
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
