package protocol_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/serial"
	"github.com/mpgs/mpgameserver/internal/vectors"
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
		// cost: parsing (and refusing) any datagram allocates nothing, and
		// so does encoding a header into room enough
		room := make([]byte, 0, protocol.HeaderSize)
		if c := pureCost(func() {
			_, _ = protocol.ParseHeader(data)
			_, _ = protocol.ParseHeaderFrom(data, protocol.ToServer)
			_, _ = protocol.ParseHeaderFrom(data, protocol.ToClient)
			if err == nil {
				room = h.AppendTo(room[:0])
				h.Put(room)
			}
		}); c.Mallocs != 0 {
			t.Fatalf("parsing %d bytes (error %v) cost %v", len(data), err, c)
		}
		if err != nil {
			// the static errors, returned as they are
			require.True(t, err == protocol.ErrShortHeader || err == protocol.ErrBadMagic ||
				err == protocol.ErrPacketType, "unexpected error %v", err)
			_, err2 := protocol.ParseHeaderFrom(data, protocol.ToServer)
			require.Equal(t, err, err2)
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
		require.Equal(t, data[:protocol.HeaderSize], room)
		require.Equal(t, data[:protocol.NonceSize], protocol.Nonce(data))

		got, err := protocol.ParseHeaderFrom(data, h.Direction)
		require.NoError(t, err)
		require.Equal(t, h, got)
		other := protocol.ToClient
		if h.Direction == protocol.ToClient {
			other = protocol.ToServer
		}
		_, err = protocol.ParseHeaderFrom(data, other)
		require.Equal(t, protocol.ErrDirection, err)
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
		for calls := 1; ; calls++ {
			// work: one step per record, and the count field bounds them
			if calls > int(count)+1 {
				t.Fatalf("Next called %d times for a count of %d", calls, count)
			}
			m, ok := r.Next()
			if !ok {
				break
			}
			require.LessOrEqual(t, len(m.Body), len(payload))
			require.Equal(t, len(m.Body), cap(m.Body))
			total += len(m.Body)
			ms = append(ms, m)
		}
		// cost: a valid payload is checked, read and re-encoded (into room
		// enough) without allocating; a refusal formats one error, whatever
		// the payload's size or its length fields say
		enc := make([]byte, 0, len(payload))
		c := pureCost(func() {
			_ = protocol.ValidatePayload(ht, count, payload)
			if err == nil {
				var r protocol.PayloadReader
				r.Reset(ht, count, payload)
				for _, ok := r.Next(); ok; _, ok = r.Next() {
				}
				enc, _ = protocol.AppendPayload(enc[:0], ms)
			}
		})
		// the reader and the validator agree
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a %d-byte payload cost %v", len(payload), c)
			}
			require.ErrorIs(t, err, protocol.ErrPayload)
			require.ErrorIs(t, r.Err(), protocol.ErrPayload)
			require.Less(t, len(ms), max(int(count), 1))
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("a valid %d-byte payload of %d messages cost %v", len(payload), count, c)
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
		// cost: parsing allocates nothing (the key and the padding alias
		// the body), and neither do reading the extension nor encoding
		// into room enough; a refusal formats one error
		var pad int
		buf := make([]byte, 0, protocol.ClientHelloBodySize)
		if err == nil {
			pad = protocol.ClientHelloPaddingLen(len(m.PublicKey), m.Version)
			require.GreaterOrEqual(t, pad, 0)
		}
		c := pureCost(func() {
			_, _ = protocol.ParseClientHello(body)
			if err == nil {
				_, _ = protocol.ParseHelloExt(m.Padding)
				if len(m.Padding) == pad {
					buf, _ = protocol.AppendClientHello(buf[:0], m, m.Padding)
				}
			}
		})
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a %d-byte hello cost %v", len(body), c)
			}
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Zero(t, m.Version)
			require.Nil(t, m.PublicKey)
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("a valid hello cost %v", c)
		}
		require.GreaterOrEqual(t, len(body), protocol.ClientHelloBodySize)
		if canonical(body, 2, "bi") {
			require.True(t, bytes.Equal(body[:protocol.ClientHelloBodySize], buf), "the key, version and padding re-encode as they are")
			// canonical: the first 1412 bytes re-encode exactly
			used := protocol.ClientHelloBodySize - pad
			require.Equal(t, body[used:protocol.ClientHelloBodySize], m.Padding)
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
		// cost: parsing allocates nothing (the fields alias the body),
		// nor does encoding into room enough; a refusal formats one error
		enc := make([]byte, 0, len(body))
		c := pureCost(func() {
			_, _ = protocol.ParseServerHello(body)
			if err == nil {
				enc = protocol.AppendServerHello(enc[:0], m)
			}
		})
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a %d-byte server hello cost %v", len(body), c)
			}
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Equal(t, protocol.ServerHello{}, m)
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("a valid %d-byte server hello cost %v", len(body), c)
		}
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
		// cost: as for the server hello
		enc := make([]byte, 0, len(b)+16) // a token may re-encode wider
		c := pureCost(func() {
			_, _ = protocol.ParseSignedPayload(b)
			if err == nil {
				enc = protocol.AppendSignedPayload(enc[:0], p)
			}
		})
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a %d-byte signed payload cost %v", len(b), c)
			}
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Equal(t, protocol.SignedPayload{}, p)
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("a valid %d-byte signed payload cost %v", len(b), c)
		}
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
		// cost: as for the server hello
		enc := make([]byte, 0, 32)
		c := pureCost(func() {
			_, _ = protocol.ParseChallengeResponse(body)
			if err == nil {
				enc = protocol.AppendChallengeResponse(enc[:0], tok)
			}
		})
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a %d-byte challenge response cost %v", len(body), c)
			}
			require.ErrorIs(t, err, protocol.ErrHandshake)
			require.Zero(t, tok)
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("a valid challenge response cost %v", c)
		}
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
		// cost: parsing allocates nothing (the data aliases the body); a
		// refusal formats one error, whatever the count or index say
		c := pureCost(func() { _, _, _ = protocol.ParseFragment(body) })
		if err != nil {
			if !c.Within(errCost) {
				t.Fatalf("refusing a fragment cost %v", c)
			}
			require.True(t, errors.Is(err, protocol.ErrFragmentShort) || errors.Is(err, protocol.ErrFragmentCount) ||
				errors.Is(err, protocol.ErrFragmentIndex), "unexpected error %v", err)
			require.Nil(t, data)
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("parsing a fragment cost %v", c)
		}
		require.GreaterOrEqual(t, h.Count, uint16(1))
		require.LessOrEqual(t, h.Count, uint16(protocol.MaxFragments))
		require.GreaterOrEqual(t, h.Index, uint16(1))
		require.LessOrEqual(t, h.Index, h.Count)
		require.Len(t, data, len(body)-protocol.FragmentHeaderSize)
		require.Equal(t, body, protocol.AppendFragment(nil, h, data))

		// a fragment alone never makes the reassembler hold more than a
		// small, count-independent amount, and what it allocates is what
		// it charges (up to the allocator's rounding and the map, made
		// once)
		var r protocol.Reassembler
		var msg []byte
		c = onceCost(func() { msg, _, err = r.Add(t0, 1, body) })
		require.NoError(t, err)
		if h.Count == 1 {
			require.Equal(t, data, msg)
			require.Zero(t, r.Held())
			require.Zero(t, r.Pending())
			if c.Mallocs > 1 || c.Bytes > uint64(len(data))+sizeClassSlack(len(data)) {
				t.Fatalf("a %d-byte single fragment cost %v", len(data), c)
			}
		} else {
			require.Nil(t, msg)
			require.Equal(t, 1, r.Pending())
			require.LessOrEqual(t, r.Held(), len(data)+2048)
			if c.Mallocs > 6 || c.Bytes > uint64(r.Held())+sizeClassSlack(len(data))+256 {
				t.Fatalf("fragment %d/%d of %d bytes cost %v, charged %d", h.Index, h.Count, len(data), c, r.Held())
			}
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
	f.Add(reassemblerOps(fragBody(1, 1, 2, nil), fragBody(2, 1, 2, nil), fragBody(3, 1, 2, nil),
		fragBody(4, 1, 2, nil), fragBody(5, 1, 2, nil), fragBody(5, 1, 2, nil)))

	const limit, maxMsg, maxPartial = 2048, 600, 4
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 512 {
			// long inputs add little but make the fuzzer's (quadratic)
			// minimizer crawl
			return
		}
		r := protocol.Reassembler{Limit: limit, MaxMessage: maxMsg, Idle: time.Second, MaxPartial: maxPartial}
		now := t0
		seq := protocol.Seq(0)
		measured := 0
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
				if again := r.Expire(now); again != 0 {
					t.Fatalf("op %d: Expire left %d expired messages", op, again)
				}
			} else {
				body := ops[:min(n, len(ops))]
				ops = ops[len(body):]
				seq = seq.Next()
				held, pending, swept := r.Held(), r.Pending(), protocol.LastSweepForTest(&r)
				msg, msgSeq, err := r.Add(now, seq, body)
				checkSweep(t, op, swept, protocol.LastSweepForTest(&r), now)
				switch {
				case err != nil:
					if msg != nil || r.Held() > held || r.Pending() > pending {
						t.Fatalf("op %d: rejected fragment changed state: held %d -> %d, pending %d -> %d (%v)",
							op, held, r.Held(), pending, r.Pending(), err)
					}
					if measured < 4 {
						// refusing it again changes nothing: measure that
						measured++
						checkRefusalCost(t, op, err, pureCost(func() { _, _, _ = r.Add(now, seq, body) }))
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
			if r.Held() < 0 || r.Held() > limit || r.Pending() > maxPartial || (r.Pending() == 0) != (r.Held() == 0) {
				t.Fatalf("op %d: held %d (limit %d) with %d pending (limit %d)", op, r.Held(), limit, r.Pending(), maxPartial)
			}
		}
		// everything expires eventually
		r.Expire(now.Add(time.Hour))
		require.Zero(t, r.Pending())
		require.Zero(t, r.Held())
	})
}

