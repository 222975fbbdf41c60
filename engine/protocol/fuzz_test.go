package protocol_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/internal/vectors"
	"github.com/mpgs/mpgameserver/engine/protocol"
	"github.com/mpgs/mpgameserver/engine/serial"
)

// sessionSeeds returns every datagram of session.json and packets.json, each
// with its header and its plaintext payload.
func sessionSeeds(tb testing.TB) (datagrams [][]byte, headers []protocol.Header, payloads [][]byte) {
	tb.Helper()
	s := vectors.MustLoad[vectors.Session]("session.json")
	p := vectors.MustLoad[vectors.Packets]("packets.json")
	pks := append(append([]vectors.Packet(nil), p.Cases...), p.Fragmented.Packets...)
	for _, st := range s.Steps {
		pks = append(pks, st.Packet)
	}
	for _, pk := range pks {
		h, err := protocol.ParseHeader(pk.Datagram)
		require.NoError(tb, err)
		datagrams = append(datagrams, pk.Datagram)
		headers = append(headers, h)
		payloads = append(payloads, pk.Plaintext)
	}
	return datagrams, headers, payloads
}

func FuzzParseHeader(f *testing.F) {
	datagrams, _, _ := sessionSeeds(f)
	for _, d := range datagrams {
		f.Add(d[:protocol.HeaderSize])
		if len(d) < 100 {
			f.Add(d)
		}
	}
	f.Add([]byte("FSOX0000000000000000"))
	f.Add([]byte("FSOS\x00\x00\x00\x00\x00\x01\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("FSO"))

	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := protocol.ParseHeader(data)
		if err != nil {
			require.True(t, errors.Is(err, protocol.ErrShortHeader) || errors.Is(err, protocol.ErrBadMagic) ||
				errors.Is(err, protocol.ErrPacketType), "unexpected error %v", err)
			_, err2 := protocol.ParseHeaderFrom(data, protocol.ToServer)
			require.Error(t, err2)
			return
		}
		require.GreaterOrEqual(t, len(data), protocol.HeaderSize)
		require.True(t, h.Type.Valid())
		require.True(t, h.Direction == protocol.ToServer || h.Direction == protocol.ToClient)
		// the header encoding is canonical
		require.Equal(t, data[:protocol.HeaderSize], h.AppendTo(nil))
		var buf [protocol.HeaderSize]byte
		h.Put(buf[:])
		require.Equal(t, data[:protocol.HeaderSize], buf[:])
		require.Equal(t, data[:protocol.NonceSize], protocol.Nonce(data))

		got, err := protocol.ParseHeaderFrom(data, h.Direction)
		require.NoError(t, err)
		require.Equal(t, h, got)
		other := protocol.ToClient
		if h.Direction == protocol.ToClient {
			other = protocol.ToServer
		}
		_, err = protocol.ParseHeaderFrom(data, other)
		require.ErrorIs(t, err, protocol.ErrDirection)
	})
}

func FuzzPayload(f *testing.F) {
	// small seeds only: the minimizer is quadratic in the input size
	_, headers, payloads := sessionSeeds(f)
	for i, h := range headers {
		if len(payloads[i]) <= 128 {
			f.Add(uint8(h.Type), h.Count, []byte(payloads[i]))
		}
	}
	for _, ms := range multiMessagePayloads() {
		enc, err := protocol.AppendPayload(nil, ms)
		require.NoError(f, err)
		if len(enc) <= 128 {
			f.Add(uint8(protocol.HeaderType(ms)), uint8(len(ms)), enc)
		}
	}
	f.Add(uint8(protocol.TypeApp), uint8(2), []byte{0, 1, 0, 1, 6, 'x', 0, 0, 0, 2, 9})
	f.Add(uint8(protocol.TypeKeepAlive), uint8(0), []byte{})

	f.Fuzz(func(t *testing.T, typ, count uint8, payload []byte) {
		ht := protocol.PacketType(typ % 8) // the header parser admits only 0..7
		err := protocol.ValidatePayload(ht, count, payload)

		var r protocol.PayloadReader
		r.Reset(ht, count, payload)
		var ms []protocol.Message
		total := 0
		for {
			m, ok := r.Next()
			if !ok {
				break
			}
			require.LessOrEqual(t, len(m.Body), len(payload))
			require.Equal(t, len(m.Body), cap(m.Body))
			total += len(m.Body)
			ms = append(ms, m)
		}
		// the reader and the validator agree
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrPayload)
			require.ErrorIs(t, r.Err(), protocol.ErrPayload)
			require.Less(t, len(ms), max(int(count), 1))
			return
		}
		require.NoError(t, r.Err())
		require.Len(t, ms, int(count))
		require.Equal(t, len(payload), total+protocol.Overhead(len(ms)))
		if count == 1 {
			require.Equal(t, ht, ms[0].Type)
		}
		for _, m := range ms {
			require.True(t, m.Type.Valid())
		}
		// the payload encoding is canonical
		enc, err := protocol.AppendPayload(nil, ms)
		require.NoError(t, err)
		require.True(t, bytes.Equal(payload, enc), "%x re-encoded as %x", payload, enc)
		require.Equal(t, len(payload), protocol.PayloadSize(ms))
	})
}

