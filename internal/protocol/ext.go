package protocol

import "encoding/binary"

// Extension messages travel between two ends of this implementation as
// KEEP_ALIVE messages with a body. The reference accepts a KEEP_ALIVE
// message anywhere in a packet, passes it through its duplicate filter and
// ignores it (its handler does nothing), and it never sends one with a
// body; nothing here is sent to a peer that did not say it speaks them. The
// body starts with its kind:
//
//	caps:    kind 1 | version u8 | flags u16
//	ordered: kind 2 | oseq u32 | flags u8 (bit 0: the last chunk of a message) | data
//	lazy:    kind 3 (the packet's other messages are all unreliable: its ack may wait)
//	path id: kind 4 | id [8] | reset token [16] (server to client: append id to your datagrams)
//	path challenge: kind 5 | data [8] (server to client, sent to a new address)
//	path response:  kind 6 | data [8] (client to server: the challenge's data)
//
// A server tells a client of ours that asked (HelloExt.Messages) what it
// speaks with a caps message leading its first encrypted packet.

// Extension message kinds.
const (
	ExtCaps    = 1
	ExtOrdered = 2
	ExtLazy    = 3
	// Session migration (CapsMigrate).
	ExtPathID        = 4
	ExtPathChallenge = 5
	ExtPathResponse  = 6
)

// Sizes of the extension messages' headers.
const (
	CapsSize          = 4
	OrderedHeaderSize = 6
	// MaxOrderedChunk is the most data one ordered chunk carries so that it
	// travels alone in a packet.
	MaxOrderedChunk = MaxSingleMessage - OrderedHeaderSize
)

// Caps flags.
const (
	// CapsWideWindow: the end acks at least every 16 packets it receives,
	// so its peer may keep more than the ack field's 33 packets in flight.
	CapsWideWindow = 1 << 0
	// CapsOrdered: the end takes ordered messages.
	CapsOrdered = 1 << 1
	// CapsLazyAcks: the end takes lazy markers, and acknowledges a packet
	// that carries one with the next packet it sends (a reply, its
	// keep-alive, or after ackPressure packets) rather than within its ack
	// delay: a client's stream of unreliable inputs then costs the server
	// no ack of its own per packet.
	CapsLazyAcks = 1 << 2
	// CapsMigrate: the server moves a session to a new client address:
	// it gives the client a path ID, which the client appends to its
	// encrypted datagrams (a trailer after the GCM tag, which the
	// reference ignores), so that a datagram from an address the server
	// does not know finds its session; the server then challenges the new
	// address and moves the session once it answers.
	CapsMigrate = 1 << 3
)

// PathIDSize is the size of a path ID, and of a path challenge's data.
const PathIDSize = 8

// PathID names a session for a datagram from an address its server does
// not know (CapsMigrate). It is drawn at random by the server.
type PathID [PathIDSize]byte

// ResetSize is the size of a stateless reset token, and of a stateless
// reset datagram.
const (
	ResetTokenSize = 16
	ResetSize      = 36
)

// ResetToken is what a stateless reset ends with: a secret of the session
// that the server can compute again from the path ID after it restarted
// (from its root key), and that the client is told, encrypted, with its
// path ID.
type ResetToken [ResetTokenSize]byte

// AppendPathID appends a path ID message's body to b.
func AppendPathID(b []byte, id PathID, reset ResetToken) []byte {
	b = append(b, ExtPathID)
	b = append(b, id[:]...)
	return append(b, reset[:]...)
}

// ParsePathID reads a path ID message's body; ok is false when body is
// not one.
func ParsePathID(body []byte) (id PathID, reset ResetToken, ok bool) {
	if len(body) != 1+PathIDSize+ResetTokenSize || body[0] != ExtPathID {
		return id, reset, false
	}
	copy(id[:], body[1:])
	copy(reset[:], body[1+PathIDSize:])
	return id, reset, true
}

