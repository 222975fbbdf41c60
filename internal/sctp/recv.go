package sctp

import "time"

// This file is the receiving half: the TSN window, DATA chunks, reassembly,
// FORWARD-TSN from the peer and the SACKs that acknowledge it all.

const (
	// window is how many TSNs above the cumulative TSN we track. DATA
	// beyond it is dropped unacknowledged; a peer with that much
	// outstanding will have abandoned the gap long before.
	window = 1024
	// maxGapBlocks bounds the gap ack blocks in one SACK (80 bytes of
	// SACK at most, so it always fits in front of DATA).
	maxGapBlocks = 16
	// sackDelay is the longest a SACK waits for Flush (RFC 9260 section
	// 6.2 allows up to 500 ms; browsers use 200 ms).
	sackDelay = 200 * time.Millisecond
)

type receiver struct {
	// cum is the cumulative TSN: every TSN up to it was received or
	// skipped by FORWARD-TSN. max is the highest TSN received; TSNs in
	// (cum, max] that arrived have their bit set in seen, a ring indexed
	// by TSN modulo window. A bit is cleared when cum passes it, so the
	// slot is free again for the TSN window higher.
	cum, max uint32
	seen     [window / 64]uint64

	pending bool      // a SACK is owed
	owed    int       // the DATA chunks it acknowledges
	since   time.Time // when it became owed
	sackNow bool      // the current packet asks for an immediate SACK

	// One reassembly at a time. Fragments of a message carry consecutive
	// TSNs (RFC 9260 section 6.9); next is the TSN the next fragment must
	// have. skip swallows the rest of a message we decided to drop.
	assembling bool
	skip       bool
	stream     uint16
	ppid       uint32
	next       uint32
	buf        []byte // cap MaxMessage, allocated once
}

func (r *receiver) init(cum uint32) {
	r.cum, r.max = cum, cum
	clear(r.seen[:])
	r.pending, r.sackNow = false, false
	r.assembling = false
}

func (r *receiver) bit(tsn uint32) (word int, mask uint64) {
	i := tsn % window
	return int(i / 64), 1 << (i % 64)
}

type arrival uint8

const (
	arrivedNew arrival = iota
	arrivedDup
	arrivedBeyond
)

// mark records the arrival of tsn and advances cum over what is now
// contiguous.
func (r *receiver) mark(tsn uint32) arrival {
	d := tsn - r.cum
	switch {
	case d == 0 || d >= 1<<31: // at or below cum
		return arrivedDup
	case d > window:
		return arrivedBeyond
	case d == 1 && r.max == r.cum: // in order, no gaps: the common case
		r.cum, r.max = tsn, tsn
		return arrivedNew
	}
	w, m := r.bit(tsn)
	if r.seen[w]&m != 0 {
		return arrivedDup
	}
	r.seen[w] |= m
	if tsnGT(tsn, r.max) {
		r.max = tsn
	}
	r.advance()
	return arrivedNew
}

func (r *receiver) advance() {
	for r.cum != r.max {
		w, m := r.bit(r.cum + 1)
		if r.seen[w]&m == 0 {
			return
		}
		r.seen[w] &^= m
		r.cum++
	}
}

// forward moves cum to newCum (RFC 3758 section 3.6), which is above it.
func (r *receiver) forward(newCum uint32) {
	if newCum-r.cum >= window {
		clear(r.seen[:])
	} else {
		for t := r.cum + 1; t != newCum+1; t++ {
			w, m := r.bit(t)
			r.seen[w] &^= m
		}
	}
	r.cum = newCum
	if tsnLT(r.max, newCum) {
		r.max = newCum
	}
	r.advance()
	// A message being reassembled lost a fragment the peer gave up on.
	if r.assembling && !tsnGT(r.next, newCum) {
		r.assembling = false
	}
}

// gapBlocks fills g with the runs of received TSNs above cum, as offsets
// from cum (RFC 9260 section 3.3.4), and returns how many there are.
func (r *receiver) gapBlocks(g *[maxGapBlocks][2]uint16) int {
	n, start := 0, uint32(0)
	for off := uint32(1); off <= r.max-r.cum && n < maxGapBlocks; off++ {
		w, m := r.bit(r.cum + off)
		switch {
		case r.seen[w]&m != 0 && start == 0:
			start = off
		case r.seen[w]&m == 0 && start != 0:
			g[n] = [2]uint16{uint16(start), uint16(off - 1)}
			n, start = n+1, 0
		}
	}
	if start != 0 && n < maxGapBlocks {
		g[n] = [2]uint16{uint16(start), uint16(r.max - r.cum)}
		n++
	}
	return n
}

func (r *receiver) owe(now time.Time) {
	if !r.pending {
		r.pending, r.since, r.owed = true, now, 0
	}
	r.owed++
}