// checkSweep checks that an Add that looked at every partial message (its
// sweep moved from before to after) did so at least ExpireGap after the
// last time, unless the clock went back: refused fragments cost at most one
// sweep of MaxPartial entries per gap.
func checkSweep(t *testing.T, op int, before, after, now time.Time) {
	if after.Equal(before) || before.IsZero() || now.Before(before) {
		return
	}
	if gap := now.Sub(before); gap < protocol.ExpireGapForTest {
		t.Fatalf("op %d: swept %v after the last sweep", op, gap)
	}
}

// checkRefusalCost checks what refusing a fragment cost: nothing for the
// refusals a peer can repeat at will (a full reassembler, too many
// partial messages, a duplicate), one formatted error for the others.
func checkRefusalCost(t *testing.T, op int, err error, c cost) {
	switch err {
	case protocol.ErrReassemblyFull, protocol.ErrTooManyPartial, protocol.ErrDuplicateFragment:
		if c.Mallocs != 0 {
			t.Fatalf("op %d: refusing a fragment (%v) cost %v", op, err, c)
		}
	default:
		if !errors.Is(err, protocol.ErrFragmentShort) && !errors.Is(err, protocol.ErrFragmentCount) &&
			!errors.Is(err, protocol.ErrFragmentIndex) && !errors.Is(err, protocol.ErrFragmentMismatch) &&
			!errors.Is(err, protocol.ErrMessageTooLarge) {
			t.Fatalf("op %d: unexpected error %v", op, err)
		}
		if !c.Within(errCost) {
			t.Fatalf("op %d: refusing a fragment (%v) cost %v", op, err, c)
		}
	}
}

