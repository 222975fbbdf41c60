package dtlsrec

import "encoding/binary"

// Open reads the first record of dgram, a datagram from the peer that may
// hold several records: the caller loops on rest until it is empty.
//
//	for len(d) > 0 {
//		typ, plain, rest, err := c.Open(d)
//		d = rest
//		...
//	}
//
// rest is the rest of dgram after this record, also when the record is
// refused; it is nil only when the record's end is unknown (ErrShort on a
// cut header or length), which ends the datagram. Either way a call
// consumes at least one record header, so the loop ends.
//
// What Open returns:
//   - err == nil: an authenticated epoch-1 record, decrypted in place
//     (plain aliases dgram). typ is TypeApplicationData for data,
//     TypeAlert for an alert (plain is level, description: a
//     close_notify or a fatal alert ends the connection), or
//     TypeHandshake for a handshake message, in practice the peer's
//     Finished, retransmitted because it did not receive our final
//     flight: the caller re-sends Pipe.LastFlight.
//   - ErrPlaintext: an epoch-0 record (TypeHandshake, TypeChangeCipherSpec
//     or TypeAlert) with its body, unauthenticated. It is the clear part
//     of the peer's retransmitted final flight, a hint to re-send
//     Pipe.LastFlight and nothing more: anyone who can spoof the peer's
//     address can forge it, so an epoch-0 alert must not close the
//     connection, and re-sending should be bounded (say, once per
//     datagram, and only until the first authenticated application data,
//     which proves the peer has our Finished).
//   - any other error: the record is dropped (RFC 6347 section 4.1.2.7:
//     invalid records are discarded silently); the caller goes on with
//     rest. On ErrAuth the record's bytes in dgram may have been
//     overwritten (crypto/cipher clears a failed in-place decryption).
//
// The anti-replay window (64 records) moves only when a record
// authenticates. Open allocates nothing.
func (c *Conn) Open(dgram []byte) (typ byte, plain, rest []byte, err error) {
	if len(dgram) < headerLen {
		return 0, nil, nil, ErrShort
	}
	n := int(binary.BigEndian.Uint16(dgram[headerLen-2:]))
	if len(dgram)-headerLen < n {
		return 0, nil, nil, ErrShort
	}
	rec, rest := dgram[:headerLen+n], dgram[headerLen+n:]
	if rec[1] != versionMajor || rec[2] != versionMinor {
		return 0, nil, rest, ErrVersion
	}
	typ = rec[0]
	seq64 := binary.BigEndian.Uint64(rec[3:])
	switch seq64 >> 48 {
	case 0:
		return openClear(typ, rec, rest)
	case epoch:
	default:
		return 0, nil, rest, ErrEpoch
	}

	switch typ {
	case TypeApplicationData, TypeAlert, TypeHandshake:
	default:
		// change_cipher_spec is never encrypted, other types are not
		// DTLS 1.2's (or need extensions we did not negotiate).
		return 0, nil, rest, ErrType
	}
	if n < explicitLen+tagLen {
		return 0, nil, rest, ErrShort
	}
	seq := seq64 & maxSeq
	if !c.win.fresh(seq) {
		return 0, nil, rest, ErrReplay
	}

	// The nonce's explicit part is taken from the record, as RFC 5288
	// says; the sender chose it (pion: epoch || sequence number).
	copy(c.nonce[:saltLen], c.openSalt[:])
	copy(c.nonce[saltLen:], rec[headerLen:headerLen+explicitLen])
	c.setAAD(seq64, typ, n-explicitLen-tagLen)
	sealed := rec[headerLen+explicitLen:]
	plain, err = c.opener.Open(sealed[:0], c.nonce[:], sealed, c.aad[:])
	if err != nil {
		return 0, nil, rest, ErrAuth
	}
	c.win.accept(seq)
	return typ, plain, rest, nil
}

// openClear returns an epoch-0 record's type and body, with ErrPlaintext
// since nothing authenticates it.
func openClear(typ byte, rec, rest []byte) (byte, []byte, []byte, error) {
	switch typ {
	case TypeHandshake, TypeChangeCipherSpec, TypeAlert:
		return typ, rec[headerLen:], rest, ErrPlaintext
	case TypeApplicationData:
		return 0, nil, rest, ErrEpoch
	}
	return 0, nil, rest, ErrType
}
