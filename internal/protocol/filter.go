package protocol

import "fmt"

// Far is the Verdict of a SeqFilter for a seq further ahead of the newest
// one than the filter accepts.
const Far Verdict = Stale + 1

// Filter defaults.
const (
	// DefaultFilterWidth is how many numbers behind the newest a SeqFilter
	// remembers: older ones are refused.
	DefaultFilterWidth = 960
	// DefaultFilterAhead is the largest step ahead of the newest number a
	// SeqFilter accepts. A 16-bit seq further ahead is as likely to be a
	// number from before the last wrap of the ring, so it is refused.
	DefaultFilterAhead = 16384
)

// FilterWords is the bitmap's size in 64-bit words of a SeqFilter as wide
// as DefaultFilterWidth (a power of two, so indexes are masks): the
// length of the buffer InitIn takes.
const FilterWords = 16

// A SeqFilter is an anti-replay window over the 16-bit seqs of one
// direction of a connection (RFC 6479's bitmap). Each seq is read as a
// 64-bit number: the one nearest to the newest number accepted, so the
// filter follows the ring through any number of wraps. A number is
// accepted once: never again, and never once it is Width or more behind
// the newest. A seq more than Ahead in front of the newest is refused as
// Far. Every operation is O(1): moving the window clears at most the
// bitmap's words (16, 128 bytes, for any width up to 960; a power of two
// above Width/64+1 beyond).
//
// The struct holds the window's bounds; the bitmap is a buffer of its own
// (InitIn), so that an owner can keep the bounds among what it reads
// every time and the bitmap, of which an operation reads one word
// (HotWord), elsewhere.
//
// The zero value is not usable; call Init or InitIn.
type SeqFilter struct {
	newest uint64 // 64-bit number of the newest seq accepted; 0: none yet
	width  uint64
	ahead  int
	mask   uint64   // len(words)-1
	words  []uint64 // the bitmap, bit n%64 of word (n/64)&mask
}

// NewSeqFilter returns a filter remembering width numbers that accepts
// steps of at most ahead (see Init).
func NewSeqFilter(width, ahead int) *SeqFilter {
	f := &SeqFilter{}
	f.Init(width, ahead)
	return f
}

// Init empties f and sets its width (1..32767, how many numbers behind
// the newest are remembered) and ahead (1..32767, the largest step
// forward accepted), with a bitmap of its own. It panics on values
// outside those ranges.
func (f *SeqFilter) Init(width, ahead int) { f.InitIn(width, ahead, nil) }

// InitIn is Init with buf as the bitmap when it is long enough: a
// width up to DefaultFilterWidth needs FilterWords words. Otherwise the
// filter makes its own.
func (f *SeqFilter) InitIn(width, ahead int, buf []uint64) {
	if width < 1 || width > seqThreshold || ahead < 1 || ahead > seqThreshold {
		panic(fmt.Sprintf("protocol: SeqFilter width %d / ahead %d out of 1..%d", width, ahead, seqThreshold))
	}
	n := 1
	for n*64 < width+64 { // the word of the newest plus width bits behind it
		n *= 2
	}
	if len(buf) >= n {
		f.words = buf[:n:n]
		clear(f.words)
	} else {
		f.words = make([]uint64, n)
	}
	f.newest, f.width, f.ahead, f.mask = 0, uint64(width), ahead, uint64(n-1)
}

// HotWord returns the bitmap's word that holds the newest number: the one
// the next Check, Accept or AckBits most likely reads, for a caller to
// prefetch (nil before Init).
func (f *SeqFilter) HotWord() *uint64 {
	if len(f.words) == 0 {
		return nil
	}
	return &f.words[(f.newest>>6)&f.mask]
}

// Width returns how many numbers behind the newest are remembered.
func (f *SeqFilter) Width() int { return int(f.width) }

// Newest returns the 64-bit number of the newest seq accepted (0 before
// the first).
func (f *SeqFilter) Newest() uint64 { return f.newest }

// SeqOf returns the 16-bit seq of a 64-bit number.
func SeqOf(n uint64) Seq { return Seq((n-1)%seqModulus + 1) }

// Check returns the 64-bit number s stands for and whether it would be
// accepted (Fresh), was accepted before (Duplicate), is too old to tell
// (Stale) or too far ahead (Far). It changes nothing. Seq 0, which no
// sender produces, is Stale.
func (f *SeqFilter) Check(s Seq) (uint64, Verdict) {
	if s == 0 {
		return 0, Stale
	}
	if f.newest == 0 {
		// The first number is placed one turn of the ring in, so that
		// seqs before it still have a positive number.
		return uint64(s) + seqModulus, Fresh
	}
	d := s.Diff(SeqOf(f.newest))
	switch {
	case d > f.ahead:
		return f.newest + uint64(d), Far
	case d > 0:
		return f.newest + uint64(d), Fresh
	}
	back := uint64(-d)
	n := f.newest - back
	if back >= f.width {
		return n, Stale
	}
	if f.words[(n>>6)&f.mask]&(1<<(n&63)) != 0 {
		return n, Duplicate
	}
	return n, Fresh
}

// Accept records number n, which Check returned with Fresh.
func (f *SeqFilter) Accept(n uint64) {
	b := f.words
	if n > f.newest {
		from, to := f.newest>>6, n>>6
		if f.newest == 0 || to-from > f.mask {
			clear(b)
		} else {
			for w := from + 1; w <= to; w++ {
				b[w&f.mask] = 0
			}
		}
		f.newest = n
	}
	b[(n>>6)&f.mask] |= 1 << (n & 63)
}

// Current returns the newest seq accepted, or 0 before the first: the
// header's ack field.
func (f *SeqFilter) Current() Seq {
	if f.newest == 0 {
		return 0
	}
	return SeqOf(f.newest)
}

// AckBits returns which of the 32 seqs before Current were accepted, in
// the header's ack_bits layout (bit 31 is Current-1, bit 0 Current-32),
// as the reference's 32-packet window has them. The filter's width must
// be at least 32.
func (f *SeqFilter) AckBits() uint32 {
	if f.newest == 0 {
		return 0
	}
	lo := f.newest - 32 // the first number is placed past 65535
	b := f.words
	off := lo & 63
	x := b[(lo>>6)&f.mask] >> off
	if off > 32 {
		x |= b[((lo>>6)+1)&f.mask] << (64 - off)
	}
	return uint32(x)
}

// Contains reports whether s stands for a number accepted and still
// remembered.
func (f *SeqFilter) Contains(s Seq) bool {
	_, v := f.Check(s)
	return v == Duplicate
}

// Insert is Check followed, for a Fresh seq, by Accept.
func (f *SeqFilter) Insert(s Seq) Verdict {
	n, v := f.Check(s)
	if v == Fresh {
		f.Accept(n)
	}
	return v
}
