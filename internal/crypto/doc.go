// Package crypto holds the cryptography of the mpgameserver protocol
// beyond its keys (conn.PrivateKey and conn.PublicKey, with their PEM and
// DER forms and ECDSA-SHA256 signatures), all of it pure functions over
// the standard library:
//
//   - the check and ECDH of a peer's DER public key, fast for the usual
//     91-byte form;
//   - ECDH and HKDF-SHA256 deriving the 16-byte session key;
//   - AES-128-GCM sealing of packets, with the header's first 12 bytes as
//     nonce and all 20 as associated data;
//   - the CRC-32 of the two hello packets.
package crypto
