package protocol

// Seq is a 16-bit sequence number on the ring 1..65535. Zero means "none
// yet" and is never produced by Next or Add. Packet seqs, message seqs and
// fragment ids all use this arithmetic.
type Seq uint16

const (
	seqModulus   = 65535
	seqThreshold = (seqModulus - 1) / 2 // 32767
)

// Next returns s+1, wrapping 65535 to 1.
func (s Seq) Next() Seq {
	if s >= seqModulus {
		return 1
	}
	return s + 1
}

// Add returns s+k on the ring 1..65535; k may be negative.
func (s Seq) Add(k int) Seq {
	if -seqModulus < k && k < seqModulus { // no division for the usual steps
		r := int(s) - 1 + k
		if r >= seqModulus {
			r -= seqModulus
		} else if r < 0 {
			r += seqModulus
		}
		return Seq(r + 1)
	}
	r := (int(s) - 1 + k) % seqModulus
	if r < 0 {
		r += seqModulus
	}
	return Seq(r + 1)
}

// Sub returns s-k on the ring 1..65535.
func (s Seq) Sub(k int) Seq { return s.Add(-k) }

// Diff returns the signed distance s-o corrected for wrap-around, in
// -32767..32767. Positive means s is newer. As in the reference, 0 and 65535
// are aliases: Diff(0, 65535) == 0.
func (s Seq) Diff(o Seq) int {
	r := int(s) - int(o)
	if r > seqThreshold {
		r -= seqModulus
	} else if r < -seqThreshold {
		r += seqModulus
	}
	return r
}

// NewerThan reports whether s is more recent than o.
func (s Seq) NewerThan(o Seq) bool { return s.Diff(o) > 0 }
