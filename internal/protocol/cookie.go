package protocol

import (
	"encoding/binary"
	"errors"

	"github.com/mpgs/mpgameserver/internal/serial"
)

// The hello extension and the cookie reply let a server under a flood of
// CLIENT_HELLOs from forged addresses tell real clients from the flood
// before it spends anything on them, the way WireGuard's cookie reply and
// QUIC's Retry do, without changing what the Python original sees:
//
//   - A client of this implementation marks its CLIENT_HELLO with a
//     HelloExt written at the start of the padding, which the reference
//     fills with random bytes and never reads. A reference server
//     ignores it.
//   - A server under load answers a marked hello that carries no valid
//     cookie with a cookie reply: a small CRC-protected datagram of type
//     SERVER_HELLO whose body has type id CookieReplyID instead of the
//     SERVER_HELLO's. Unmarked hellos (the reference's clients) never get
//     one.
//   - The client sends its hello again with the cookie in the extension.
//     The cookie proves the client receives datagrams at its address, so
//     the server serves it first.

// Cookie sizes and ids.
const (
	// CookieSize is the size of a cookie.
	CookieSize = 16
	// HelloExtSize is the size of a HelloExt at the start of the padding.
	HelloExtSize = 6 + CookieSize
	// CookieReplyID is the type id of a cookie reply body (the reference's
	// Serializable ids stop at 136).
	CookieReplyID serial.TypeID = 192
	// CookieReplyBodySize is the size of a cookie reply's message body.
	CookieReplyBodySize = 2 + CookieSize
)

// helloExtMagic starts a HelloExt; random padding starts with it and the
// version byte once in 2^40 hellos.
var helloExtMagic = [4]byte{'M', 'P', 'G', 'S'}

const helloExtVersion = 1

// Hello extension flags.
const (
	helloExtCookies  = 1 << 0
	helloExtMessages = 1 << 1
)

// ErrCookieReply is wrapped by cookie reply decoding errors.
var ErrCookieReply = errors.New("protocol: malformed cookie reply")

// HelloExt is what a client of this implementation adds to its
// CLIENT_HELLO: that it understands cookie replies, and the cookie the
// server gave it, if any.
type HelloExt struct {
	// Cookies: the client understands cookie replies.
	Cookies bool
	// Messages: the client speaks extension messages (ext.go): it acks
	// often enough for a wide send window and takes ordered messages.
	Messages bool
	// Cookie is the server's cookie, all zeros when the client has none.
	Cookie [CookieSize]byte
}

// HasCookie reports whether e carries a cookie.
func (e HelloExt) HasCookie() bool { return e.Cookie != [CookieSize]byte{} }

// PutHelloExt writes e at the start of a hello's padding, which must hold
// at least HelloExtSize bytes.
func PutHelloExt(padding []byte, e HelloExt) {
	_ = padding[HelloExtSize-1]
	copy(padding, helloExtMagic[:])
	padding[4] = helloExtVersion
	padding[5] = 0
	if e.Cookies {
		padding[5] |= helloExtCookies
	}
	if e.Messages {
		padding[5] |= helloExtMessages
	}
	copy(padding[6:], e.Cookie[:])
}

// ParseHelloExt reads the extension at the start of a hello's padding; ok
// is false when there is none (a reference client's random padding).
func ParseHelloExt(padding []byte) (e HelloExt, ok bool) {
	if len(padding) < HelloExtSize || [4]byte(padding[:4]) != helloExtMagic || padding[4] != helloExtVersion {
		return HelloExt{}, false
	}
	e.Cookies = padding[5]&helloExtCookies != 0
	e.Messages = padding[5]&helloExtMessages != 0
	copy(e.Cookie[:], padding[6:HelloExtSize])
	return e, true
}

// AppendCookieReply appends a cookie reply body to b.
func AppendCookieReply(b []byte, cookie [CookieSize]byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(CookieReplyID))
	return append(b, cookie[:]...)
}

// IsCookieReply reports whether a SERVER_HELLO-typed message body is a
// cookie reply rather than a server hello.
func IsCookieReply(body []byte) bool {
	return len(body) >= 2 && serial.TypeID(binary.BigEndian.Uint16(body)) == CookieReplyID
}

// ParseCookieReply returns the cookie of a cookie reply body.
func ParseCookieReply(body []byte) ([CookieSize]byte, error) {
	var c [CookieSize]byte
	if len(body) != CookieReplyBodySize || !IsCookieReply(body) {
		return c, ErrCookieReply
	}
	copy(c[:], body[2:])
	if c == [CookieSize]byte{} {
		return c, ErrCookieReply
	}
	return c, nil
}
