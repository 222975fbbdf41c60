package dtlsrec

import (
	"crypto/hmac"
	"hash"
)

// prf is the TLS 1.2 pseudo-random function of RFC 5246 section 5,
// PRF(secret, label, seed) = P_hash(secret, label + seed), cut to n
// bytes. The hash is the cipher suite's (SHA-256 for the AES-128-GCM
// suites, SHA-384 for AES-256-GCM).
//
// It runs once per connection, so it favours plainness over speed.
func prf(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := make([]byte, 0, len(label)+len(seed))
	labelSeed = append(labelSeed, label...)
	labelSeed = append(labelSeed, seed...)

	// P_hash(secret, seed) = HMAC(secret, A(1) + seed) +
	//                        HMAC(secret, A(2) + seed) + ...
	// with A(0) = seed and A(i) = HMAC(secret, A(i-1)).
	mac := hmac.New(h, secret)
	a := labelSeed
	out := make([]byte, 0, n+mac.Size())
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)

		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
	}
	return out[:n]
}

// keys are one connection's AES-GCM keys and implicit nonce parts, by
// direction.
type keys struct {
	clientKey, serverKey   []byte
	clientSalt, serverSalt [saltLen]byte
}

// deriveKeys expands the master secret into the key block of RFC 5246
// section 6.3, key_block = PRF(master_secret, "key expansion",
// server_random + client_random), and splits it. AEAD suites have no MAC
// keys, so the block is client_write_key, server_write_key,
// client_write_IV, server_write_IV, the IVs being the 4-byte implicit
// nonce parts (salts) of RFC 5288.
func deriveKeys(s suite, master []byte, clientRandom, serverRandom *[randomLen]byte) keys {
	seed := make([]byte, 0, 2*randomLen)
	seed = append(seed, serverRandom[:]...)
	seed = append(seed, clientRandom[:]...)
	block := prf(s.hash, master, "key expansion", seed, 2*s.keyLen+2*saltLen)

	var k keys
	k.clientKey, block = block[:s.keyLen:s.keyLen], block[s.keyLen:]
	k.serverKey, block = block[:s.keyLen:s.keyLen], block[s.keyLen:]
	copy(k.clientSalt[:], block[:saltLen])
	copy(k.serverSalt[:], block[saltLen:])
	return k
}
