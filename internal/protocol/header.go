package protocol

import (
	"encoding/binary"
	"errors"
)

// Header errors. ParseHeader returns them as they are, without detail, so
// that refusing a malformed datagram allocates nothing.
var (
	ErrShortHeader  = errors.New("protocol: datagram shorter than the 20-byte header")
	ErrBadMagic     = errors.New("protocol: bad magic (want FSOS or FSOC)")
	ErrDirection    = errors.New("protocol: datagram going the wrong direction")
	ErrPacketType   = errors.New("protocol: unknown packet type")
	ErrShortPayload = errors.New("protocol: datagram shorter than its header's length")
)

// Header is the 20-byte clear-text packet header. All fields are big-endian
// on the wire:
//
//	0  3  magic "FSO"
//	3  1  direction 'S' (to server) or 'C' (to client)
//	4  4  ctime   sender's clock, whole Unix seconds
//	8  2  seq     this packet's sequence number
//	10 2  ack     newest packet seq received from the peer
//	12 1  type    packet type (type of the first message)
//	13 2  length  plaintext payload length
//	15 1  count   number of messages in the payload
//	16 4  ackBits receipt of the 32 packets before ack; bit 31 = ack-1
//
// Bytes 0..11 are the AES-GCM nonce and all 20 bytes the associated data.
type Header struct {
	Direction Direction
	CTime     uint32
	Seq       Seq
	Ack       Seq
	Type      PacketType
	Length    uint16
	Count     uint8
	AckBits   uint32
}

// Put writes h into b[:HeaderSize]. b must be at least HeaderSize long.
func (h *Header) Put(b []byte) {
	_ = b[HeaderSize-1]
	b[0], b[1], b[2], b[3] = 'F', 'S', 'O', byte(h.Direction)
	binary.BigEndian.PutUint32(b[4:], h.CTime)
	binary.BigEndian.PutUint16(b[8:], uint16(h.Seq))
	binary.BigEndian.PutUint16(b[10:], uint16(h.Ack))
	b[12] = byte(h.Type)
	binary.BigEndian.PutUint16(b[13:], h.Length)
	b[15] = h.Count
	binary.BigEndian.PutUint32(b[16:], h.AckBits)
}

// AppendTo appends the 20 encoded header bytes to b.
func (h *Header) AppendTo(b []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, HeaderSize)...)
	h.Put(b[n:])
	return b
}

// ParseHeader decodes the header at the start of datagram. The magic must be
// FSOS or FSOC and the type one of the eight defined types. It does not
// check the direction (see ParseHeaderFrom) or the length field.
func ParseHeader(datagram []byte) (Header, error) {
	var h Header
	if len(datagram) < HeaderSize {
		return h, ErrShortHeader
	}
	b := datagram[:HeaderSize]
	if b[0] != 'F' || b[1] != 'S' || b[2] != 'O' || (b[3] != byte(ToServer) && b[3] != byte(ToClient)) {
		return h, ErrBadMagic
	}
	h.Direction = Direction(b[3])
	h.CTime = binary.BigEndian.Uint32(b[4:])
	h.Seq = Seq(binary.BigEndian.Uint16(b[8:]))
	h.Ack = Seq(binary.BigEndian.Uint16(b[10:]))
	h.Type = PacketType(b[12])
	h.Length = binary.BigEndian.Uint16(b[13:])
	h.Count = b[15]
	h.AckBits = binary.BigEndian.Uint32(b[16:])
	if !h.Type.Valid() {
		return h, ErrPacketType
	}
	return h, nil
}

// ParseHeaderFrom is ParseHeader plus the direction check: a server accepts
// only datagrams going ToServer, a client only ToClient.
func ParseHeaderFrom(datagram []byte, want Direction) (Header, error) {
	h, err := ParseHeader(datagram)
	if err != nil {
		return h, err
	}
	if h.Direction != want {
		return h, ErrDirection
	}
	return h, nil
}

// Nonce returns the AES-GCM nonce of an encoded header: its first 12 bytes.
func Nonce(header []byte) []byte { return header[:NonceSize:NonceSize] }