// canonical reports whether the Serializable values in b, after skip bytes,
// use the integer widths the encoder chooses. kinds lists the values: 'b'
// for a byte string (its length is checked), 'i' for an integer.
func canonical(b []byte, skip int, kinds string) bool {
	r := serial.NewReader(b[skip:])
	for _, k := range kinds {
		rest := r.Remaining()
		switch k {
		case 'b':
			if len(rest) < 4 {
				return false
			}
			id := serial.TypeID(binary.BigEndian.Uint16(rest[2:]))
			v := r.Bytes()
			if r.Err() != nil || serial.IntType(int64(len(v))) != id {
				return false
			}
		case 'i':
			if len(rest) < 2 {
				return false
			}
			id := serial.TypeID(binary.BigEndian.Uint16(rest))
			v := r.Int()
			if r.Err() != nil || serial.IntType(v) != id {
				return false
			}
		}
	}
	return true
}

// FuzzClientHello fuzzes the structured head of a hello (type id, key,
// version) and lets the harness add the padding: the fuzzer's minimizer is
// quadratic in the input size, which makes 1412-byte inputs crawl. size
// selects the body length: 1404..1419 bytes, or (high bit set) the head
// alone.
func FuzzClientHello(f *testing.F) {
	hs := loadHandshake(f)
	msg := []byte(hs.ClientHello.Message)
	used := protocol.ClientHelloBodySize - hs.ClientHello.PaddingLen
	f.Add(msg[:used], uint8(8))
	f.Add(msg[:used], uint8(15))
	f.Add(msg[:used], uint8(0x80))
	short := serial.AppendTypeID(nil, protocol.ClientHelloID)
	short = serial.AppendBytes(short, []byte{1, 2, 3})
	short = serial.AppendInt(short, 1)
	f.Add(short, uint8(8))
	f.Add([]byte{0, 0x82, 0, 14, 0, 8, 200, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1}, uint8(8))

	f.Fuzz(func(t *testing.T, head []byte, size uint8) {
		body := head
		if size&0x80 == 0 {
			n := protocol.ClientHelloBodySize - 8 + int(size&0x0f)
			body = append([]byte(nil), head...)
			for len(body) < n {
				body = append(body, byte(len(body)))
			}
		}
		m, err := protocol.ParseClientHello(body)
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Zero(t, m.Version)
			require.Nil(t, m.PublicKey)
			return
		}
		require.GreaterOrEqual(t, len(body), protocol.ClientHelloBodySize)
		pad := protocol.ClientHelloPaddingLen(len(m.PublicKey), m.Version)
		require.GreaterOrEqual(t, pad, 0)
		if canonical(body, 2, "bi") {
			// canonical: the first 1412 bytes re-encode exactly
			used := protocol.ClientHelloBodySize - pad
			enc, err := protocol.AppendClientHello(nil, m, body[used:protocol.ClientHelloBodySize])
			require.NoError(t, err)
			require.Equal(t, body[:protocol.ClientHelloBodySize], enc)
		}
		enc, err := protocol.AppendClientHello(nil, m, make([]byte, pad))
		require.NoError(t, err)
		require.Len(t, enc, protocol.ClientHelloBodySize)
		m2, err := protocol.ParseClientHello(enc)
		require.NoError(t, err)
		require.Equal(t, m.PublicKey, m2.PublicKey)
		require.Equal(t, m.Version, m2.Version)
		require.Len(t, m2.Padding, pad)
	})
}