// stepDurations are the clock steps of FuzzReassemblerSteps: around the
// sweep gap (10 ms), the idle time, and the age limit of short messages
// (1 s + 0.5 s per fragment).
var stepDurations = [16]time.Duration{
	0, time.Millisecond, 3 * time.Millisecond, 9 * time.Millisecond, 10 * time.Millisecond,
	11 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond,
	time.Second, 1500 * time.Millisecond, 2500 * time.Millisecond, 5 * time.Second,
	6 * time.Second, 30 * time.Second, time.Hour,
}

// stepSizes are the data sizes of size bytes 0xf0..0xff.
var stepSizes = [16]int{1024, 1025, 897, 1428, 1429, 2000, 4096, 599, 600, 601, 3000, 3001, 65, 63, 64, 1}

// reasmStep is one step of FuzzReassemblerSteps: an Add of body (whose
// sub-header h may be invalid) with message seq seq, or an Expire.
type reasmStep struct {
	expire bool
	now    time.Time
	seq    protocol.Seq
	h      protocol.FragmentHeader
	data   []byte
	body   []byte
}

// reasmConfig decodes the configuration byte of FuzzReassemblerSteps.
func reasmConfig(b byte) (r protocol.Reassembler, bud *budget, limit, maxPartial int) {
	limit = [4]int{2048, 8192, 64 << 10, 0}[b&3]
	maxPartial = [4]int{1, 3, 8, 0}[b>>2&3]
	r = protocol.Reassembler{
		Limit:      limit,
		MaxPartial: maxPartial,
		MaxMessage: [4]int{600, 3000, 20000, 0}[b>>4&3],
	}
	if b&0x40 != 0 {
		r.Idle = 300 * time.Millisecond
	}
	if b&0x80 != 0 {
		bud = &budget{left: 6000}
		r.Budget = bud
	}
	if limit == 0 {
		limit = protocol.DefaultReassemblyLimit
	}
	if maxPartial == 0 {
		maxPartial = protocol.DefaultMaxPartial
	}
	return r, bud, limit, maxPartial
}

