package attack

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Hello describes a CLIENT_HELLO datagram.
type Hello struct {
	// CTime is the header's clock (whole Unix seconds).
	CTime uint32
	// Seq and MsgSeq are the packet and message seqs (1 and 1 for the
	// first packet of a connection).
	Seq, MsgSeq protocol.Seq
	// Key is the client's ephemeral public key (DER SubjectPublicKeyInfo).
	Key []byte
	// Padding fills the body to its fixed size: exactly
	// protocol.ClientHelloPaddingLen(len(Key), protocol.ProtocolVersion)
	// bytes (random in the reference; it may carry an extension).
	Padding []byte
}

// helloPayloadSize is the payload of every CLIENT_HELLO: a message seq and
// the fixed-size body.
const helloPayloadSize = 2 + protocol.ClientHelloBodySize

// HelloSize is the size of a CLIENT_HELLO datagram (1438 bytes).
const HelloSize = protocol.HeaderSize + helloPayloadSize + protocol.CRCSize

// AppendHello appends the CLIENT_HELLO datagram h describes to b: the
// header, one message with the body (type id, key, version, padding) and
// the CRC-32, the reference's layout.
func AppendHello(b []byte, h Hello) ([]byte, error) {
	start := len(b)
	hdr := protocol.Header{
		Direction: protocol.ToServer, CTime: h.CTime, Seq: h.Seq,
		Type: protocol.TypeClientHello, Length: helloPayloadSize, Count: 1,
	}
	b = hdr.AppendTo(b)
	body, err := protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: h.Key, Version: protocol.ProtocolVersion}, h.Padding)
	if err != nil {
		return b[:start], fmt.Errorf("attack: building a client hello: %w", err)
	}
	b, err = protocol.AppendPayload(b, []protocol.Message{{Seq: h.MsgSeq, Type: protocol.TypeClientHello, Body: body}})
	if err != nil {
		return b[:start], fmt.Errorf("attack: building a client hello: %w", err)
	}
	if n := len(b) - start - protocol.HeaderSize; n != helloPayloadSize {
		return b[:start], fmt.Errorf("attack: a client hello payload of %d bytes, want %d (the key is not 91 bytes?)", n, helloPayloadSize)
	}
	return appendCRC(b, start), nil
}

// appendCRC appends the CRC-32 of b[start:] to b.
func appendCRC(b []byte, start int) []byte {
	return binary.BigEndian.AppendUint32(b, crypto.CRC32(b[start:]))
}

// A HelloBuilder makes one CLIENT_HELLO datagram with a fresh ephemeral
// key, reading its randomness from r. PlainHello is the reference's; a
// caller may supply others (a hello carrying an extension in its padding,
// say), built with AppendHello.
type HelloBuilder func(r io.Reader) ([]byte, error)

// PlainHello builds the CLIENT_HELLO the Python reference sends: packet 1,
// message 1, a new P-256 key, random padding and no extension.
func PlainHello(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	key, err := conn.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	der := key.Public().DER()
	pad := make([]byte, protocol.ClientHelloPaddingLen(len(der), protocol.ProtocolVersion))
	if _, err := io.ReadFull(r, pad); err != nil {
		return nil, fmt.Errorf("attack: reading hello padding: %w", err)
	}
	return AppendHello(make([]byte, 0, HelloSize), Hello{
		CTime: uint32(time.Now().Unix()), Seq: 1, MsgSeq: 1, Key: der, Padding: pad,
	})
}

// MarkedHello builds the CLIENT_HELLO a client of ours sends: it carries
// the extension that asks a server under load for a cookie.
func MarkedHello(r io.Reader) ([]byte, error) {
	c, err := session.NewClient(&session.Config{Rand: r}, time.Now())
	if err != nil {
		return nil, err
	}
	return c.Poll(time.Now(), make([]byte, 0, HelloSize)), nil
}
