package sctp

import (
	"encoding/binary"
	"hash/crc32"
)

// Chunk types (RFC 9260 section 3.2; FORWARD-TSN RFC 3758; RE-CONFIG RFC 6525).
const (
	ctData             = 0
	ctInit             = 1
	ctInitAck          = 2
	ctSack             = 3
	ctHeartbeat        = 4
	ctHeartbeatAck     = 5
	ctAbort            = 6
	ctShutdown         = 7
	ctShutdownAck      = 8
	ctError            = 9
	ctCookieEcho       = 10
	ctCookieAck        = 11
	ctShutdownComplete = 14
	ctReconfig         = 130
	ctForwardTSN       = 192
)

// DATA chunk flags. flagImmediate is the I bit of RFC 7053.
const (
	flagEnd       = 0x01
	flagBegin     = 0x02
	flagUnordered = 0x04
	flagImmediate = 0x08
)

// flagT is the T bit of ABORT and SHUTDOWN-COMPLETE: the sender had no TCB
// and reflected our own tag back (RFC 9260 section 8.5.1).
const flagT = 0x01

// Parameter types.
const (
	paramHeartbeatInfo       = 1
	paramStateCookie         = 7
	paramOutgoingReset       = 13
	paramReconfigResponse    = 16
	paramSupportedExtensions = 0x8008
	paramForwardTSNSupported = 0xC000
)

// RE-CONFIG response results (RFC 6525 section 4.4).
const (
	resultPerformed  = 1
	resultInProgress = 6
)

// Payload protocol identifiers of WebRTC (RFC 8831 section 8).
const (
	ppidDCEP        = 50
	ppidString      = 51
	ppidBinary      = 53
	ppidStringEmpty = 56
	ppidBinaryEmpty = 57
)

// DCEP message types (RFC 8832 section 5).
const (
	dcepAck  = 0x02
	dcepOpen = 0x03
)

const (
	commonHeaderLen = 12
	chunkHeaderLen  = 4
	dataHeaderLen   = 16 // chunk header + TSN, stream, SSN, PPID
	initFixedLen    = 16 // INIT/INIT-ACK value before the parameters
	cookieLen       = 32
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func put16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }
func put32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }

// pad4 rounds a chunk or parameter length up to its padded size.
func pad4(n int) int { return (n + 3) &^ 3 }

// TSNs are 32-bit serial numbers (RFC 9260 section 1.6, RFC 1982): compare
// them by the sign of their difference so that they survive wrapping at 2^32.
func tsnLT(a, b uint32) bool { return int32(a-b) < 0 }
func tsnGT(a, b uint32) bool { return int32(a-b) > 0 }

// checksum is CRC32c over the packet with its checksum field taken as zero
// (RFC 9260 Appendix A). Go's crc32 computes the reflected CRC, whose least
// significant byte is the first checksum byte on the wire in the RFC's sample
// code, so it is stored little-endian, as pion does (pion drops packets whose
// checksum is wrong; the tests against pion prove the order).
//
// The four zero bytes live in the Assoc: a local array passed to crc32
// would escape to the heap on every call.
func checksum(tab *crc32.Table, zero *[4]byte, pkt []byte) uint32 {
	sum := crc32.Update(0, tab, pkt[:8])
	sum = crc32.Update(sum, tab, zero[:])
	return crc32.Update(sum, tab, pkt[commonHeaderLen:])
}

func getChecksum(pkt []byte) uint32    { return binary.LittleEndian.Uint32(pkt[8:]) }
func putChecksum(pkt []byte, v uint32) { binary.LittleEndian.PutUint32(pkt[8:], v) }

// checkChunks verifies that the chunks tile the packet: every chunk has a
// length of at least its header and fits in the packet, and an INIT is the
// only chunk of its packet (RFC 9260 section 6.10). After it succeeds the
// chunk walk in Handle needs no further bounds checks on chunk headers. The
// padding of the last chunk may be missing; we are lenient there.
func checkChunks(pkt []byte) bool {
	off := commonHeaderLen
	for off < len(pkt) {
		if len(pkt)-off < chunkHeaderLen {
			return false
		}
		l := int(be16(pkt[off+2:]))
		if l < chunkHeaderLen || l > len(pkt)-off {
			return false
		}
		if pkt[off] == ctInit && (off != commonHeaderLen || pad4(l) < len(pkt)-off) {
			return false
		}
		off += pad4(l)
	}
	return true
}

// The output side: one packet at a time is built in a.out, which is MTU
// bytes long and reused, so producing packets never allocates. A packet is
// begun, chunks are appended while they fit, and finish hands it to the Sink.

// begin starts a packet to the peer carrying verification tag tag.
func (a *Assoc) begin(tag uint32) {
	put16(a.out[0:], a.cfg.Port)
	put16(a.out[2:], a.peerPort)
	put32(a.out[4:], tag)
	putChecksum(a.out, 0)
	a.outN = commonHeaderLen
}

// room is the number of bytes still free in the packet being built.
func (a *Assoc) room() int { return len(a.out) - a.outN }

// chunk appends a chunk header for a value of n bytes, zeroes the padding,
// and returns the value for the caller to fill. The caller has checked room.
func (a *Assoc) chunk(typ, flags byte, n int) []byte {
	c := a.out[a.outN:]
	c[0], c[1] = typ, flags
	put16(c[2:], uint16(chunkHeaderLen+n))
	end := pad4(chunkHeaderLen + n)
	clear(c[chunkHeaderLen+n : end])
	a.outN += end
	return c[chunkHeaderLen : chunkHeaderLen+n]
}

// finish checksums the packet and hands it to the sink.
func (a *Assoc) finish(s Sink) {
	pkt := a.out[:a.outN]
	putChecksum(pkt, checksum(a.crc, &a.zero, pkt))
	a.stats.PacketsOut++
	a.stats.BytesOut += uint64(len(pkt))
	s.Output(pkt)
}
