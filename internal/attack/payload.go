package attack

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

// A Payload makes the next datagram of a flood. It builds it in b (empty,
// with capacity protocol.RecvBufferSize) and returns it, or returns
// memory it owns and never changes. rng is the flood's; a Payload is only
// called from the flood's goroutine.
type Payload func(b []byte, rng *mrand.Rand) []byte

// fillRandom appends n random bytes to b.
func fillRandom(b []byte, n int, rng *mrand.Rand) []byte {
	for n >= 8 {
		b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
		n -= 8
	}
	for ; n > 0; n-- {
		b = append(b, byte(rng.Uint32()))
	}
	return b
}

// JunkRandom is random bytes of a random length, 1 to 1472.
func JunkRandom(b []byte, rng *mrand.Rand) []byte {
	return fillRandom(b, 1+rng.IntN(protocol.MaxDatagramSize), rng)
}

// JunkMagic is a datagram of random length (20 to 1472 bytes) that is
// random but for its first four bytes: never the FSOS or FSOC magic, and
// often a near miss ("FSOX", "FS0S", ...).
func JunkMagic(b []byte, rng *mrand.Rand) []byte {
	b = fillRandom(b, protocol.HeaderSize+rng.IntN(protocol.MaxDatagramSize-protocol.HeaderSize+1), rng)
	if rng.IntN(2) == 0 {
		copy(b, "FSOS")
		b[rng.IntN(4)] ^= byte(1 + rng.IntN(255)) // one byte off
	}
	if m := string(b[:4]); m == "FSOS" || m == "FSOC" {
		b[0] = 'X'
	}
	return b
}

// JunkAppHeader is a well-formed header going to the server (type APP,
// a length that matches the datagram, a random seq, ack, count and ctime
// near now) followed by random bytes where the ciphertext and tag belong:
// it can only fail at the tag check, or at the address check before it.
func JunkAppHeader(b []byte, rng *mrand.Rand) []byte {
	n := 2 + rng.IntN(protocol.MaxPayloadSize-1) // plaintext length 2..1434
	h := protocol.Header{
		Direction: protocol.ToServer,
		CTime:     uint32(time.Now().Unix()) - uint32(rng.IntN(3)),
		Seq:       protocol.Seq(1 + rng.IntN(65535)),
		Ack:       protocol.Seq(rng.IntN(65536)),
		Type:      protocol.TypeApp,
		Length:    uint16(n),
		Count:     uint8(1 + rng.IntN(255)),
		AckBits:   rng.Uint32(),
	}
	b = h.AppendTo(b)
	return fillRandom(b, n+protocol.TagSize, rng)
}

// JunkMix is JunkRandom, JunkMagic or JunkAppHeader, chosen at random.
func JunkMix(b []byte, rng *mrand.Rand) []byte {
	switch rng.IntN(3) {
	case 0:
		return JunkRandom(b, rng)
	case 1:
		return JunkMagic(b, rng)
	}
	return JunkAppHeader(b, rng)
}

// p256Prefix starts the 91-byte DER SubjectPublicKeyInfo of every P-256
// key with an uncompressed point (SPEC §8.4); the point's 64 coordinate
// bytes follow.
const p256Prefix = "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01" +
	"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x03\x42\x00\x04"

// p256KeySize is the size of that SubjectPublicKeyInfo.
const p256KeySize = 91

// HelloBadCRC is a full-size CLIENT_HELLO of the reference's layout
// (1438 bytes; a key-shaped but random key, random padding) whose CRC is
// wrong.
func HelloBadCRC(b []byte, rng *mrand.Rand) []byte {
	key := fillRandom(append(make([]byte, 0, p256KeySize), p256Prefix...), p256KeySize-len(p256Prefix), rng)
	n := protocol.ClientHelloPaddingLen(len(key), protocol.ProtocolVersion)
	pad := fillRandom(make([]byte, 0, n), n, rng)
	d, err := AppendHello(b, Hello{CTime: uint32(time.Now().Unix()), Seq: 1, MsgSeq: 1, Key: key, Padding: pad})
	if err != nil {
		panic("attack: a hello of the fixed layout did not build: " + err.Error())
	}
	d[len(d)-1-rng.IntN(protocol.CRCSize)] ^= byte(1 + rng.IntN(255)) // the CRC is now wrong
	return d
}

// DefaultHelloPool is how many distinct valid CLIENT_HELLOs NewHelloValid
// makes when asked for none.
const DefaultHelloPool = 64

// NewHelloValid makes n valid CLIENT_HELLOs with build (PlainHello when
// nil), each with its own real ephemeral key (DefaultHelloPool when n is
// 0), and returns the Payload that sends them in turn; the same hello
// goes out from many addresses.
func NewHelloValid(n int, build HelloBuilder) (Payload, error) {
	if n <= 0 {
		n = DefaultHelloPool
	}
	if build == nil {
		build = PlainHello
	}
	pool := make([][]byte, n)
	for i := range pool {
		d, err := build(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("attack: building hello %d of %d: %w", i+1, n, err)
		}
		pool[i] = d
	}
	next := 0
	return func([]byte, *mrand.Rand) []byte {
		d := pool[next]
		next = (next + 1) % len(pool)
		return d
	}, nil
}