// reasmSteps decodes the steps of FuzzReassemblerSteps, 5 bytes each:
//
//	ctl   bits 0-3 clock step (stepDurations), bit 4 the clock goes back
//	      instead, bit 5 the body is cut short, bit 7 Expire instead of Add
//	id    fragment id: bits 0-3, plus 65520 when bit 7 is set
//	index 1 + index%count (bit 7 clear); index&0x3f (bits 7-6 = 10);
//	      count - index&0x3f (bits 7-6 = 11)
//	count 1 + count%8 (bit 7 clear); 8192 - count&0x3f (bits 7-6 = 10);
//	      0, 8193, 65535 or 64..79 (bits 7-6 = 11)
//	size  data bytes: 6*size below 0xf0, else stepSizes
//
// The data of step i is a pattern of i, so that every fragment differs.
func reasmSteps(in []byte) []reasmStep {
	now := t0
	var steps []reasmStep
	seq := protocol.Seq(0)
	for i := 0; len(in) >= 5; i++ {
		ctl, id, index, count, size := in[0], in[1], in[2], in[3], in[4]
		in = in[5:]
		if ctl&0x10 != 0 {
			now = now.Add(-stepDurations[ctl&0x0f])
		} else {
			now = now.Add(stepDurations[ctl&0x0f])
		}
		if ctl&0x80 != 0 {
			steps = append(steps, reasmStep{expire: true, now: now})
			continue
		}
		var h protocol.FragmentHeader
		h.ID = protocol.Seq(id & 0x0f)
		if id&0x80 != 0 {
			h.ID += 65520
		}
		switch count >> 6 {
		case 0, 1:
			h.Count = 1 + uint16(count%8)
		case 2:
			h.Count = protocol.MaxFragments - uint16(count&0x3f)
		default:
			h.Count = [4]uint16{0, protocol.MaxFragments + 1, 65535, 64 + uint16(count>>2&0x0f)}[count&3]
		}
		switch index >> 6 {
		case 0, 1:
			h.Index = 1 + uint16(index)%max(h.Count, 1)
		case 2:
			h.Index = uint16(index & 0x3f)
		default:
			h.Index = h.Count - uint16(index&0x3f)
		}
		n := 6 * int(size)
		if size >= 0xf0 {
			n = stepSizes[size&0x0f]
		}
		data := make([]byte, n)
		for j := range data {
			data[j] = byte((i+1)*131 + j*7)
		}
		body := protocol.AppendFragment(nil, h, data)
		if ctl&0x20 != 0 {
			body = body[:int(size)%(protocol.FragmentHeaderSize+1)]
			data = body[min(len(body), protocol.FragmentHeaderSize):]
		}
		seq = seq.Next()
		steps = append(steps, reasmStep{now: now, seq: seq, h: h, data: data, body: body})
	}
	return steps
}

