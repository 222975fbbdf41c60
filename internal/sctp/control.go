package sctp

import (
	"crypto/subtle"
	"time"
)

// This file holds the association's control chunks: setup (INIT,
// COOKIE-ECHO), HEARTBEAT, SHUTDOWN and stream reset (RE-CONFIG).

// maxHeartbeatInfo bounds the heartbeat information we echo, so that a
// HEARTBEAT-ACK always fits in one packet of minMTU.
const maxHeartbeatInfo = 512

// onInit answers INIT (the whole chunk, header included) with INIT-ACK.
//
// We keep no state per INIT beyond the Assoc itself: the caller already has
// one Assoc per DTLS peer, so the cookie is just a random value we compare,
// and a repeated INIT (ours lost, or the peer restarted its handshake) is
// answered with the same tag, initial TSN and cookie.
func (a *Assoc) onInit(c []byte, srcPort uint16, s Sink) error {
	if len(c) < chunkHeaderLen+initFixedLen || int(be16(c[2:])) < chunkHeaderLen+initFixedLen {
		a.stats.Malformed++
		return ErrMalformed
	}
	v := c[chunkHeaderLen:be16(c[2:])]
	tag, rwnd, os, mis := be32(v), be32(v[4:]), be16(v[8:]), be16(v[10:])
	if tag == 0 || rwnd < 1500 || os == 0 || mis == 0 { // RFC 9260 section 3.3.2
		a.stats.Malformed++
		return ErrMalformed
	}
	if a.st != stateListen && a.st != stateInitAcked {
		// A peer restart; WebRTC peers do not restart inside one DTLS
		// session, so treat it as stale.
		a.stats.Ignored++
		return nil
	}
	fwd := false
	for p := v[initFixedLen:]; len(p) >= 4; {
		pt, pl := be16(p), int(be16(p[2:]))
		if pl < 4 || pl > len(p) {
			a.stats.Malformed++
			return ErrMalformed
		}
		switch pt {
		case paramForwardTSNSupported:
			fwd = true
		case paramSupportedExtensions:
			for _, ct := range p[4:pl] {
				fwd = fwd || ct == ctForwardTSN
			}
		}
		p = p[min(pad4(pl), len(p)):]
	}

	a.peerTag, a.peerPort, a.peerMIS, a.peerFwd = tag, srcPort, mis, fwd
	a.tx.rwnd = rwnd
	a.rx.init(be32(v[12:]) - 1)
	a.st = stateInitAcked

	// INIT-ACK: fixed part, State Cookie, Forward-TSN-Supported, and
	// Supported Extensions listing FORWARD-TSN and RE-CONFIG. pion enables
	// PR-SCTP only from the Supported Extensions list; browsers accept
	// either. We offer no I-DATA, so the peer sends plain DATA.
	const (
		cookieParam = 4 + cookieLen
		fwdParam    = 4
		extParam    = 4 + 2
	)
	a.begin(a.peerTag)
	w := a.chunk(ctInitAck, 0, initFixedLen+cookieParam+fwdParam+extParam)
	put32(w, a.myTag)
	put32(w[4:], ourRwnd)
	put16(w[8:], mis) // our outbound streams: as many as the peer accepts
	put16(w[10:], ourStreams)
	put32(w[12:], a.tx.initTSN)
	p := w[initFixedLen:]
	put16(p, paramStateCookie)
	put16(p[2:], cookieParam)
	copy(p[4:], a.cookie[:])
	p = p[cookieParam:]
	put16(p, paramForwardTSNSupported)
	put16(p[2:], fwdParam)
	p = p[fwdParam:]
	put16(p, paramSupportedExtensions)
	put16(p[2:], extParam)
	p[4], p[5] = ctForwardTSN, ctReconfig
	a.finish(s)
	return nil
}

// onCookieEcho establishes the association; a repeated COOKIE-ECHO (our
// COOKIE-ACK lost) is acknowledged again.
func (a *Assoc) onCookieEcho(cookie []byte, now time.Time, s Sink) error {
	if subtle.ConstantTimeCompare(cookie, a.cookie[:]) != 1 {
		return ErrBadCookie
	}
	switch a.st {
	case stateInitAcked:
		a.st = stateEstablished
		a.tx.establish(now)
	case stateEstablished:
	default:
		a.stats.Ignored++
		return nil
	}
	if a.once&onceCookieAck == 0 {
		a.once |= onceCookieAck
		a.begin(a.peerTag)
		a.chunk(ctCookieAck, 0, 0)
		a.finish(s)
	}
	return nil
}

