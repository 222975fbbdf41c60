package dtlsrec

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/gob"
	"fmt"
	"hash"
)

const (
	randomLen = 32 // a hello's random
	masterLen = 48 // TLS 1.2 master secret
	saltLen   = 4  // the implicit part of a GCM nonce (RFC 5288)
)

// suite is what the record layer needs of a cipher suite.
type suite struct {
	keyLen int
	hash   func() hash.Hash // of the PRF
}

// suiteFor returns the record-layer parameters of an AES-GCM cipher suite
// (the ECDHE ones, with ECDSA or RSA certificates: authentication does not
// change the record layer). Other suites are refused.
func suiteFor(id uint16) (suite, bool) {
	switch id {
	case 0xc02b, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		0xc02f: // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		return suite{keyLen: 16, hash: sha256.New}, true
	case 0xc02c, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		0xc030: // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
		return suite{keyLen: 32, hash: sha512.New384}, true
	}
	return suite{}, false
}

// exported mirrors the fields of pion's serialized dtls.State that the
// record layer needs. dtls.State.MarshalBinary is a gob of pion's
// (unexported) serializedState; gob matches fields by name, so this
// struct decodes it without reaching into pion's internals. Fields not
// listed here are skipped by gob.
//
// Meanings, as pion v3.1.15 fills them (and as the tests check against a
// live pion peer):
//   - SequenceNumber: the next sequence number pion would have used at
//     LocalEpoch (it post-increments), so ours starts there.
//   - RemoteSequenceNumber: one more than the highest epoch>0 sequence
//     number pion accepted from the peer.
type exported struct {
	RemoteSequenceNumber uint64
	HandshakeComplete    bool
	LocalEpoch           uint16
	RemoteEpoch          uint16
	LocalRandom          [randomLen]byte
	RemoteRandom         [randomLen]byte
	CipherSuiteID        uint16
	MasterSecret         []byte
	SequenceNumber       uint64
	PeerCertificates     [][]byte
	LocalConnectionID    []byte
	RemoteConnectionID   []byte
	IsClient             bool
}

// decodeExport decodes and checks pion's export.
//
// A field that gob leaves at zero because pion renamed it would be
// dangerous (a SequenceNumber of 0 reuses the nonce of pion's Finished),
// so the values that a just-finished handshake must have are checked, not
// assumed: both epochs are 1, and each side has sent at least its
// Finished at epoch 1.
func decodeExport(b []byte) (exported, error) {
	var e exported
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&e); err != nil {
		return exported{}, fmt.Errorf("%w: %v", ErrState, err)
	}
	switch {
	case !e.HandshakeComplete:
		return exported{}, fmt.Errorf("%w: handshake not complete", ErrState)
	case e.LocalEpoch != 1 || e.RemoteEpoch != 1:
		return exported{}, fmt.Errorf("%w: epochs %d/%d, want 1/1", ErrState, e.LocalEpoch, e.RemoteEpoch)
	case e.SequenceNumber == 0 || e.RemoteSequenceNumber == 0:
		return exported{}, fmt.Errorf("%w: sequence numbers %d/%d, want both > 0",
			ErrState, e.SequenceNumber, e.RemoteSequenceNumber)
	case e.SequenceNumber > maxSeq+1 || e.RemoteSequenceNumber > maxSeq+1:
		return exported{}, fmt.Errorf("%w: sequence number beyond 48 bits", ErrState)
	case len(e.MasterSecret) != masterLen:
		return exported{}, fmt.Errorf("%w: master secret of %d bytes", ErrState, len(e.MasterSecret))
	case len(e.LocalConnectionID) != 0 || len(e.RemoteConnectionID) != 0:
		return exported{}, ErrCID
	}
	if _, ok := suiteFor(e.CipherSuiteID); !ok {
		return exported{}, fmt.Errorf("%w: 0x%04x", ErrSuite, e.CipherSuiteID)
	}
	return e, nil
}
