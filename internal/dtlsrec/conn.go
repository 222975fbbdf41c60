package dtlsrec

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"slices"

	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// Record layout (RFC 6347 section 4.1, RFC 5288 for GCM).
const (
	headerLen   = 13 // type 1, version 2, epoch 2, sequence number 6, length 2
	explicitLen = 8  // the GCM nonce's explicit part, sent in the record
	tagLen      = 16

	// Overhead is what Seal adds to a plaintext: the record header, the
	// explicit nonce and the GCM tag.
	Overhead = headerLen + explicitLen + tagLen

	// MaxPlaintext is the largest plaintext of one record (2^14, RFC
	// 5246 section 6.2.1).
	MaxPlaintext = 1 << 14

	maxSeq = 1<<48 - 1
)

// Content types (RFC 5246 section 6.2.1).
const (
	TypeChangeCipherSpec byte = 20
	TypeAlert            byte = 21
	TypeHandshake        byte = 22
	TypeApplicationData  byte = 23
)

// Alert levels and the descriptions a server sends when it drops a peer
// (RFC 5246 section 7.2).
const (
	AlertWarning       byte = 1
	AlertFatal         byte = 2
	AlertCloseNotify   byte = 0
	AlertInternalError byte = 80
)

const (
	versionMajor = 0xfe // DTLS 1.2 is {254, 253}
	versionMinor = 0xfd
	epoch        = 1 // the only epoch after a handshake without renegotiation
)

// Conn is the record layer of one established DTLS 1.2 connection, run
// inline by its caller: Seal and Open do their work in the calling
// goroutine, take no locks and allocate nothing. It is not safe for
// concurrent use; a game server keeps each peer's Conn in its tick
// goroutine.
type Conn struct {
	sealer, opener cipher.AEAD
	sealSalt       [saltLen]byte
	openSalt       [saltLen]byte

	seq uint64 // our next sequence number at epoch 1
	win window // the peer's, at epoch 1

	peerCerts [][]byte

	// Scratch for the AEAD calls, kept here so that passing them through
	// the cipher.AEAD interface does not move them to the heap per call.
	nonce [saltLen + explicitLen]byte
	aad   [13]byte
	alert [2]byte

	// The ciphers' states, for PrefetchSeal and PrefetchOpen.
	sealState, openState prefetch.Span
}

// newConn builds the record layer from a checked export (decodeExport).
// IsClient picks the directions, so that either side of a pion connection
// can be taken over.
func newConn(e exported) (*Conn, error) {
	s, _ := suiteFor(e.CipherSuiteID)
	clientRandom, serverRandom := &e.RemoteRandom, &e.LocalRandom
	if e.IsClient {
		clientRandom, serverRandom = serverRandom, clientRandom
	}
	k := deriveKeys(s, e.MasterSecret, clientRandom, serverRandom)

	sealKey, sealSalt, openKey, openSalt := k.serverKey, k.serverSalt, k.clientKey, k.clientSalt
	if e.IsClient {
		sealKey, sealSalt, openKey, openSalt = k.clientKey, k.clientSalt, k.serverKey, k.serverSalt
	}
	sealer, err := newGCM(sealKey)
	if err != nil {
		return nil, err
	}
	opener, err := newGCM(openKey)
	if err != nil {
		return nil, err
	}
	c := &Conn{
		sealer:    sealer,
		opener:    opener,
		sealSalt:  sealSalt,
		openSalt:  openSalt,
		seq:       e.SequenceNumber,
		win:       newWindow(e.RemoteSequenceNumber),
		peerCerts: e.PeerCertificates,
	}
	c.sealState, c.openState = crypto.CipherState(sealer), crypto.CipherState(opener)
	return c, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// PeerCertificates returns the peer's certificate chain (DER), as pion
// received it during the handshake. The caller must not modify it.
func (c *Conn) PeerCertificates() [][]byte { return c.peerCerts }

// Seal appends to dst one application_data record holding plaintext, and
// returns the extended slice. It allocates nothing when dst has room for
// len(plaintext)+Overhead more bytes. As with cipher.AEAD, plaintext must
// not overlap dst's spare capacity.
//
// It fails with ErrTooLong for a plaintext over MaxPlaintext and with
// ErrExhausted once 2^48 records were sent; dst is then returned as it
// was.
func (c *Conn) Seal(dst, plaintext []byte) ([]byte, error) {
	return c.seal(dst, TypeApplicationData, plaintext)
}

// SealAlert appends to dst an encrypted alert record, such as
// (AlertWarning, AlertCloseNotify) when the server closes the connection
// or (AlertFatal, AlertInternalError) when it drops the peer. Errors are
// those of Seal.
func (c *Conn) SealAlert(dst []byte, level, description byte) ([]byte, error) {
	c.alert = [2]byte{level, description}
	return c.seal(dst, TypeAlert, c.alert[:])
}

func (c *Conn) seal(dst []byte, typ byte, plaintext []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return dst, ErrTooLong
	}
	if c.seq > maxSeq {
		return dst, ErrExhausted
	}
	seq := c.seq
	c.seq++

	// The explicit nonce is epoch || sequence number, as pion and most
	// stacks send it: unique per key by construction (RFC 9325 section
	// 7.2.1), and the peer reads it from the record anyway.
	seq64 := uint64(epoch)<<48 | seq
	n := len(plaintext)

	dst = slices.Grow(dst, n+Overhead)
	dst = append(dst, typ, versionMajor, versionMinor)
	dst = binary.BigEndian.AppendUint64(dst, seq64) // epoch (2) and sequence number (6)
	dst = binary.BigEndian.AppendUint16(dst, uint16(explicitLen+n+tagLen))
	dst = binary.BigEndian.AppendUint64(dst, seq64) // explicit nonce

	copy(c.nonce[:saltLen], c.sealSalt[:])
	binary.BigEndian.PutUint64(c.nonce[saltLen:], seq64)
	c.setAAD(seq64, typ, n)
	return c.sealer.Seal(dst, c.nonce[:], plaintext, c.aad[:]), nil
}

// setAAD sets the additional data of RFC 5246 section 6.2.3.3, with
// DTLS's epoch || sequence number as seq_num: seq_num (8), type (1),
// version (2), plaintext length (2).
func (c *Conn) setAAD(seq64 uint64, typ byte, n int) {
	binary.BigEndian.PutUint64(c.aad[:8], seq64)
	c.aad[8] = typ
	c.aad[9] = versionMajor
	c.aad[10] = versionMinor
	binary.BigEndian.PutUint16(c.aad[11:], uint16(n))
}
