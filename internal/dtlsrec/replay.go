package dtlsrec

// windowSize is the anti-replay window of RFC 6347 section 4.1.2.6: a
// record up to 63 sequence numbers older than the newest accepted one is
// still accepted once, older ones are refused.
const windowSize = 64

// window is the receiving side's anti-replay state for one epoch.
type window struct {
	// next is one more than the highest sequence number accepted.
	next uint64
	// seen has bit i set when sequence number next-1-i was accepted.
	seen uint64
}

// newWindow starts a window after a handshake in which every sequence
// number below next may have been used: they are all taken as seen. pion
// only saw the peer's Finished (and its retransmissions) at epoch 1, none
// of them data, so nothing useful is refused.
func newWindow(next uint64) window {
	w := window{next: next}
	if next > 0 {
		w.seen = ^uint64(0)
	}
	return w
}

// fresh reports whether seq may be accepted. It changes nothing: the
// window moves only once the record has authenticated (accept), so that
// forged records cannot push genuine ones out of it.
func (w *window) fresh(seq uint64) bool {
	if seq >= w.next {
		return true
	}
	age := w.next - 1 - seq
	return age < windowSize && w.seen&(1<<age) == 0
}

// accept records seq, which fresh allowed.
func (w *window) accept(seq uint64) {
	if seq < w.next {
		w.seen |= 1 << (w.next - 1 - seq)
		return
	}
	if shift := seq + 1 - w.next; shift < windowSize {
		w.seen = w.seen<<shift | 1
	} else {
		w.seen = 1
	}
	w.next = seq + 1
}