// onData handles one DATA chunk value.
func (a *Assoc) onData(flags byte, v []byte, now time.Time, s Sink) error {
	if len(v) < dataHeaderLen-chunkHeaderLen+1 { // no user data is a protocol violation
		return ErrMalformed
	}
	if a.st != stateEstablished {
		a.stats.Ignored++
		return nil
	}
	a.stats.DataIn++
	tsn := be32(v)
	switch a.rx.mark(tsn) {
	case arrivedDup:
		// Our SACK was probably lost: say it again now.
		a.stats.Duplicates++
		a.rx.owe(now)
		a.rx.sackNow = true
		return nil
	case arrivedBeyond:
		a.stats.OutOfWindow++
		return nil
	}
	a.rx.owe(now)
	if flags&flagImmediate != 0 {
		a.rx.sackNow = true
	}
	a.fragment(tsn, be16(v[4:]), be32(v[8:]), flags, v[12:], now, s)
	return nil
}

// fragment feeds a newly arrived DATA chunk to reassembly.
func (a *Assoc) fragment(tsn uint32, stream uint16, ppid uint32, flags byte, data []byte, now time.Time, s Sink) {
	r := &a.rx
	begin, end := flags&flagBegin != 0, flags&flagEnd != 0
	if begin && end {
		// Unfragmented. It may have overtaken the middle of a message
		// being reassembled; that reassembly goes on.
		a.message(stream, ppid, data, now, s)
		return
	}
	if begin {
		if r.assembling && !r.skip {
			a.stats.DroppedPartial++
		}
		r.assembling, r.skip = true, false
		r.stream, r.ppid, r.next = stream, ppid, tsn+1
		r.buf = r.buf[:0]
		switch {
		case ppid != ppidDCEP && !a.wanted(stream):
			a.stats.DroppedStream++
			r.skip = true
		case len(data) > cap(r.buf):
			a.stats.TooLarge++
			r.skip = true
		default:
			r.buf = append(r.buf, data...)
		}
		return
	}
	if !r.assembling || tsn != r.next || stream != r.stream {
		// A fragment without its beginning: a gap, or reordering we do
		// not handle. Whatever was being reassembled is lost too.
		a.stats.DroppedPartial++
		r.assembling = false
		return
	}
	r.next++
	if end {
		r.assembling = false
	}
	if r.skip {
		return
	}
	if len(r.buf)+len(data) > cap(r.buf) {
		a.stats.TooLarge++
		r.skip = true
		return
	}
	r.buf = append(r.buf, data...)
	if end {
		a.message(r.stream, r.ppid, r.buf, now, s)
	}
}

// wanted reports whether user messages on stream are delivered.
func (a *Assoc) wanted(stream uint16) bool {
	return a.open && !a.reset && stream == a.stream && a.st == stateEstablished
}

// message handles one complete message.
func (a *Assoc) message(stream uint16, ppid uint32, msg []byte, now time.Time, s Sink) {
	if ppid == ppidDCEP {
		a.onDCEP(stream, msg, now, s)
		return
	}
	if !a.wanted(stream) {
		a.stats.DroppedStream++
		return
	}
	switch ppid {
	case ppidString, ppidBinary:
	case ppidStringEmpty, ppidBinaryEmpty:
		msg = msg[:0] // RFC 8831 section 6.6: one byte stands for nothing
	default:
		a.stats.DroppedPPID++
		return
	}
	if len(msg) > a.cfg.MaxMessage {
		a.stats.TooLarge++
		return
	}
	a.stats.Delivered++
	a.stats.DeliveredBytes += uint64(len(msg))
	s.Deliver(msg)
}

// onForwardTSN skips the TSNs the peer abandoned (RFC 3758 section 3.6).
// The stream/SSN pairs only matter for ordered delivery, which we do not do.
func (a *Assoc) onForwardTSN(v []byte, now time.Time) error {
	if len(v) < 4 {
		return ErrMalformed
	}
	if a.st != stateEstablished {
		a.stats.Ignored++
		return nil
	}
	a.stats.ForwardTSNsIn++
	if newCum := be32(v); tsnGT(newCum, a.rx.cum) {
		a.rx.forward(newCum)
	} else {
		// Out of date: our SACK may have been lost (RFC 3758 section 3.6).
		a.rx.sackNow = true
	}
	a.rx.owe(now)
	return nil
}

// putSACK appends a SACK to the packet being built. It is at most 80 bytes.
func (a *Assoc) putSACK() {
	n := a.rx.gapBlocks(&a.gaps)
	w := a.chunk(ctSack, 0, 12+4*n)
	put32(w, a.rx.cum)
	put32(w[4:], ourRwnd)
	put16(w[8:], uint16(n))
	put16(w[10:], 0) // duplicates are counted, not reported
	for i := range n {
		put16(w[12+4*i:], a.gaps[i][0])
		put16(w[14+4*i:], a.gaps[i][1])
	}
	a.rx.pending, a.rx.sackNow = false, false
	a.stats.SACKsOut++
}

func (a *Assoc) sendSACK(s Sink) {
	a.begin(a.peerTag)
	a.putSACK()
	a.finish(s)
}
