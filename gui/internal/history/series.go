package history

import "math"

// DefaultBins is the history length the reference keeps: 300 one-second
// bins, five minutes.
const DefaultBins = 300

// A Series is a ring of per-second bins. Bin values are unsigned 32-bit
// (sums saturate rather than wrap), which keeps a connection's five series
// of five minutes under 6 KB. Seconds with no data read as zero.
//
// The zero Series has no storage; use NewSeries or Init. A Series is not
// safe for concurrent use; copy it (CopyTo) to hand it to another goroutine.
type Series struct {
	vals []uint32
	head int   // index of the newest bin
	sec  int64 // Unix second of the newest bin; 0 until the first value
}

// NewSeries returns a series of n bins.
func NewSeries(n int) *Series {
	s := &Series{}
	s.Init(n)
	return s
}

// Init gives s n zero bins, reusing its storage when it can.
func (s *Series) Init(n int) {
	if n < 1 {
		n = 1
	}
	if cap(s.vals) >= n {
		s.vals = s.vals[:n]
		clear(s.vals)
	} else {
		s.vals = make([]uint32, n)
	}
	s.head, s.sec = 0, 0
}

// Len returns the number of bins.
func (s *Series) Len() int { return len(s.vals) }

// Second returns the Unix second of the newest bin (0 if nothing was added).
func (s *Series) Second() int64 { return s.sec }

// bin returns the index of second sec's bin, or -1 if it is no longer held.
// A second newer than the newest bin moves the series forward, zeroing the
// seconds skipped.
func (s *Series) bin(sec int64) int {
	n := len(s.vals)
	if n == 0 {
		return -1
	}
	if s.sec == 0 {
		s.sec = sec
		return s.head
	}
	d := sec - s.sec
	switch {
	case d == 0:
		return s.head
	case d < 0:
		if -d >= int64(n) {
			return -1
		}
		return (s.head + n - int(-d)) % n
	}
	if d >= int64(n) {
		clear(s.vals)
		s.head = 0
	} else {
		for i := int64(0); i < d; i++ {
			s.head++
			if s.head == n {
				s.head = 0
			}
			s.vals[s.head] = 0
		}
	}
	s.sec = sec
	return s.head
}

func sat(v int64) uint32 {
	switch {
	case v < 0:
		return 0
	case v > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(v)
}

// Add adds v to the bin of second sec.
func (s *Series) Add(sec int64, v int64) {
	if i := s.bin(sec); i >= 0 {
		s.vals[i] = sat(int64(s.vals[i]) + v)
	}
}

// Set sets the bin of second sec to v.
func (s *Series) Set(sec int64, v int64) {
	if i := s.bin(sec); i >= 0 {
		s.vals[i] = sat(v)
	}
}

// Max sets the bin of second sec to the larger of its value and v.
func (s *Series) Max(sec int64, v int64) {
	if i := s.bin(sec); i >= 0 {
		s.vals[i] = max(s.vals[i], sat(v))
	}
}

// Advance moves the series forward to second sec without adding anything,
// so that quiet seconds show as zeros.
func (s *Series) Advance(sec int64) {
	if s.sec != 0 && sec > s.sec {
		s.bin(sec)
	}
}

// At returns the value of second sec, or 0 if it is not held.
func (s *Series) At(sec int64) int64 {
	n := len(s.vals)
	d := s.sec - sec
	if n == 0 || s.sec == 0 || d < 0 || d >= int64(n) {
		return 0
	}
	return int64(s.vals[(s.head+n-int(d))%n])
}

// Last returns the newest bin's value.
func (s *Series) Last() int64 {
	if len(s.vals) == 0 {
		return 0
	}
	return int64(s.vals[s.head])
}

// Values appends the bins to dst, oldest first, newest last, and returns
// the extended slice.
func (s *Series) Values(dst []int64) []int64 {
	n := len(s.vals)
	for i := 1; i <= n; i++ {
		dst = append(dst, int64(s.vals[(s.head+i)%n]))
	}
	return dst
}

// Sum returns the sum of the newest k bins whose seconds are complete
// before second now (so a partly filled current second is left out).
func (s *Series) Sum(now int64, k int) int64 {
	var t int64
	for sec := now - int64(k); sec < now; sec++ {
		t += s.At(sec)
	}
	return t
}

// CopyTo copies s into dst, reusing dst's storage when it can.
func (s *Series) CopyTo(dst *Series) {
	if cap(dst.vals) >= len(s.vals) {
		dst.vals = dst.vals[:len(s.vals)]
	} else {
		dst.vals = make([]uint32, len(s.vals))
	}
	copy(dst.vals, s.vals)
	dst.head, dst.sec = s.head, s.sec
}
