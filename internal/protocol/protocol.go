// Package protocol is the mpgameserver wire format: the 20-byte packet
// header, sequence numbers on the 1..65535 ring, the duplicate windows, the
// payload layout for 0, 1 and N messages, fragments and their reassembly,
// and the three handshake messages.
//
// It is byte-compatible with the Python mpgameserver 0.2.4 at MTU 1500. The
// package does no I/O, reads no clock and holds no global state: functions
// that depend on time take it as a parameter. Parsers return errors for
// malformed input and never allocate in proportion to a length field.
package protocol

import "fmt"

// Sizes at MTU 1500, the only setting the reference interoperates with.
const (
	// MTU is the assumed path MTU.
	MTU = 1500
	// MaxDatagramSize is the largest datagram a sender intends to produce
	// (MTU minus 28 bytes of IP and UDP headers).
	MaxDatagramSize = MTU - 28
	// RecvBufferSize is the receive buffer of the reference; never send more.
	RecvBufferSize = 2048
	// HeaderSize is the size of the clear-text packet header.
	HeaderSize = 20
	// NonceSize is the part of the header used as the AES-GCM nonce.
	NonceSize = 12
	// TagSize is the AES-GCM authentication tag appended to encrypted packets.
	TagSize = 16
	// CRCSize is the CRC-32 appended to hello packets.
	CRCSize = 4
	// MaxPayloadSize is the largest plaintext payload (messages plus their
	// per-message overhead) of one packet.
	MaxPayloadSize = MaxDatagramSize - HeaderSize - TagSize - 2
	// MaxSingleMessage is the largest message that travels unfragmented.
	// Longer messages are split into fragments.
	MaxSingleMessage = MaxPayloadSize - 2
	// MaxMessagesPerPacket is the limit of the one-byte count field.
	MaxMessagesPerPacket = 255
	// FragmentHeaderSize is the size of the fragment sub-header.
	FragmentHeaderSize = 6
	// FragmentDataSize is the data carried by every fragment but the last.
	FragmentDataSize = 1024
	// MaxLastFragmentData is the most data a final fragment carries, so
	// that it fits a packet on its own (sub-header and message seq included).
	MaxLastFragmentData = MaxPayloadSize - FragmentHeaderSize - 2
	// MaxFragments is the largest fragment count accepted or produced.
	MaxFragments = 8192
	// MaxMessageSize is the largest application message (8 MiB).
	MaxMessageSize = FragmentDataSize * MaxFragments
	// ClientHelloBodySize is the exact size of a CLIENT_HELLO message body.
	ClientHelloBodySize = 1412
)

// PacketType is both the header's packet type and the per-message type.
type PacketType uint8

// Packet and message types.
const (
	TypeUnknown       PacketType = 0
	TypeClientHello   PacketType = 1
	TypeServerHello   PacketType = 2
	TypeChallengeResp PacketType = 3
	TypeKeepAlive     PacketType = 4
	TypeDisconnect    PacketType = 5
	TypeApp           PacketType = 6
	TypeAppFragment   PacketType = 7
)

// String returns the reference name of the type, e.g. "APP_FRAGMENT".
func (t PacketType) String() string {
	switch t {
	case TypeUnknown:
		return "UNKNOWN"
	case TypeClientHello:
		return "CLIENT_HELLO"
	case TypeServerHello:
		return "SERVER_HELLO"
	case TypeChallengeResp:
		return "CHALLENGE_RESP"
	case TypeKeepAlive:
		return "KEEP_ALIVE"
	case TypeDisconnect:
		return "DISCONNECT"
	case TypeApp:
		return "APP"
	case TypeAppFragment:
		return "APP_FRAGMENT"
	}
	return fmt.Sprintf("PacketType(%d)", uint8(t))
}

// Valid reports whether t is one of the eight defined types.
func (t PacketType) Valid() bool { return t <= TypeAppFragment }

// UsesCRC reports whether a packet with this header type travels in clear
// with a CRC-32 (the two hello types) rather than AES-GCM encrypted.
func (t PacketType) UsesCRC() bool { return t == TypeClientHello || t == TypeServerHello }

// Direction is the fourth magic byte: which side a datagram is going to.
type Direction byte

// Directions.
const (
	ToServer Direction = 'S'
	ToClient Direction = 'C'
)

// String returns "to server" or "to client".
func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to server"
	case ToClient:
		return "to client"
	}
	return fmt.Sprintf("Direction(%#x)", byte(d))
}

// Overhead returns the payload bytes used by the framing of n messages:
// 0 for none, 2 for one, 5 per message for two or more.
func Overhead(n int) int {
	switch {
	case n <= 0:
		return 0
	case n == 1:
		return 2
	default:
		return 5 * n
	}
}