// onHeartbeat echoes the Heartbeat Information parameter in a HEARTBEAT-ACK
// (RFC 9260 section 8.3).
//
// pion's SCTP (v1.12) probes an idle path with a HEARTBEAT that has lost
// its parameter on the way to the wire, and ignores any answer to it; such
// a chunk is ignored here too rather than counted malformed.
func (a *Assoc) onHeartbeat(v []byte, s Sink) error {
	if len(v) == 0 {
		a.stats.Ignored++
		return nil
	}
	if len(v) < 4 || be16(v) != paramHeartbeatInfo || int(be16(v[2:])) < 4 || int(be16(v[2:])) > len(v) {
		return ErrMalformed
	}
	info := v[:be16(v[2:])]
	if (a.st != stateInitAcked && a.st != stateEstablished) || len(info) > maxHeartbeatInfo ||
		a.once&onceHeartbeat != 0 {
		a.stats.Ignored++
		return nil
	}
	a.once |= onceHeartbeat
	a.begin(a.peerTag)
	copy(a.chunk(ctHeartbeatAck, 0, len(info)), info)
	a.finish(s)
	return nil
}

// onShutdown acknowledges the peer's graceful close at once: we have
// nothing to retransmit, so there is nothing to wait for. The association
// counts as closed from here; SHUTDOWN-COMPLETE or a repeated SHUTDOWN may
// still follow.
func (a *Assoc) onShutdown(v []byte, s Sink) error {
	if len(v) < 4 {
		return ErrMalformed
	}
	if a.st != stateEstablished && a.st != stateShutdown {
		a.stats.Ignored++
		return nil
	}
	a.tx.acked(be32(v)) // SHUTDOWN carries a cumulative TSN ack
	a.st = stateShutdown
	if a.once&onceShutdownAck == 0 {
		a.once |= onceShutdownAck
		a.begin(a.peerTag)
		a.chunk(ctShutdownAck, 0, 0)
		a.finish(s)
	}
	return nil
}

// onReconfig answers an Outgoing SSN Reset Request (RFC 6525 section
// 5.2.2), which is how a WebRTC peer closes a channel (RFC 8831 section
// 6.7). A reset that names our channel's stream (or all streams) closes the
// channel once every TSN the peer sent before it has arrived or been
// skipped; until then the answer is "in progress" and the peer asks again.
// Other requests are left unanswered.
func (a *Assoc) onReconfig(v []byte, s Sink) error {
	if a.st != stateEstablished {
		a.stats.Ignored++
		return nil
	}
	for p := v; len(p) >= 4; {
		pt, pl := be16(p), int(be16(p[2:]))
		if pl < 4 || pl > len(p) {
			return ErrMalformed
		}
		if pt == paramOutgoingReset {
			if pl < 16 {
				return ErrMalformed
			}
			a.resetRequest(p[4:pl], s)
			return nil
		}
		p = p[min(pad4(pl), len(p)):]
	}
	a.stats.Ignored++
	return nil
}

func (a *Assoc) resetRequest(r []byte, s Sink) {
	seq, lastTSN := be32(r), be32(r[8:])
	streams := r[12:]
	ours := a.open && len(streams) < 2 // no stream listed: all streams
	for i := 0; i+2 <= len(streams) && a.open; i += 2 {
		ours = ours || be16(streams[i:]) == a.stream
	}
	result := uint32(resultPerformed)
	if ours {
		if tsnGT(lastTSN, a.rx.cum) {
			result = resultInProgress
		} else {
			a.reset = true
		}
	}
	if a.once&onceReconfig != 0 {
		return
	}
	a.once |= onceReconfig
	a.begin(a.peerTag)
	w := a.chunk(ctReconfig, 0, 12)
	put16(w, paramReconfigResponse)
	put16(w[2:], 12)
	put32(w[4:], seq)
	put32(w[8:], result)
	a.finish(s)
}
