package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Payload errors.
var (
	ErrTooManyMessages = errors.New("protocol: more than 255 messages in one packet")
	ErrPayload         = errors.New("protocol: malformed payload")
)

// Message is one message of a packet payload. In a parsed payload Body
// aliases the decrypted packet.
type Message struct {
	Seq  Seq
	Type PacketType
	Body []byte
}

// PayloadSize returns the encoded size of msgs: their bodies plus
// Overhead(len(msgs)).
func PayloadSize(msgs []Message) int {
	n := Overhead(len(msgs))
	for i := range msgs {
		n += len(msgs[i].Body)
	}
	return n
}

// HeaderType returns the header type of a packet carrying msgs: the type of
// the first message, or KEEP_ALIVE when there are none.
func HeaderType(msgs []Message) PacketType {
	if len(msgs) == 0 {
		return TypeKeepAlive
	}
	return msgs[0].Type
}

// AppendPayload appends the payload encoding of msgs to b:
//
//	0 messages: nothing
//	1 message:  seq(u16) body            (type in the header)
//	n messages: (len(u16) seq(u16) type(u8) body) x n
//
// It fails if there are more than 255 messages or a body of a multi-message
// payload is longer than 65535 bytes.
func AppendPayload(b []byte, msgs []Message) ([]byte, error) {
	switch len(msgs) {
	case 0:
		return b, nil
	case 1:
		if len(msgs[0].Body) > 0xFFFF-2 {
			return b, fmt.Errorf("%w: message body of %d bytes overflows the length field", ErrPayload, len(msgs[0].Body))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(msgs[0].Seq))
		return append(b, msgs[0].Body...), nil
	}
	if len(msgs) > MaxMessagesPerPacket {
		return b, fmt.Errorf("%w: %d", ErrTooManyMessages, len(msgs))
	}
	for i := range msgs {
		m := &msgs[i]
		if len(m.Body) > 0xFFFF {
			return b, fmt.Errorf("%w: message body of %d bytes does not fit a record", ErrPayload, len(m.Body))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(m.Body)))
		b = binary.BigEndian.AppendUint16(b, uint16(m.Seq))
		b = append(b, byte(m.Type))
		b = append(b, m.Body...)
	}
	return b, nil
}

// A PayloadReader walks the messages of a decoded payload without
// allocating. Use Reset, then call Next until it returns false, then check
// Err. ValidatePayload checks a whole payload up front.
type PayloadReader struct {
	typ   PacketType
	count int
	buf   []byte
	off   int
	i     int
	err   error
}

// Reset prepares r to read the payload of a packet whose header says typ
// and count.
func (r *PayloadReader) Reset(typ PacketType, count uint8, payload []byte) {
	*r = PayloadReader{typ: typ, count: int(count), buf: payload}
	switch {
	case count == 0 && len(payload) != 0:
		r.err = ErrPayload // as it is: refusing allocates nothing
	case count == 1 && len(payload) < 2:
		r.err = ErrPayload // as it is: refusing allocates nothing
	}
}

// Next returns the next message. It returns false at the end of the
// payload or on an error.
func (r *PayloadReader) Next() (Message, bool) {
	if r.err != nil || r.i >= r.count {
		return Message{}, false
	}
	if r.count == 1 {
		r.i++
		r.off = len(r.buf)
		return Message{Seq: Seq(binary.BigEndian.Uint16(r.buf)), Type: r.typ, Body: r.buf[2:len(r.buf):len(r.buf)]}, true
	}
	rest := r.buf[r.off:]
	if len(rest) < 5 {
		r.err = ErrPayload // as it is: refusing allocates nothing
		return Message{}, false
	}
	n := int(binary.BigEndian.Uint16(rest))
	m := Message{Seq: Seq(binary.BigEndian.Uint16(rest[2:])), Type: PacketType(rest[4])}
	if !m.Type.Valid() {
		r.err = ErrPayload // as it is: refusing allocates nothing
		return Message{}, false
	}
	if len(rest)-5 < n {
		r.err = ErrPayload // as it is: refusing allocates nothing
		return Message{}, false
	}
	m.Body = rest[5 : 5+n : 5+n]
	r.off += 5 + n
	r.i++
	if r.i == r.count && r.off != len(r.buf) {
		r.err = ErrPayload // as it is: refusing allocates nothing
		return Message{}, false
	}
	return m, true
}

// Err returns the error that stopped Next, if any.
func (r *PayloadReader) Err() error { return r.err }

// ValidatePayload reports whether payload is a well-formed payload for a
// header with type typ and the given count: every record complete, every
// type valid, no bytes left over.
func ValidatePayload(typ PacketType, count uint8, payload []byte) error {
	var r PayloadReader
	r.Reset(typ, count, payload)
	for {
		if _, ok := r.Next(); !ok {
			break
		}
	}
	return r.Err()
}