// AppendPath appends a path challenge's or response's body (kind
// ExtPathChallenge or ExtPathResponse) to b.
func AppendPath(b []byte, kind byte, data PathID) []byte {
	b = append(b, kind)
	return append(b, data[:]...)
}

// ParsePath reads a path challenge's or response's body: its kind and
// data; ok is false when body is not one.
func ParsePath(body []byte) (kind byte, data PathID, ok bool) {
	if len(body) != 1+PathIDSize || (body[0] != ExtPathChallenge && body[0] != ExtPathResponse) {
		return 0, data, false
	}
	copy(data[:], body[1:])
	return body[0], data, true
}

// AppendReset appends a stateless reset datagram to b: the magic and
// direction of a datagram to a client, random bytes, and the token
// (ResetSize bytes in all, less than the smallest datagram with a path
// ID, so that a reset never amplifies). It fails no check a client makes
// before its session rejects it, and is then recognised by its end.
func AppendReset(b []byte, random [ResetSize - 4 - ResetTokenSize]byte, token ResetToken) []byte {
	b = append(b, 'F', 'S', 'O', 'C')
	b = append(b, random[:]...)
	return append(b, token[:]...)
}

// MinTrailed is the smallest datagram that carries a path ID: a
// KEEP_ALIVE, its tag and the ID. A stateless reset is smaller.
const MinTrailed = HeaderSize + TagSize + PathIDSize

// Trailer returns the path ID a client appended to encrypted datagram d,
// whose header is h: the PathIDSize bytes after the GCM tag, when exactly
// that many follow it.
func Trailer(d []byte, h *Header) (id PathID, ok bool) {
	end := HeaderSize + int(h.Length) + TagSize
	if h.Type.UsesCRC() || len(d) != end+PathIDSize {
		return id, false
	}
	copy(id[:], d[end:])
	return id, true
}

// AppendLazy appends a lazy marker's message body to b.
func AppendLazy(b []byte) []byte { return append(b, ExtLazy) }

// IsLazy reports whether body is a lazy marker.
func IsLazy(body []byte) bool { return len(body) == 1 && body[0] == ExtLazy }

const capsVersion = 1

// Caps is what an end of this implementation speaks.
type Caps struct {
	Flags uint16
}

// AppendCaps appends a caps message body to b.
func AppendCaps(b []byte, c Caps) []byte {
	b = append(b, ExtCaps, capsVersion)
	return binary.BigEndian.AppendUint16(b, c.Flags)
}

// ParseCaps reads a caps message body; ok is false when body is not one.
// A later version's caps are read as their flags.
func ParseCaps(body []byte) (c Caps, ok bool) {
	if len(body) < CapsSize || body[0] != ExtCaps || body[1] < capsVersion {
		return Caps{}, false
	}
	return Caps{Flags: binary.BigEndian.Uint16(body[2:])}, true
}

// Ordered is one chunk of an ordered message.
type Ordered struct {
	Seq   uint32 // the ordered seq: 0 for a connection's first chunk, +1 a chunk, wrapping
	Final bool   // the last chunk of its message
	Data  []byte
}

// AppendOrdered appends an ordered chunk's message body to b.
func AppendOrdered(b []byte, o Ordered) []byte {
	b = append(b, ExtOrdered)
	b = binary.BigEndian.AppendUint32(b, o.Seq)
	flags := byte(0)
	if o.Final {
		flags = 1
	}
	b = append(b, flags)
	return append(b, o.Data...)
}

// ParseOrdered reads an ordered chunk's body; ok is false when body is not
// one. Data aliases body.
func ParseOrdered(body []byte) (o Ordered, ok bool) {
	if len(body) < OrderedHeaderSize || body[0] != ExtOrdered || body[5]&^1 != 0 {
		return Ordered{}, false
	}
	return Ordered{Seq: binary.BigEndian.Uint32(body[1:]), Final: body[5]&1 != 0, Data: body[OrderedHeaderSize:]}, true
}
