package sctp

import "time"

// This file is the Data Channel Establishment Protocol (RFC 8832), answering
// side only: the peer opens the channel, we acknowledge.

const dcepOpenFixedLen = 12

// onDCEP handles a complete DCEP message received on stream.
func (a *Assoc) onDCEP(stream uint16, msg []byte, now time.Time, s Sink) {
	if len(msg) == 0 || msg[0] != dcepOpen {
		// DATA_CHANNEL_ACK answers an OPEN we never send; other types
		// are unknown.
		a.stats.Ignored++
		return
	}
	if len(msg) < dcepOpenFixedLen {
		a.stats.Malformed++
		return
	}
	labelLen, protoLen := int(be16(msg[8:])), int(be16(msg[10:]))
	if dcepOpenFixedLen+labelLen+protoLen > len(msg) {
		a.stats.Malformed++
		return
	}
	label := msg[dcepOpenFixedLen : dcepOpenFixedLen+labelLen]

	if a.open {
		if stream == a.stream && !a.reset && a.tx.ackPending && a.once&onceDCEPAck == 0 {
			// The peer sent OPEN again under a new TSN: our ACK is
			// late or lost. Resend it now rather than at its timer.
			a.once |= onceDCEPAck
			a.writeDCEPAck(s)
			return
		}
		a.stats.OpensRefused++
		return
	}
	if a.cfg.Label != "" && string(label) != a.cfg.Label {
		a.stats.OpensRefused++
		return
	}
	a.open, a.stream = true, stream
	a.once |= onceDCEPAck
	a.tx.ackTSN = a.tx.take(1)
	a.tx.ackPending = true
	a.tx.ackTries = 1
	a.tx.ackRTO = ackRTOInitial
	a.tx.ackAt = now.Add(ackRTOInitial)
	a.writeDCEPAck(s)
}

// writeDCEPAck sends (or resends, under the same TSN) our DATA_CHANNEL_ACK:
// ordered, SSN 0 as the first ordered message of the stream, PPID 50, and
// reliable: it is retransmitted from Tick until the peer's cumulative ack
// covers it (RFC 8832 section 6 requires DCEP to be reliable and ordered).
// A pending SACK rides along in front.
func (a *Assoc) writeDCEPAck(s Sink) {
	a.begin(a.peerTag)
	if a.rx.pending {
		a.putSACK()
	}
	w := a.chunk(ctData, flagBegin|flagEnd, dataHeaderLen-chunkHeaderLen+1)
	put32(w, a.tx.ackTSN)
	put16(w[4:], a.stream)
	put16(w[6:], 0)
	put32(w[8:], ppidDCEP)
	w[12] = dcepAck
	a.stats.DataOut++
	a.finish(s)
}
