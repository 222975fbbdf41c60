//go:build !js

package rtc

import (
	"crypto/hmac"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"net/netip"
)

// The listener is an ICE-lite agent (RFC 8445 §2.5): it answers the
// browser's connectivity checks, STUN binding requests (RFC 5389), and
// sends none of its own. A check proves that its sender knows the peer's
// password, which only the signaling told; its source address becomes an
// address the peer may use. These are the few STUN messages it reads and
// writes, without allocating.

const (
	stunHeader       = 20
	stunMagic        = 0x2112A442
	stunBinding      = 0x0001
	stunBindingOK    = 0x0101
	attrUsername     = 0x0006
	attrIntegrity    = 0x0008
	attrXORMapped    = 0x0020
	attrUseCandidate = 0x0025
	attrFingerprint  = 0x8028
	fingerprintXOR   = 0x5354554e
	integritySize    = 20
	// maxCheck bounds a binding request: a browser's is about 100 bytes.
	maxCheck = 512
)

// isSTUN reports whether b looks like a STUN message (RFC 7983's first
// byte 0-3 and the magic cookie).
func isSTUN(b []byte) bool {
	return len(b) >= stunHeader && b[0] < 4 && binary.BigEndian.Uint32(b[4:]) == stunMagic
}

// check is what a binding request says.
type check struct {
	txid         [12]byte
	user         []byte // USERNAME's value, aliasing the request
	integrity    int    // the offset of MESSAGE-INTEGRITY's header
	useCandidate bool
}

// parseCheck reads a binding request. It refuses anything else, a request
// without USERNAME and MESSAGE-INTEGRITY, and a malformed one. It does not
// authenticate: see authentic.
func parseCheck(b []byte) (check, bool) {
	var c check
	if !isSTUN(b) || len(b) > maxCheck || binary.BigEndian.Uint16(b) != stunBinding {
		return c, false
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n%4 != 0 || stunHeader+n != len(b) {
		return c, false
	}
	copy(c.txid[:], b[8:20])
	c.integrity = -1
	for off := stunHeader; off < len(b); {
		if off+4 > len(b) {
			return c, false
		}
		typ := binary.BigEndian.Uint16(b[off:])
		size := int(binary.BigEndian.Uint16(b[off+2:]))
		end := off + 4 + size
		if end > len(b) {
			return c, false
		}
		if c.integrity >= 0 && typ != attrFingerprint {
			return c, false // only FINGERPRINT may follow MESSAGE-INTEGRITY
		}
		switch typ {
		case attrUsername:
			c.user = b[off+4 : end]
		case attrUseCandidate:
			c.useCandidate = true
		case attrIntegrity:
			if size != integritySize {
				return c, false
			}
			c.integrity = off
		case attrFingerprint:
			if size != 4 || end != len(b) || binary.BigEndian.Uint32(b[off+4:]) != fingerprint(b, off) {
				return c, false
			}
		}
		off = end + (4-size%4)%4
	}
	return c, c.user != nil && c.integrity >= 0
}

// authentic reports whether the request b, parsed as c, carries the
// MESSAGE-INTEGRITY of the key mac was made with (HMAC-SHA1 under the
// password).
func authentic(b []byte, c check, mac hash.Hash) bool {
	var sum [integritySize]byte
	integrity(mac, b, c.integrity, sum[:0])
	return hmac.Equal(sum[:], b[c.integrity+4:c.integrity+4+integritySize])
}

// integrity appends to dst the HMAC of b up to the attribute at off, with
// the header's length as if MESSAGE-INTEGRITY ended the message.
func integrity(mac hash.Hash, b []byte, off int, dst []byte) []byte {
	var head [stunHeader]byte
	copy(head[:], b[:stunHeader])
	binary.BigEndian.PutUint16(head[2:], uint16(off+4+integritySize-stunHeader))
	mac.Reset()
	mac.Write(head[:])
	mac.Write(b[stunHeader:off])
	return mac.Sum(dst)
}

// fingerprint is the FINGERPRINT of b up to the attribute at off, with the
// header's length as if it ended the message.
func fingerprint(b []byte, off int) uint32 {
	var head [stunHeader]byte
	copy(head[:], b[:stunHeader])
	binary.BigEndian.PutUint16(head[2:], uint16(off+8-stunHeader))
	sum := crc32.Update(crc32.ChecksumIEEE(head[:]), crc32.IEEETable, b[stunHeader:off])
	return sum ^ fingerprintXOR
}

// appendSuccess appends the binding success response to the check c from
// the address from: its XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY under mac's
// key and FINGERPRINT.
func appendSuccess(dst []byte, c check, from netip.AddrPort, mac hash.Hash) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, stunBindingOK)
	dst = binary.BigEndian.AppendUint16(dst, 0) // the length, below
	dst = binary.BigEndian.AppendUint32(dst, stunMagic)
	dst = append(dst, c.txid[:]...)

	a := from.Addr().Unmap()
	family, size := byte(1), 4
	if a.Is6() {
		family, size = 2, 16
	}
	dst = binary.BigEndian.AppendUint16(dst, attrXORMapped)
	dst = binary.BigEndian.AppendUint16(dst, uint16(4+size))
	dst = append(dst, 0, family)
	dst = binary.BigEndian.AppendUint16(dst, from.Port()^uint16(stunMagic>>16))
	var key [16]byte
	binary.BigEndian.PutUint32(key[:], stunMagic)
	copy(key[4:], c.txid[:])
	raw := a.As16()
	ip := raw[16-size:]
	for i := range size {
		dst = append(dst, ip[i]^key[i])
	}

	msg := dst[start:]
	mi := len(msg)
	dst = binary.BigEndian.AppendUint16(dst, attrIntegrity)
	dst = binary.BigEndian.AppendUint16(dst, integritySize)
	dst = integrity(mac, dst[start:], mi, dst)

	msg = dst[start:]
	fp := len(msg)
	binary.BigEndian.PutUint16(msg[2:], uint16(fp+8-stunHeader))
	dst = binary.BigEndian.AppendUint16(dst, attrFingerprint)
	dst = binary.BigEndian.AppendUint16(dst, 4)
	dst = binary.BigEndian.AppendUint32(dst, fingerprint(dst[start:], fp))
	return dst
}