func FuzzServerHello(f *testing.F) {
	hs := loadHandshake(f)
	f.Add([]byte(hs.ServerHello.Message))
	f.Add(protocol.AppendServerHello(nil, protocol.ServerHello{}))
	f.Add(protocol.AppendServerHello(nil, protocol.ServerHello{RootKey: []byte{1}, Signed: make([]byte, 200), Signature: []byte{3}}))

	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := protocol.ParseServerHello(body)
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Equal(t, protocol.ServerHello{}, m)
			return
		}
		enc := protocol.AppendServerHello(nil, m)
		if canonical(body, 2, "bbb") {
			require.Equal(t, body, enc)
		}
		m2, err := protocol.ParseServerHello(enc)
		require.NoError(t, err)
		require.Equal(t, m, m2)
	})
}

func FuzzSignedPayload(f *testing.F) {
	hs := loadHandshake(f)
	f.Add([]byte(hs.ServerHello.Signed))
	f.Add(protocol.AppendSignedPayload(nil, protocol.SignedPayload{Token: -5}))
	f.Add(protocol.AppendSignedPayload(nil, protocol.SignedPayload{PublicKey: []byte{1}, Salt: make([]byte, 16), Token: 1 << 40}))

	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := protocol.ParseSignedPayload(b)
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Equal(t, protocol.SignedPayload{}, p)
			return
		}
		enc := protocol.AppendSignedPayload(nil, p)
		if canonical(b, 0, "bbi") {
			require.Equal(t, b, enc)
		}
		p2, err := protocol.ParseSignedPayload(enc)
		require.NoError(t, err)
		require.Equal(t, p, p2)
	})
}

func FuzzChallengeResponse(f *testing.F) {
	msgs := handshakeMessages(f)
	f.Add(msgs["challenge_resp"])
	f.Add(msgs["challenge_resp_small_token"])
	f.Add(protocol.AppendChallengeResponse(nil, -1<<63))
	f.Add([]byte{0, 0x84, 0, 8, 1, 0, 10, 0xff, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := protocol.ParseChallengeResponse(body)
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Zero(t, tok)
			return
		}
		enc := protocol.AppendChallengeResponse(nil, tok)
		if canonical(body, 2, "ii") {
			require.Equal(t, body, enc)
		}
		tok2, err := protocol.ParseChallengeResponse(enc)
		require.NoError(t, err)
		require.Equal(t, tok, tok2)
	})
}

func FuzzParseFragment(f *testing.F) {
	p := vectors.MustLoad[vectors.Packets]("packets.json")
	for _, pk := range p.Fragmented.Packets {
		// the sub-header and a little data: large inputs slow the fuzzer
		f.Add([]byte(pk.Messages[0].Payload[:protocol.FragmentHeaderSize+16]))
	}
	f.Add(fragBody(1, 1, 1, nil))
	f.Add(fragBody(65535, 8192, 8192, []byte{1}))
	f.Add(fragBody(1, 0, 3, nil))
	f.Add([]byte{0, 1, 0, 1})

	f.Fuzz(func(t *testing.T, body []byte) {
		h, data, err := protocol.ParseFragment(body)
		if err != nil {
			require.True(t, errors.Is(err, protocol.ErrFragmentShort) || errors.Is(err, protocol.ErrFragmentCount) ||
				errors.Is(err, protocol.ErrFragmentIndex), "unexpected error %v", err)
			require.Nil(t, data)
			return
		}
		require.GreaterOrEqual(t, h.Count, uint16(1))
		require.LessOrEqual(t, h.Count, uint16(protocol.MaxFragments))
		require.GreaterOrEqual(t, h.Index, uint16(1))
		require.LessOrEqual(t, h.Index, h.Count)
		require.Len(t, data, len(body)-protocol.FragmentHeaderSize)
		require.Equal(t, body, protocol.AppendFragment(nil, h, data))

		// a fragment alone never makes the reassembler hold more than a
		// small, count-independent amount
		var r protocol.Reassembler
		msg, _, err := r.Add(t0, 1, body)
		require.NoError(t, err)
		if h.Count == 1 {
			require.Equal(t, data, msg)
			require.Zero(t, r.Held())
		} else {
			require.Nil(t, msg)
			require.Equal(t, 1, r.Pending())
			require.LessOrEqual(t, r.Held(), len(data)+2048)
		}
	})
}