// FuzzReassemblerSteps drives a Reassembler through a sequence of Adds
// (ids, indexes, counts, sizes and clock steps chosen by the input) and
// Expires. After every step the memory held stays within Limit (and what
// the Budget lent), the partial messages within MaxPartial; a completed
// message is the concatenation of the last fragments accepted for its id;
// sweeps happen at most once per 10 ms; refusals a peer can repeat at will
// allocate nothing. Over the whole sequence, the bytes allocated are
// bounded by a small multiple of the data the fragments carried plus a
// constant per step, whatever counts they claimed.
func FuzzReassemblerSteps(f *testing.F) {
	rec := func(ctl, id, index, count, size byte) []byte { return []byte{ctl, id, index, count, size} }
	join := func(cfg byte, recs ...[]byte) []byte {
		b := []byte{cfg}
		for _, r := range recs {
			b = append(b, r...)
		}
		return b
	}
	// a 3-fragment message in order, out of order, with a duplicate
	f.Add(join(0x03, rec(0, 1, 0, 2, 10), rec(0, 1, 1, 2, 10), rec(0, 1, 2, 2, 3)))
	f.Add(join(0x03, rec(1, 1, 2, 2, 10), rec(1, 1, 0, 2, 10), rec(1, 1, 0, 2, 10), rec(1, 1, 1, 2, 3)))
	// a count mismatch, then the message completes
	f.Add(join(0x00, rec(0, 2, 0, 1, 5), rec(0, 2, 1, 2, 5), rec(0, 2, 1, 1, 5)))
	// more partial messages than allowed, within and past the sweep gap
	f.Add(join(0x04, rec(0, 1, 0, 3, 1), rec(0, 2, 0, 3, 1), rec(0, 3, 0, 3, 1), rec(0, 4, 0, 3, 1),
		rec(1, 5, 0, 3, 1), rec(4, 6, 0, 3, 1), rec(12, 7, 0, 3, 1)))
	// huge counts, tiny data; then the memory limit
	f.Add(join(0x08, rec(0, 1, 0xc0, 0x80, 0), rec(0, 2, 0xc1, 0x80, 0), rec(0, 3, 0, 0x80, 0xf3),
		rec(0, 4, 0, 0x80, 0xf3), rec(0, 5, 0, 0x80, 0xf3)))
	// a message expires half-way, the id starts again
	f.Add(join(0x40, rec(0, 1, 0, 1, 20), rec(9, 1, 1, 1, 20), rec(0, 1, 1, 1, 20), rec(0x80, 0, 0, 0, 0), rec(0, 1, 0, 1, 20)))
	// invalid sub-headers and short bodies
	f.Add(join(0x00, rec(0, 1, 0x80, 0xc0, 1), rec(0, 1, 0xbf, 0x01, 1), rec(0x20, 1, 0, 1, 1), rec(0, 1, 0, 0xc1, 1)))
	// the budget runs out; the clock goes back
	f.Add(join(0x83, rec(0, 1, 0, 7, 0xf0), rec(0, 1, 1, 7, 0xf0), rec(0, 1, 2, 7, 0xf0), rec(0, 1, 3, 7, 0xf0),
		rec(0, 1, 4, 7, 0xf0), rec(0, 1, 5, 7, 0xf0), rec(0x17, 2, 0, 1, 0xf0), rec(0, 2, 0, 1, 0xf0)))
	// maximum sizes and a bitmap crossing a word
	f.Add(join(0x3b, rec(0, 0x81, 0, 0xc3, 0xf6), rec(0, 0x81, 0xc0, 0xc3, 0xf6), rec(0, 0x81, 63, 0xc3, 0xf6)))

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 1 || len(in) > 1+5*128 {
			return
		}
		r, bud, limit, maxPartial := reasmConfig(in[0])
		maxMsg := r.MaxMessage
		if maxMsg == 0 {
			maxMsg = protocol.MaxMessageSize
		}
		steps := reasmSteps(in[1:])
		// last[id, index]: the step of the last fragment accepted for it
		last := map[[2]uint16]int{}
		measured := 0
		for i, st := range steps {
			if st.expire {
				pending := r.Pending()
				dropped := r.Expire(st.now)
				if dropped < 0 || r.Pending() != pending-dropped {
					t.Fatalf("step %d: Expire dropped %d, pending %d -> %d", i, dropped, pending, r.Pending())
				}
				if again := r.Expire(st.now); again != 0 {
					t.Fatalf("step %d: Expire left %d expired messages", i, again)
				}
			} else {
				held, pending, swept := r.Held(), r.Pending(), protocol.LastSweepForTest(&r)
				msg, msgSeq, err := r.Add(st.now, st.seq, st.body)
				checkSweep(t, i, swept, protocol.LastSweepForTest(&r), st.now)
				switch {
				case err != nil:
					if msg != nil || r.Held() > held || r.Pending() > pending {
						t.Fatalf("step %d: refused fragment changed state: held %d -> %d, pending %d -> %d (%v)",
							i, held, r.Held(), pending, r.Pending(), err)
					}
					if measured < 4 {
						measured++
						checkRefusalCost(t, i, err, pureCost(func() { _, _, _ = r.Add(st.now, st.seq, st.body) }))
					}
				case msg != nil:
					last[[2]uint16{uint16(st.h.ID), st.h.Index}] = i
					checkCompleted(t, steps, last, i, msg, msgSeq)
					if len(msg) > maxMsg || r.Pending() > pending {
						t.Fatalf("step %d: completed a message of %d bytes, pending %d -> %d", i, len(msg), pending, r.Pending())
					}
				default:
					last[[2]uint16{uint16(st.h.ID), st.h.Index}] = i
					if r.Held() <= 0 || r.Pending() == 0 {
						t.Fatalf("step %d: incomplete fragment not held (held %d, pending %d)", i, r.Held(), r.Pending())
					}
				}
			}
			if r.Held() < 0 || r.Held() > limit || r.Pending() > maxPartial || (r.Pending() == 0) != (r.Held() == 0) {
				t.Fatalf("step %d: held %d (limit %d), %d partial messages (limit %d)", i, r.Held(), limit, r.Pending(), maxPartial)
			}
			if bud != nil && bud.lent != r.Held() {
				t.Fatalf("step %d: held %d, the budget lent %d", i, r.Held(), bud.lent)
			}
		}
		latest := t0 // the clock may have gone back
		for _, st := range steps {
			if st.now.After(latest) {
				latest = st.now
			}
		}
		r.Expire(latest.Add(2 * time.Hour))
		require.Zero(t, r.Pending())
		require.Zero(t, r.Held())
		if bud != nil {
			require.Zero(t, bud.lent)
		}

		// cost: the same steps again on a fresh reassembler, measured as a
		// whole
		r2, _, _, _ := reasmConfig(in[0])
		var allowed cost
		for _, st := range steps {
			allowed.Mallocs += errCost.Mallocs
			allowed.Bytes += errCost.Bytes + 3*uint64(len(st.body)) + 2*sizeClassSlack(len(st.body))
		}
		// the map of partial messages, grown (and rehashed) up to MaxPartial
		allowed.Mallocs += 64
		allowed.Bytes += 32 << 10
		c := onceCost(func() {
			for _, st := range steps {
				if st.expire {
					r2.Expire(st.now)
				} else {
					_, _, _ = r2.Add(st.now, st.seq, st.body)
				}
			}
		})
		if !c.Within(allowed) {
			t.Fatalf("%d steps cost %v, more than %v", len(steps), c, allowed)
		}
	})
}

