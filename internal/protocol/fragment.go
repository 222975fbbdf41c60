package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Fragment errors.
var (
	ErrFragmentShort    = errors.New("protocol: fragment shorter than its 6-byte sub-header")
	ErrFragmentCount    = errors.New("protocol: fragment count out of range")
	ErrFragmentIndex    = errors.New("protocol: fragment index out of range")
	ErrMessageTooLarge  = errors.New("protocol: message larger than the maximum message size")
	ErrFragmentMismatch = errors.New("protocol: fragment count differs from earlier fragments of the same message")
)

// FragmentHeader is the sub-header at the start of every APP_FRAGMENT body:
// frag_id(u16) index(u16, 1-based) count(u16), followed by the data.
type FragmentHeader struct {
	ID    Seq
	Index uint16
	Count uint16
}

// AppendFragment appends the fragment body (sub-header and data) to b.
func AppendFragment(b []byte, h FragmentHeader, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(h.ID))
	b = binary.BigEndian.AppendUint16(b, h.Index)
	b = binary.BigEndian.AppendUint16(b, h.Count)
	return append(b, data...)
}

// ParseFragment splits an APP_FRAGMENT body into its sub-header and data. It
// rejects a count of 0 or above MaxFragments and an index outside 1..count.
// The data aliases body.
func ParseFragment(body []byte) (FragmentHeader, []byte, error) {
	var h FragmentHeader
	if len(body) < FragmentHeaderSize {
		return h, nil, ErrFragmentShort
	}
	h.ID = Seq(binary.BigEndian.Uint16(body))
	h.Index = binary.BigEndian.Uint16(body[2:])
	h.Count = binary.BigEndian.Uint16(body[4:])
	if h.Count == 0 || h.Count > MaxFragments {
		return h, nil, ErrFragmentCount
	}
	if h.Index == 0 || h.Index > h.Count {
		return h, nil, ErrFragmentIndex
	}
	return h, body[FragmentHeaderSize:len(body):len(body)], nil
}

// NeedsFragments reports whether a message of n bytes must be fragmented:
// whether it is longer than MaxSingleMessage, the most one packet carries.
func NeedsFragments(n int) bool { return n > MaxSingleMessage }

// FragmentCount returns the number of fragments a message of n bytes is
// split into, or an error if n exceeds MaxMessageSize. Every fragment but the
// last carries FragmentDataSize bytes; the last carries the rest, at most
// MaxLastFragmentData, so that each fragment fits a packet on its own. (The
// reference lets the last fragment reach 1427 bytes, which it then can never
// send; this split has no such hole.)
func FragmentCount(n int) (int, error) {
	if n > MaxMessageSize {
		return 0, fmt.Errorf("%w: %d bytes (limit %d)", ErrMessageTooLarge, n, MaxMessageSize)
	}
	if n <= MaxLastFragmentData {
		return 1, nil
	}
	cuts := (n - MaxLastFragmentData + FragmentDataSize - 1) / FragmentDataSize
	return cuts + 1, nil
}

// FragmentData returns the data of fragment index (1-based) of count for a
// message msg, as split by FragmentCount.
func FragmentData(msg []byte, index, count int) []byte {
	start := (index - 1) * FragmentDataSize
	if index == count {
		return msg[start:]
	}
	return msg[start : start+FragmentDataSize]
}
