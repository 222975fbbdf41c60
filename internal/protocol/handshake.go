package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mpgs/mpgameserver/internal/serial"
)

// Object type ids of the handshake messages in the reference's Serializable
// numbering.
const (
	ClientHelloID       serial.TypeID = 130
	ServerHelloID       serial.TypeID = 131
	ChallengeResponseID serial.TypeID = 132
)

// ProtocolVersion is the client version carried in CLIENT_HELLO; the
// reference server answers only version 1.
const ProtocolVersion = 1

// ErrHandshake is wrapped by every handshake decoding error.
var ErrHandshake = errors.New("protocol: malformed handshake message")

func handshakeErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrHandshake, what, err)
}

// ClientHello is the first handshake message: the client's ephemeral P-256
// public key (DER SubjectPublicKeyInfo) and protocol version, padded with
// random bytes to ClientHelloBodySize so that the server's reply is smaller
// than the request.
type ClientHello struct {
	PublicKey []byte
	Version   int64
	// Padding is what follows the key and version up to the body's size
	// (set by ParseClientHello; it aliases the body). It may carry a
	// HelloExt.
	Padding []byte
}

// ClientHelloPaddingLen returns the padding length for a hello carrying a
// public key of keyLen bytes and version.
func ClientHelloPaddingLen(keyLen int, version int64) int {
	used := serial.BytesSize(keyLen) + serial.IntSize(version)
	return ClientHelloBodySize - 2 - used
}

// AppendClientHello appends the hello body to b. padding must hold exactly
// ClientHelloPaddingLen bytes (normally random).
func AppendClientHello(b []byte, m ClientHello, padding []byte) ([]byte, error) {
	if want := ClientHelloPaddingLen(len(m.PublicKey), m.Version); len(padding) != want {
		return b, fmt.Errorf("protocol: client hello padding is %d bytes, want %d", len(padding), want)
	}
	b = serial.AppendTypeID(b, ClientHelloID)
	b = serial.AppendBytes(b, m.PublicKey)
	b = serial.AppendInt(b, m.Version)
	return append(b, padding...), nil
}

// ParseClientHello decodes a hello body. Bodies shorter than
// ClientHelloBodySize are rejected, so the handshake cannot amplify traffic;
// bytes after the padding are ignored. PublicKey aliases body.
func ParseClientHello(body []byte) (ClientHello, error) {
	var m ClientHello
	if len(body) < ClientHelloBodySize {
		return m, handshakeErr("client hello", fmt.Errorf("%d bytes, want %d", len(body), ClientHelloBodySize))
	}
	r := serial.NewReader(body)
	r.Expect(ClientHelloID)
	m.PublicKey = r.Bytes()
	m.Version = r.Int()
	if err := r.Err(); err != nil {
		return ClientHello{}, handshakeErr("client hello", err)
	}
	// The padding is whatever follows: the reference sizes it from the
	// bytes the key and version took, so its rule is 1412 bytes in all
	// (checked above), with the key and version inside them.
	if r.Offset() > ClientHelloBodySize {
		return ClientHello{}, handshakeErr("client hello", fmt.Errorf("key and version take %d bytes, more than the %d-byte body", r.Offset(), ClientHelloBodySize))
	}
	m.Padding = body[r.Offset():ClientHelloBodySize:ClientHelloBodySize]
	return m, nil
}

// ErrClientHelloLayout is returned by SplitClientHello.
var ErrClientHelloLayout = errors.New("protocol: malformed client hello")

// SplitClientHello is ParseClientHello for a server reading hellos from
// anyone: it takes the same bodies, but refuses a malformed one with
// ErrClientHelloLayout as it is, so that refusing costs no allocation.
func SplitClientHello(body []byte) (ClientHello, error) {
	var m ClientHello
	if len(body) < ClientHelloBodySize || serial.TypeID(binary.BigEndian.Uint16(body)) != ClientHelloID ||
		len(body) < 4 || serial.TypeID(binary.BigEndian.Uint16(body[2:])) != serial.Bytes {
		return m, ErrClientHelloLayout
	}
	n, off, ok := rawInt(body, 4)
	if !ok || n < 0 || n > int64(ClientHelloBodySize-off) {
		return m, ErrClientHelloLayout
	}
	m.PublicKey = body[off : off+int(n) : off+int(n)]
	if m.Version, off, ok = rawInt(body, off+int(n)); !ok || off > ClientHelloBodySize {
		return ClientHello{}, ErrClientHelloLayout
	}
	m.Padding = body[off:ClientHelloBodySize:ClientHelloBodySize]
	return m, nil
}

