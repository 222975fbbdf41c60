package crypto

import (
	"crypto/ecdh"
	"fmt"

	"github.com/mpgs/mpgameserver/conn"
)

// spkiP256Prefix starts the DER SubjectPublicKeyInfo of every P-256 key
// with an uncompressed point (id-ecPublicKey, prime256v1, a 66-byte bit
// string); the 65-byte point follows.
var spkiP256Prefix = []byte{
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
}

// PublicKeyDERSize is the size of the DER SubjectPublicKeyInfo of a P-256
// key with an uncompressed point, the form every client sends.
const PublicKeyDERSize = 91

// peerECDH returns the ECDH key of a DER public key: at once for the usual
// 91-byte form (a point check, no ASN.1 parsing, no ECDSA key), through
// the full parser for any other encoding.
func peerECDH(der []byte) (*ecdh.PublicKey, error) {
	if len(der) == PublicKeyDERSize && string(der[:len(spkiP256Prefix)]) == string(spkiP256Prefix) {
		k, err := ecdh.P256().NewPublicKey(der[len(spkiP256Prefix):])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", conn.ErrKey, err)
		}
		return k, nil
	}
	pk, err := conn.ParsePublicKeyDER(der)
	if err != nil {
		return nil, err
	}
	return pk.ECDH(), nil
}

// CheckPublicKeyDER reports whether der is a P-256 public key whose point
// lies on the curve, as an ECDH with it would need. The usual 91-byte
// form costs a point check (about a quarter of a microsecond).
func CheckPublicKeyDER(der []byte) error {
	_, err := peerECDH(der)
	return err
}