// checkCompleted checks a message completed at step i: it is the data of
// the last fragments accepted for its id, in index order, each with the
// count of the one that completed it, and it carries the seq of its
// first fragment.
func checkCompleted(t *testing.T, steps []reasmStep, last map[[2]uint16]int, i int, msg []byte, msgSeq protocol.Seq) {
	h := steps[i].h
	var want []byte
	for index := uint16(1); index <= h.Count; index++ {
		j, ok := last[[2]uint16{uint16(h.ID), index}]
		if !ok || steps[j].h.Count != h.Count {
			t.Fatalf("step %d: completed message %d of %d fragments without fragment %d", i, h.ID, h.Count, index)
		}
		want = append(want, steps[j].data...)
	}
	if !bytes.Equal(msg, want) {
		t.Fatalf("step %d: message %d is %d bytes, not the %d bytes of its fragments", i, h.ID, len(msg), len(want))
	}
	if first := steps[last[[2]uint16{uint16(h.ID), 1}]].seq; msgSeq != first {
		t.Fatalf("step %d: message seq %d, its first fragment had %d", i, msgSeq, first)
	}
	for index := uint16(1); index <= h.Count; index++ {
		delete(last, [2]uint16{uint16(h.ID), index})
	}
}

// filterSeq returns the seq an operation of FuzzSeqFilter stands for,
// from its kind and value, near the filter's newest number.
func filterSeq(kind byte, v uint16, newest uint64, width, ahead int, used []protocol.Seq) protocol.Seq {
	base := protocol.SeqOf(max(newest, 1))
	switch kind & 7 {
	case 0:
		return protocol.Seq(v) // anything, 0 included
	case 1:
		return base.Add(int(int16(v)))
	case 3:
		return base.Add(ahead + int(int8(v))) // around the furthest step accepted
	case 4:
		return base.Add(-width + int(int8(v))) // around the oldest remembered
	case 5:
		if len(used) > 0 {
			return used[int(v)%len(used)] // a replay
		}
	}
	return base.Add(int(int8(v)))
}

