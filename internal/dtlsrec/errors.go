package dtlsrec

import "errors"

// Errors of Open and Seal. They are fixed values, so that a caller can
// test them with errors.Is (or ==) and a refused record costs no
// allocation: a peer, or anyone who can spoof its address, chooses how
// many bad records the server sees.
var (
	// ErrShort: the record is cut short, or too small for what its type
	// and epoch need (an encrypted record holds at least its explicit
	// nonce and tag).
	ErrShort = errors.New("dtlsrec: short record")
	// ErrVersion: the record's version is not DTLS 1.2 (0xFEFD).
	ErrVersion = errors.New("dtlsrec: not a DTLS 1.2 record")
	// ErrEpoch: the record's epoch is neither 0 nor 1, or it is
	// application data at epoch 0.
	ErrEpoch = errors.New("dtlsrec: unexpected epoch")
	// ErrType: the record's content type is not one this layer handles
	// at its epoch.
	ErrType = errors.New("dtlsrec: unexpected content type")
	// ErrReplay: the record's sequence number was already accepted, or is
	// older than the anti-replay window.
	ErrReplay = errors.New("dtlsrec: replayed record")
	// ErrAuth: the record does not authenticate (forged, corrupted, or not
	// for this connection).
	ErrAuth = errors.New("dtlsrec: record authentication failed")
	// ErrPlaintext is returned with an epoch-0 record (handshake,
	// change_cipher_spec or alert) whose type and body Open returns as
	// well: such a record is not authenticated, anyone can forge it. Its
	// one use is as a hint that the peer retransmits its final flight
	// (see Conn.Open); the caller must not act on it otherwise.
	ErrPlaintext = errors.New("dtlsrec: unauthenticated epoch-0 record")

	// ErrTooLong: Seal was given more than MaxPlaintext bytes.
	ErrTooLong = errors.New("dtlsrec: plaintext too long for one record")
	// ErrExhausted: the connection has used all 2^48 sequence numbers of
	// its epoch; it must not send again (a wrap would reuse GCM nonces).
	ErrExhausted = errors.New("dtlsrec: sequence numbers exhausted")
)

// Errors of Handshake, besides pion's own.
var (
	// ErrSuite: the handshake negotiated a cipher suite other than
	// AES-GCM, which this record layer does not implement.
	ErrSuite = errors.New("dtlsrec: unsupported cipher suite")
	// ErrCID: the handshake negotiated a connection ID (RFC 9146), whose
	// record format this layer does not implement.
	ErrCID = errors.New("dtlsrec: connection ID negotiated")
	// ErrState: pion's exported state is not that of a DTLS 1.2
	// connection just established (its format changed, or the handshake
	// did not finish as expected).
	ErrState = errors.New("dtlsrec: unusable exported state")
)
