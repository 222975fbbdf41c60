package protocol_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

func BenchmarkHeaderParse(b *testing.B) {
	h := protocol.Header{Direction: protocol.ToServer, CTime: 1700000000, Seq: 1234, Ack: 999,
		Type: protocol.TypeApp, Length: 100, Count: 1, AckBits: 0xfff00000}
	d := h.AppendTo(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.ParseHeaderFrom(d, protocol.ToServer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderPut(b *testing.B) {
	h := protocol.Header{Direction: protocol.ToServer, CTime: 1700000000, Seq: 1234, Ack: 999,
		Type: protocol.TypeApp, Length: 100, Count: 1, AckBits: 0xfff00000}
	var buf [protocol.HeaderSize]byte
	b.ReportAllocs()
	for b.Loop() {
		h.Put(buf[:])
	}
}

// benchPayloads are one 100-byte message and a full packet of 14 messages
// of 97 bytes (1428 of the 1434 payload bytes).
func benchPayloads() []struct {
	name string
	msgs []protocol.Message
} {
	full := make([]protocol.Message, 14)
	for i := range full {
		full[i] = protocol.Message{Seq: protocol.Seq(i + 1), Type: protocol.TypeApp, Body: bytes.Repeat([]byte{byte(i)}, 97)}
	}
	return []struct {
		name string
		msgs []protocol.Message
	}{
		{"1x100B", []protocol.Message{{Seq: 7, Type: protocol.TypeApp, Body: make([]byte, 100)}}},
		{"full", full},
	}
}

func BenchmarkPayloadEncode(b *testing.B) {
	for _, c := range benchPayloads() {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, protocol.MaxPayloadSize)
			b.SetBytes(int64(protocol.PayloadSize(c.msgs)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = protocol.AppendPayload(buf[:0], c.msgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPayloadParse(b *testing.B) {
	for _, c := range benchPayloads() {
		b.Run(c.name, func(b *testing.B) {
			enc, err := protocol.AppendPayload(nil, c.msgs)
			if err != nil {
				b.Fatal(err)
			}
			typ, count := protocol.HeaderType(c.msgs), uint8(len(c.msgs))
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			var r protocol.PayloadReader
			for b.Loop() {
				if err := protocol.ValidatePayload(typ, count, enc); err != nil {
					b.Fatal(err)
				}
				r.Reset(typ, count, enc)
				for {
					if _, ok := r.Next(); !ok {
						break
					}
				}
				if r.Err() != nil {
					b.Fatal(r.Err())
				}
			}
		})
	}
}

func BenchmarkWindowInsert(b *testing.B) {
	for _, n := range []int{32, 256} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			w := protocol.NewWindow(n)
			s := protocol.Seq(0)
			b.ReportAllocs()
			for b.Loop() {
				s = s.Next()
				w.Insert(s)
				w.Insert(s.Sub(3))
			}
		})
	}
}

func BenchmarkReassemble5000(b *testing.B) {
	msg := testMessage(5000, 9)
	frags := fragments(b, 1, msg)
	var r protocol.Reassembler
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		for i, f := range frags {
			out, _, err := r.Add(t0, protocol.Seq(i+1), f)
			if err != nil {
				b.Fatal(err)
			}
			if i == len(frags)-1 && len(out) != len(msg) {
				b.Fatal("incomplete")
			}
		}
	}
}