// FuzzSeqFilter checks a SeqFilter against the model of filter_test.go
// (every number accepted, in a map) for any width, ahead and sequence of
// seqs, and bounds its cost: the bitmap is at most twice the words the
// width needs, an Accept clears only the words the window moves over (at
// most the whole bitmap), and no operation allocates.
func FuzzSeqFilter(f *testing.F) {
	ops := func(kvs ...uint32) []byte {
		var b []byte
		for _, kv := range kvs {
			b = append(b, byte(kv>>16), byte(kv>>8), byte(kv))
		}
		return b
	}
	f.Add(uint16(1024), uint16(16384), ops(0x000001, 0x020001, 0x020002, 0x02fffe, 0x020000, 0x0a0005, 0x050000))
	f.Add(uint16(64), uint16(100), ops(0x00fff0, 0x0300ff, 0x030001, 0x040000, 0x0400ff, 0x010800, 0x050001))
	f.Add(uint16(0), uint16(0), ops(0x000005, 0x020001, 0x020000, 0x0200ff, 0x030001, 0x100000))
	f.Add(uint16(5000), uint16(16384), ops(0x000001, 0x030000, 0x030000, 0x040010, 0x0c0000, 0x050000))
	f.Add(uint16(32766), uint16(32766), ops(0x00ffff, 0x030000, 0x040000, 0x000000, 0x057fff))

	f.Fuzz(func(t *testing.T, width, ahead uint16, in []byte) {
		if len(in) > 3*256 {
			return
		}
		w, a := 1+int(width)%32767, 1+int(ahead)%32767
		filt := protocol.NewSeqFilter(w, a)
		words, stored := protocol.FilterWordsForTest(filt)
		// memory: the ring holds the window and less than as much again;
		// and stores no more
		if words*64 < w+64 || words*64 >= 2*(w+64) || stored != words {
			t.Fatalf("width %d: %d words in use, %d stored", w, words, stored)
		}
		m := &model{seen: map[uint64]bool{}, width: uint64(w), ahead: a}
		var used []protocol.Seq
		for op := 0; len(in) >= 3; op++ {
			kind, v := in[0], binary.BigEndian.Uint16(in[1:])
			in = in[3:]
			s := filterSeq(kind, v, m.newest, w, a, used)
			used = append(used, s)
			wantN, want := m.check(s)
			if s == 0 {
				wantN, want = 0, protocol.Stale // no sender produces seq 0
			}
			gotN, got := filt.Check(s)
			if got != want || gotN != wantN {
				t.Fatalf("op %d: seq %d (newest %d): got %v %d, want %v %d", op, s, m.newest, got, gotN, want, wantN)
			}
			if filt.Contains(s) != (want == protocol.Duplicate) {
				t.Fatalf("op %d: Contains(%d) with verdict %v", op, s, want)
			}
			if kind&0x10 != 0 {
				continue // a look only
			}
			if got == protocol.Fresh {
				// work: the words the window moves over (the whole store
				// when it moves round the ring); the word of n is not
				// cleared
				moved := stored
				if newest := filt.Newest(); newest != 0 {
					moved = 0
					if gotN > newest {
						moved = int(gotN>>6 - newest>>6)
					}
					if moved >= words {
						moved = stored
					}
				}
				if cleared := protocol.AcceptTouchesForTest(filt, gotN); cleared > moved {
					t.Fatalf("op %d: accepting %d (newest %d) cleared %d words, the window moved over %d",
						op, gotN, filt.Newest(), cleared, moved)
				}
				m.accept(gotN)
			}
			if kind&8 != 0 {
				if v := filt.Insert(s); v != got {
					t.Fatalf("op %d: Insert(%d) = %v, Check said %v", op, s, v, got)
				}
			} else if got == protocol.Fresh {
				filt.Accept(gotN)
			}
			if filt.Newest() != m.newest {
				t.Fatalf("op %d: newest %d, want %d", op, filt.Newest(), m.newest)
			}
		}
		// cost: the whole sequence again on a fresh filter allocates at
		// most its bitmap, once
		c := pureCost(func() {
			var g protocol.SeqFilter
			g.Init(w, a)
			for _, s := range used {
				g.Insert(s)
				g.Contains(s)
			}
		})
		if c.Mallocs > 1 || c.Bytes > uint64(words*8)+sizeClassSlack(words*8) {
			t.Fatalf("width %d: %d operations cost %v", w, len(used), c)
		}
	})
}