// reassemblerOps encodes fragment bodies as FuzzReassembler reads them:
// per operation a control byte (low 4 bits: time step in 100 ms units; bit
// 7: run Expire instead of Add), a body length byte and the body.
func reassemblerOps(bodies ...[]byte) []byte {
	var b []byte
	for _, body := range bodies {
		b = append(b, 0, byte(len(body)))
		b = append(b, body...)
	}
	return b
}

func FuzzReassembler(f *testing.F) {
	msg := []byte("a message in several small fragments")
	var frags [][]byte
	for i := 0; i < 4; i++ {
		frags = append(frags, fragBody(3, uint16(i+1), 4, msg[i*9:i*9+9]))
	}
	f.Add(reassemblerOps(frags...))
	f.Add(reassemblerOps(frags[3], frags[1], frags[1], frags[0], frags[2]))
	f.Add(reassemblerOps(frags[0], fragBody(3, 2, 5, []byte("mismatch")), frags[1], frags[2], frags[3]))
	f.Add(reassemblerOps(fragBody(1, 1, 1, []byte("single")), fragBody(2, 8192, 8192, make([]byte, 200))))
	f.Add(append([]byte{0x8f, 0}, reassemblerOps(frags[0], frags[1])...))

	const limit, maxMsg = 2048, 600
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 512 {
			// long inputs add little but make the fuzzer's (quadratic)
			// minimizer crawl
			return
		}
		r := protocol.Reassembler{Limit: limit, MaxMessage: maxMsg, Idle: time.Second}
		now := t0
		seq := protocol.Seq(0)
		// plain checks rather than testify in this loop: it runs hundreds of
		// times per input
		for op := 0; len(ops) >= 2; op++ {
			ctl, n := ops[0], int(ops[1])
			ops = ops[2:]
			now = now.Add(time.Duration(ctl&0x0f) * 100 * time.Millisecond)
			if ctl&0x80 != 0 {
				pending := r.Pending()
				dropped := r.Expire(now)
				if dropped < 0 || r.Pending() != pending-dropped {
					t.Fatalf("op %d: Expire dropped %d, pending %d -> %d", op, dropped, pending, r.Pending())
				}
			} else {
				body := ops[:min(n, len(ops))]
				ops = ops[len(body):]
				seq = seq.Next()
				held, pending := r.Held(), r.Pending()
				msg, msgSeq, err := r.Add(now, seq, body)
				switch {
				case err != nil:
					if msg != nil || r.Held() > held || r.Pending() > pending {
						t.Fatalf("op %d: rejected fragment changed state: held %d -> %d, pending %d -> %d (%v)",
							op, held, r.Held(), pending, r.Pending(), err)
					}
				case msg != nil:
					if len(msg) > maxMsg || msgSeq == 0 || r.Pending() > pending {
						t.Fatalf("op %d: completed message of %d bytes, seq %d, pending %d -> %d",
							op, len(msg), msgSeq, pending, r.Pending())
					}
				default:
					if r.Held() <= 0 || r.Pending() == 0 {
						t.Fatalf("op %d: incomplete fragment not held (held %d, pending %d)", op, r.Held(), r.Pending())
					}
				}
			}
			if r.Held() < 0 || r.Held() > limit || (r.Pending() == 0) != (r.Held() == 0) {
				t.Fatalf("op %d: held %d (limit %d) with %d pending", op, r.Held(), limit, r.Pending())
			}
		}
		// everything expires eventually
		r.Expire(now.Add(time.Hour))
		require.Zero(t, r.Pending())
		require.Zero(t, r.Held())
	})
}

// TestFuzzSeeds checks that the fuzz seeds are valid encodings and that
// canonical recognises them.
func TestFuzzSeeds(t *testing.T) {
	_, headers, payloads := sessionSeeds(t)
	for i, h := range headers {
		require.NoError(t, protocol.ValidatePayload(h.Type, h.Count, payloads[i]))
	}
	hs := loadHandshake(t)
	require.True(t, canonical(hs.ClientHello.Message, 2, "bi"))
	require.True(t, canonical(hs.ServerHello.Message, 2, "bbb"))
	require.True(t, canonical(hs.ServerHello.Signed, 0, "bbi"))
	require.True(t, canonical(hs.ChallengeResp.Message, 2, "ii"))
	require.False(t, canonical([]byte{0, 0x84, 0, 4, 0, 1, 0, 3, 5}, 2, "ii"))
}
