package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// Sizes of the session parameters.
const (
	// KeySize is the AES-128 session key size.
	KeySize = 16
	// SaltSize is the size of the HKDF salt the server chooses.
	SaltSize = 16
	// NonceSize is the GCM nonce size: the header's first 12 bytes.
	NonceSize = 12
	// TagSize is the GCM tag size.
	TagSize = 16
	// AADSize is the associated data size: the whole 20-byte header.
	AADSize = 20
)

// HKDFInfo is the info string of the session key derivation.
const HKDFInfo = "01-secp256r1-sha256-aesgcm128-server-client"

// Errors of the session layer.
var (
	ErrAuth = errors.New("crypto: message authentication failed")
	ErrCRC  = errors.New("crypto: CRC-32 mismatch")
)

// SharedSecret returns the ECDH shared secret of priv and the peer's public
// key given as DER SubjectPublicKeyInfo: the 32-byte x-coordinate.
func SharedSecret(priv *conn.PrivateKey, peerDER []byte) ([]byte, error) {
	peer, err := peerECDH(peerDER)
	if err != nil {
		return nil, fmt.Errorf("peer public key: %w", err)
	}
	s, err := priv.ECDH().ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("crypto: ECDH: %w", err)
	}
	return s, nil
}

// DeriveKey returns HKDF-SHA256(secret, salt, HKDFInfo) truncated to 16
// bytes: the AES-128-GCM key both directions use.
func DeriveKey(secret, salt []byte) ([KeySize]byte, error) {
	var k [KeySize]byte
	b, err := hkdf.Key(sha256.New, secret, salt, HKDFInfo, KeySize)
	if err != nil {
		return k, fmt.Errorf("crypto: HKDF: %w", err)
	}
	copy(k[:], b)
	return k, nil
}

// SessionKey runs ECDH between priv and the peer's DER public key and
// derives the session key with salt.
func SessionKey(priv *conn.PrivateKey, peerDER, salt []byte) ([KeySize]byte, error) {
	s, err := SharedSecret(priv, peerDER)
	if err != nil {
		return [KeySize]byte{}, err
	}
	return DeriveKey(s, salt)
}

// An AEAD seals and opens packets under one session key. It is safe for
// concurrent use.
type AEAD struct {
	gcm   cipher.AEAD
	state prefetch.Span // what Seal and Open read of the cipher's state
}

// NewAEAD returns the AES-128-GCM packet cipher for key.
func NewAEAD(key [KeySize]byte) (*AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &AEAD{gcm: gcm, state: CipherState(gcm)}, nil
}

// State returns what Seal and Open read of the cipher's state (its
// expanded key and hash tables), so that a caller can prefetch it before
// the next Seal or Open; the zero Span when unknown.
func (a *AEAD) State() prefetch.Span { return a.state }

// CipherState returns the cache lines of an AEAD's state that sealing
// and opening a packet under 128 bytes read, for a caller to prefetch
// (see internal/prefetch): the zero Span unless a is a pointer to a
// struct. Go's AES-GCM keeps the block cipher's decryption key schedule,
// which counter mode never reads, between its encryption schedule and its
// hash table, and hashes fewer than eight blocks with the table's last
// entry (H) alone; what is left is the rounds of the encryption schedule
// the key size uses, the nonce and tag sizes, and that entry: 5 cache
// lines of 12 for AES-128. A longer packet reads the rest of the table
// too, on demand. When the struct is not laid out as expected, the Span
// is all of it.
func CipherState(a cipher.AEAD) prefetch.Span {
	v := reflect.ValueOf(a)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Type().Elem().Kind() != reflect.Struct {
		return prefetch.Span{}
	}
	size := v.Type().Elem().Size()
	whole := prefetch.Whole(v.UnsafePointer(), size)
	base, e := v.Pointer(), v.Elem()
	blk := e.FieldByName("cipher")
	nonce, tag, table := e.FieldByName("nonceSize"), e.FieldByName("tagSize"), e.FieldByName("productTable")
	if !blk.IsValid() || blk.Kind() != reflect.Struct || !nonce.IsValid() || !tag.IsValid() ||
		!table.IsValid() || table.Kind() != reflect.Array || table.Len() < 32 {
		return whole
	}
	rounds, enc := blk.FieldByName("rounds"), blk.FieldByName("enc")
	if !rounds.IsValid() || !enc.IsValid() || rounds.Kind() != reflect.Int || enc.Kind() != reflect.Array {
		return whole
	}
	r := rounds.Int()
	encOff := enc.UnsafeAddr() - base
	keys := uintptr(r+1) * 16 // a 16-byte round key per round, and one more
	tableEnd := table.UnsafeAddr() - base + table.Type().Size()
	if r < 10 || r > 14 || keys > enc.Type().Size() || tableEnd > size {
		return whole
	}
	return prefetch.Span{Base: whole.Base}.
		Add(0, encOff+keys).
		Add(nonce.UnsafeAddr()-base, nonce.Type().Size()).
		Add(tag.UnsafeAddr()-base, tag.Type().Size()).
		Add(tableEnd-32, 32)
}

// Seal appends the ciphertext and tag of plaintext to dst. header is the
// encoded 20-byte packet header: its first 12 bytes are the nonce and all
// of it is authenticated. To encrypt in place, pass plaintext[:0] as dst.
func (a *AEAD) Seal(dst, header, plaintext []byte) []byte {
	return a.gcm.Seal(dst, header[:NonceSize], plaintext, header[:AADSize])
}

// Open checks and decrypts sealed (ciphertext followed by tag), appending
// the plaintext to dst. It returns ErrAuth when the tag does not match.
func (a *AEAD) Open(dst, header, sealed []byte) ([]byte, error) {
	if len(sealed) < TagSize {
		return nil, ErrAuth
	}
	out, err := a.gcm.Open(dst, header[:NonceSize], sealed, header[:AADSize])
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}

// CRC32 returns the IEEE CRC-32 of b (the zlib one).
func CRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// AppendCRC appends the big-endian CRC-32 of b to b.
func AppendCRC(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// CheckCRC reports whether the 4 bytes at b[n:n+4] are the big-endian CRC-32
// of b[:n].
func CheckCRC(b []byte, n int) error {
	if n < 0 || len(b) < n+4 {
		return fmt.Errorf("%w: datagram too short for its CRC", ErrCRC)
	}
	if crc32.ChecksumIEEE(b[:n]) != binary.BigEndian.Uint32(b[n:]) {
		return ErrCRC
	}
	return nil
}
