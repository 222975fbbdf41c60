package sctp

import "errors"

// Errors returned by Handle describe why a packet (or the rest of it) was
// dropped. They are for counting and logging; the caller has nothing to undo.
// They never carry peer data, so returning them does not allocate.
var (
	ErrMalformed   = errors.New("sctp: malformed packet")
	ErrBadChecksum = errors.New("sctp: bad checksum")
	ErrBadTag      = errors.New("sctp: wrong verification tag")
	ErrBadPort     = errors.New("sctp: wrong port")
	ErrBadCookie   = errors.New("sctp: wrong state cookie")
	ErrClosed      = errors.New("sctp: association closed")
	ErrNotOpen     = errors.New("sctp: data channel not open")
	ErrTooLarge    = errors.New("sctp: message too large")
)
