package conn

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// PEM block types.
const (
	privatePEMType   = "PRIVATE KEY"
	ecPrivatePEMType = "EC PRIVATE KEY"
	publicPEMType    = "PUBLIC KEY"
)

// ScalarSize is the size of a P-256 private scalar.
const ScalarSize = 32

// ErrKey is wrapped by errors about malformed or unsupported keys.
var ErrKey = errors.New("conn: bad key")

// A PrivateKey is a P-256 key: a server's root key, whose ECDSA signature
// on the handshake clients check (and whose ECDH half the protocol's own
// handshake uses). Load one with LoadPrivateKey, make one with
// GenerateKey, save it with SavePrivateKey (PKCS#8 PEM, the Python
// original's format).
type PrivateKey struct {
	sig *ecdsa.PrivateKey
	dh  *ecdh.PrivateKey
	pub *PublicKey
}

// A PublicKey is the public half of a root key: what a client pins.
type PublicKey struct {
	sig *ecdsa.PublicKey
	dh  *ecdh.PublicKey
	der []byte // SubjectPublicKeyInfo
}

// GenerateKey returns a new key whose scalar is read from r (crypto/rand
// when r is nil). The same bytes give the same key: 32 bytes are read and
// used as the big-endian scalar; a value of 0 or not below the group order
// is discarded and 32 more bytes are read.
func GenerateKey(r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [ScalarSize]byte
	for range 64 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("conn: reading key randomness: %w", err)
		}
		k, err := NewPrivateKey(b[:])
		if err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: the random source gave no valid P-256 scalar in 64 tries", ErrKey)
}

// NewPrivateKey returns the key with the given 32-byte big-endian scalar.
func NewPrivateKey(scalar []byte) (*PrivateKey, error) {
	sk, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return fromECDSA(sk)
}

func fromECDSA(sk *ecdsa.PrivateKey) (*PrivateKey, error) {
	if sk.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: curve %s, want P-256", ErrKey, sk.Curve.Params().Name)
	}
	dh, err := sk.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	pub, err := newPublicKey(&sk.PublicKey)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{sig: sk, dh: dh, pub: pub}, nil
}

func newPublicKey(pk *ecdsa.PublicKey) (*PublicKey, error) {
	if pk.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: curve %s, want P-256", ErrKey, pk.Curve.Params().Name)
	}
	dh, err := pk.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pk)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return &PublicKey{sig: pk, dh: dh, der: der}, nil
}

// Public returns the public half of k.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Scalar returns the 32-byte big-endian private scalar.
func (k *PrivateKey) Scalar() []byte { return k.dh.Bytes() }

// ECDH returns k as a crypto/ecdh key.
func (k *PrivateKey) ECDH() *ecdh.PrivateKey { return k.dh }

// ECDSA returns k as a crypto/ecdsa key.
func (k *PrivateKey) ECDSA() *ecdsa.PrivateKey { return k.sig }

// MarshalDER returns k as unencrypted PKCS#8 DER.
func (k *PrivateKey) MarshalDER() ([]byte, error) {
	return x509.MarshalPKCS8PrivateKey(k.sig)
}

// MarshalPEM returns k as a PEM "PRIVATE KEY" block (PKCS#8), the format
// the reference's key files use.
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := k.MarshalDER()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: privatePEMType, Bytes: der}), nil
}

// ParsePrivateKeyDER parses a PKCS#8 (or SEC 1) DER P-256 private key.
func ParsePrivateKeyDER(der []byte) (*PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		sk, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: PKCS#8 key is %T, want an EC key", ErrKey, k)
		}
		return fromECDSA(sk)
	}
	sk, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: neither PKCS#8 nor SEC 1 EC private key DER", ErrKey)
	}
	return fromECDSA(sk)
}

// ParsePrivateKeyPEM parses the first "PRIVATE KEY" (PKCS#8) or
// "EC PRIVATE KEY" (SEC 1) block in data.
func ParsePrivateKeyPEM(data []byte) (*PrivateKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%w: no PEM %q block found", ErrKey, privatePEMType)
		}
		if b.Type == privatePEMType || b.Type == ecPrivatePEMType {
			return ParsePrivateKeyDER(b.Bytes)
		}
	}
}

// DER returns the SubjectPublicKeyInfo encoding (91 bytes), the form the
// handshake carries. The caller must not modify it.
func (p *PublicKey) DER() []byte { return p.der }

// ECDH returns p as a crypto/ecdh key.
func (p *PublicKey) ECDH() *ecdh.PublicKey { return p.dh }

// Equal reports whether p and o are the same key.
func (p *PublicKey) Equal(o *PublicKey) bool {
	return p != nil && o != nil && p.sig.Equal(o.sig)
}

// MarshalPEM returns p as a PEM "PUBLIC KEY" block.
func (p *PublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: publicPEMType, Bytes: p.der})
}

// ParsePublicKeyDER parses a DER SubjectPublicKeyInfo P-256 key.
func ParsePublicKeyDER(der []byte) (*PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	pk, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is %T, want an EC key", ErrKey, k)
	}
	return newPublicKey(pk)
}

// ParsePublicKeyPEM parses the first "PUBLIC KEY" block in data.
func ParsePublicKeyPEM(data []byte) (*PublicKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%w: no PEM %q block found", ErrKey, publicPEMType)
		}
		if b.Type == publicPEMType {
			return ParsePublicKeyDER(b.Bytes)
		}
	}
}

// LoadPrivateKey reads a PEM private key file.
func LoadPrivateKey(path string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", path, err)
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("key file %q: not a PEM P-256 private key: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a PEM public key file.
func LoadPublicKey(path string) (*PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key file %q: %w", path, err)
	}
	k, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("public key file %q: not a PEM P-256 public key: %w", path, err)
	}
	return k, nil
}

// SavePrivateKey writes k to path as PEM, readable by the owner only. It
// refuses to overwrite an existing file.
func SavePrivateKey(path string, k *PrivateKey) error {
	data, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	return writeNew(path, data, 0o600)
}

// SavePublicKey writes p to path as PEM. It refuses to overwrite an
// existing file.
func SavePublicKey(path string, p *PublicKey) error {
	return writeNew(path, p.MarshalPEM(), 0o644)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return f.Close()
}

// Sign returns the ECDSA-SHA256 signature of msg, DER encoded.
func (k *PrivateKey) Sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, k.sig, h[:])
}

// Verify reports whether sig is a valid DER ECDSA-SHA256 signature of msg
// by p.
func (p *PublicKey) Verify(msg, sig []byte) bool {
	h := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(p.sig, h[:], sig)
}