// FuzzHelloExt fuzzes what a hello's padding and a SERVER_HELLO-typed
// body may be read as: a hello extension, a cookie reply. Reading either
// allocates nothing, a refusal is the static error, and what is accepted
// re-encodes as it came (but for the extension's unknown flag bits).
func FuzzHelloExt(f *testing.F) {
	var cookie [protocol.CookieSize]byte
	for i := range cookie {
		cookie[i] = byte(i + 1)
	}
	ext := func(e protocol.HelloExt, extra int) []byte {
		b := make([]byte, protocol.HelloExtSize+extra)
		protocol.PutHelloExt(b, e)
		return b
	}
	f.Add(ext(protocol.HelloExt{Cookies: true}, 8))
	f.Add(ext(protocol.HelloExt{Cookies: true, Cookie: cookie}, 0))
	f.Add(ext(protocol.HelloExt{}, 1))
	f.Add(protocol.AppendCookieReply(nil, cookie))
	f.Add(protocol.AppendCookieReply(nil, [protocol.CookieSize]byte{}))
	f.Add([]byte(loadHandshake(f).ClientHello.Padding[:32]))
	f.Add([]byte{0, byte(protocol.CookieReplyID)})

	f.Fuzz(func(t *testing.T, b []byte) {
		var (
			e       protocol.HelloExt
			ok      bool
			isReply bool
			got     [protocol.CookieSize]byte
			err     error
			put     [protocol.HelloExtSize]byte
		)
		reply := make([]byte, 0, protocol.CookieReplyBodySize)
		c := pureCost(func() {
			e, ok = protocol.ParseHelloExt(b)
			isReply = protocol.IsCookieReply(b)
			got, err = protocol.ParseCookieReply(b)
			if ok {
				protocol.PutHelloExt(put[:], e)
			}
			if err == nil {
				reply = protocol.AppendCookieReply(reply[:0], got)
			}
		})
		if c.Mallocs != 0 {
			t.Fatalf("reading %d bytes cost %v", len(b), c)
		}
		if ok {
			require.GreaterOrEqual(t, len(b), protocol.HelloExtSize)
			want := append([]byte(nil), b[:protocol.HelloExtSize]...)
			want[5] &= 1 // the cookies flag is the only one
			require.Equal(t, want, put[:])
			e2, ok2 := protocol.ParseHelloExt(put[:])
			require.True(t, ok2)
			require.Equal(t, e, e2)
			require.Equal(t, e.Cookie != [protocol.CookieSize]byte{}, e.HasCookie())
		} else {
			require.Equal(t, protocol.HelloExt{}, e)
			require.True(t, len(b) < protocol.HelloExtSize || string(b[:4]) != "MPGS" || b[4] != 1)
		}
		require.Equal(t, len(b) >= 2 && b[0] == 0 && b[1] == byte(protocol.CookieReplyID), isReply)
		if err != nil {
			require.Equal(t, protocol.ErrCookieReply, err)
			require.Zero(t, got)
			return
		}
		require.True(t, isReply)
		require.NotZero(t, got)
		require.Equal(t, b, reply)
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