// rawInt reads a Serializable integer (type id and value, any width) at
// off and returns it and the offset after it.
func rawInt(b []byte, off int) (int64, int, bool) {
	if off+2 > len(b) {
		return 0, off, false
	}
	t := serial.TypeID(binary.BigEndian.Uint16(b[off:]))
	off += 2
	var size int
	switch t {
	case serial.Int8, serial.Uint8:
		size = 1
	case serial.Int16, serial.Uint16:
		size = 2
	case serial.Int32, serial.Uint32:
		size = 4
	case serial.Int64:
		size = 8
	}
	if size == 0 || off+size > len(b) {
		return 0, off, false
	}
	v := b[off : off+size]
	off += size
	switch t {
	case serial.Int8:
		return int64(int8(v[0])), off, true
	case serial.Uint8:
		return int64(v[0]), off, true
	case serial.Int16:
		return int64(int16(binary.BigEndian.Uint16(v))), off, true
	case serial.Uint16:
		return int64(binary.BigEndian.Uint16(v)), off, true
	case serial.Int32:
		return int64(int32(binary.BigEndian.Uint32(v))), off, true
	case serial.Uint32:
		return int64(binary.BigEndian.Uint32(v)), off, true
	}
	return int64(binary.BigEndian.Uint64(v)), off, true
}

// ServerHello is the second handshake message: the server's root public key
// (ignored by a client that pinned one), the signed payload and the root
// key's ECDSA-SHA256 DER signature over exactly those bytes.
type ServerHello struct {
	RootKey   []byte
	Signed    []byte
	Signature []byte
}

// AppendServerHello appends the hello body to b.
func AppendServerHello(b []byte, m ServerHello) []byte {
	b = serial.AppendTypeID(b, ServerHelloID)
	b = serial.AppendBytes(b, m.RootKey)
	b = serial.AppendBytes(b, m.Signed)
	return serial.AppendBytes(b, m.Signature)
}

// ParseServerHello decodes a hello body; its slices alias body.
func ParseServerHello(body []byte) (ServerHello, error) {
	var m ServerHello
	r := serial.NewReader(body)
	r.Expect(ServerHelloID)
	m.RootKey = r.Bytes()
	m.Signed = r.Bytes()
	m.Signature = r.Bytes()
	if err := r.Err(); err != nil {
		return ServerHello{}, handshakeErr("server hello", err)
	}
	if n := len(r.Remaining()); n != 0 {
		return ServerHello{}, handshakeErr("server hello", fmt.Errorf("%d trailing bytes", n))
	}
	return m, nil
}

// SignedPayload is the part of SERVER_HELLO covered by the signature: the
// server's ephemeral public key (DER), the HKDF salt and the session token.
type SignedPayload struct {
	PublicKey []byte
	Salt      []byte
	Token     int64
}

// AppendSignedPayload appends the encoded payload to b.
func AppendSignedPayload(b []byte, p SignedPayload) []byte {
	b = serial.AppendBytes(b, p.PublicKey)
	b = serial.AppendBytes(b, p.Salt)
	return serial.AppendInt(b, p.Token)
}

// ParseSignedPayload decodes the signed payload; verify the signature
// first. Its slices alias b.
func ParseSignedPayload(b []byte) (SignedPayload, error) {
	var p SignedPayload
	r := serial.NewReader(b)
	p.PublicKey = r.Bytes()
	p.Salt = r.Bytes()
	p.Token = r.Int()
	if err := r.Err(); err != nil {
		return SignedPayload{}, handshakeErr("signed payload", err)
	}
	if n := len(r.Remaining()); n != 0 {
		return SignedPayload{}, handshakeErr("signed payload", fmt.Errorf("%d trailing bytes", n))
	}
	return p, nil
}

// AppendChallengeResponse appends the third handshake message, which echoes
// the token under the new session key: type id, field count 1, the token.
func AppendChallengeResponse(b []byte, token int64) []byte {
	b = serial.AppendTypeID(b, ChallengeResponseID)
	b = serial.AppendInt(b, 1)
	return serial.AppendInt(b, token)
}

// ParseChallengeResponse decodes the challenge response and returns the
// token, which may be encoded in any integer width.
func ParseChallengeResponse(body []byte) (int64, error) {
	r := serial.NewReader(body)
	r.Expect(ChallengeResponseID)
	n := r.Int()
	tok := r.Int()
	if err := r.Err(); err != nil {
		return 0, handshakeErr("challenge response", err)
	}
	if n != 1 {
		return 0, handshakeErr("challenge response", fmt.Errorf("field count %d, want 1", n))
	}
	if k := len(r.Remaining()); k != 0 {
		return 0, handshakeErr("challenge response", fmt.Errorf("%d trailing bytes", k))
	}
	return tok, nil
}
