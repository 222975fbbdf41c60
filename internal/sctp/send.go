package sctp

import "time"

// This file is the sending half: user messages out as unordered DATA that is
// never retransmitted, the peer's SACKs, FORWARD-TSN to skip what the peer
// missed, the DCEP ACK's retransmission, and the timers in Tick.

const (
	// fwdInterval is how often we check whether the peer is missing DATA
	// we sent at the previous check, and skip it with FORWARD-TSN.
	fwdInterval = 200 * time.Millisecond

	ackRTOInitial = time.Second
	ackRTOMax     = 4 * time.Second
	ackMaxTries   = 8 // transmissions of the DCEP ACK before we ABORT

	// sentRing is how many recent TSNs we remember the payload sizes of,
	// to estimate the bytes the peer has not acknowledged.
	sentRing = 256
)

type sender struct {
	initTSN uint32
	next    uint32 // the next TSN to assign
	cumAck  uint32 // the peer's cumulative ack of our TSNs
	rwnd    uint32 // the peer's last advertised receive window

	// total counts payload bytes sent (wrapping); sent[t%sentRing] is
	// total just after TSN t was sent.
	total uint32
	sent  [sentRing]uint32

	// FORWARD-TSN: at each check, mark is the highest TSN sent at the
	// previous one. Anything up to mark still unacknowledged has had at
	// least fwdInterval to arrive, and the peer is told to skip it.
	fwdMark uint32
	fwdAt   time.Time

	// The DCEP ACK, our only reliable DATA.
	ackPending bool
	ackTSN     uint32
	ackTries   int
	ackRTO     time.Duration
	ackAt      time.Time
}

func (t *sender) init(tsn uint32) {
	t.initTSN, t.next = tsn, tsn
	t.cumAck, t.fwdMark = tsn-1, tsn-1
}

func (t *sender) establish(now time.Time) { t.fwdAt = now.Add(fwdInterval) }

// take assigns the next TSN to a DATA chunk carrying n payload bytes.
func (t *sender) take(n int) uint32 {
	tsn := t.next
	t.next++
	t.total += uint32(n)
	t.sent[tsn%sentRing] = t.total
	return tsn
}

// outstanding returns the payload bytes sent above the peer's cumulative
// ack. When that is more TSNs than we remember it returns the bytes of the
// newest sentRing-1 TSNs, a lower bound.
func (t *sender) outstanding() uint32 {
	if t.next-1-t.cumAck < sentRing {
		return t.total - t.sent[t.cumAck%sentRing]
	}
	return t.total - t.sent[t.next%sentRing]
}

// acked moves the peer's cumulative ack forward to c. An ack of TSNs we
// never sent is ignored.
func (t *sender) acked(c uint32) {
	if tsnGT(c, t.cumAck) && !tsnGT(c, t.next-1) {
		t.cumAck = c
	}
	if t.ackPending && !tsnLT(t.cumAck, t.ackTSN) {
		t.ackPending = false
	}
}

// onSack takes the peer's cumulative ack and window. Gap blocks do not
// matter to us: we never retransmit, and skipping is decided by age.
func (a *Assoc) onSack(v []byte) error {
	if len(v) < 12 || 12+4*(int(be16(v[8:]))+int(be16(v[10:]))) > len(v) {
		return ErrMalformed
	}
	if a.st != stateEstablished {
		a.stats.Ignored++
		return nil
	}
	a.stats.SACKsIn++
	c := be32(v)
	if tsnLT(c, a.tx.cumAck) {
		return nil // older than one we have seen (RFC 9260 section 6.2.1)
	}
	a.tx.acked(c)
	a.tx.rwnd = be32(v[4:])
	return nil
}

// Send sends one message on the open channel: unordered, never
// retransmitted, PPID 53 (57 with a single zero byte if msg is empty,
// RFC 8831 section 6.6). A message that does not fit in one packet is
// fragmented over several. A pending SACK is bundled in front. msg is not
// retained.
func (a *Assoc) Send(msg []byte, now time.Time, s Sink) error {
	switch {
	case a.Closed():
		return ErrClosed
	case !a.open || a.st != stateEstablished:
		return ErrNotOpen
	case len(msg) > a.cfg.MaxMessage:
		return ErrTooLarge
	}
	ppid := uint32(ppidBinary)
	if len(msg) == 0 {
		var zero [1]byte
		msg, ppid = zero[:], ppidBinaryEmpty
	}
	for off := 0; off < len(msg); {
		a.begin(a.peerTag)
		if a.rx.pending {
			a.putSACK()
		}
		n := min(len(msg)-off, a.room()-dataHeaderLen)
		flags := byte(flagUnordered)
		if off == 0 {
			flags |= flagBegin
		}
		if off+n == len(msg) {
			flags |= flagEnd
		}
		w := a.chunk(ctData, flags, dataHeaderLen-chunkHeaderLen+n)
		put32(w, a.tx.take(n))
		put16(w[4:], a.stream)
		put16(w[6:], 0) // unordered: the SSN is ignored
		put32(w[8:], ppid)
		copy(w[12:], msg[off:off+n])
		a.stats.DataOut++
		a.finish(s)
		off += n
	}
	a.stats.MessagesSent++
	if a.tx.outstanding() > a.tx.rwnd {
		a.stats.RwndExceeded++
	}
	return nil
}

// Flush sends the pending SACK when it acknowledges two DATA chunks or
// more, or has waited sackDelay (RFC 9260 section 6.2's delayed ack). Call
// it after handling a batch of received packets: one SACK then
// acknowledges the whole batch. A SACK for a single chunk waits to ride
// in front of the next message Send makes (a game answers most messages
// within a tick) or for Tick: a packet of our own for every message
// received would double what we send.
func (a *Assoc) Flush(now time.Time, s Sink) {
	if a.st == stateEstablished && a.rx.pending && (a.rx.owed >= 2 || now.Sub(a.rx.since) >= sackDelay) {
		a.sendSACK(s)
	}
}

// Tick runs the timers: a SACK pending for sackDelay is sent, the DCEP ACK
// is retransmitted (and the association aborted when it never gets
// through), and DATA the peer is still missing after fwdInterval is skipped
// with FORWARD-TSN. Call it every few tens of milliseconds.
func (a *Assoc) Tick(now time.Time, s Sink) {
	if a.st != stateEstablished {
		return
	}
	if a.rx.pending && now.Sub(a.rx.since) >= sackDelay {
		a.sendSACK(s)
	}
	t := &a.tx
	if t.ackPending && !now.Before(t.ackAt) {
		if t.ackTries >= ackMaxTries {
			a.Close(s)
			return
		}
		t.ackTries++
		t.ackRTO = min(2*t.ackRTO, ackRTOMax)
		t.ackAt = now.Add(t.ackRTO)
		a.stats.AckRetransmits++
		a.writeDCEPAck(s)
	}
	if now.Before(t.fwdAt) {
		return
	}
	t.fwdAt = now.Add(fwdInterval)
	target := t.fwdMark
	t.fwdMark = t.next - 1
	if t.ackPending && !tsnLT(target, t.ackTSN) {
		target = t.ackTSN - 1 // the ACK must not be skipped
	}
	if !a.peerFwd || !tsnGT(target, t.cumAck) {
		return
	}
	a.begin(a.peerTag)
	if a.rx.pending {
		a.putSACK()
	}
	put32(a.chunk(ctForwardTSN, 0, 4), target)
	a.stats.ForwardTSNsOut++
	a.finish(s)
}
