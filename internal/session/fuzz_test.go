package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/serial"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

// fuzzReceive feeds one datagram to a connected Conn of the given role
// (keyed like the reference session, so the vector datagrams seed valid
// inputs). The mode byte says how: bit 0 clear, in is the datagram; bit 0
// set, in is a header and a payload that the harness seals with the
// session key, so that the fuzzer reaches what follows the decryption;
// mode>>4 picks the connection's settings (fuzzConfigs).
//
// Invariants: no panic; a rejected datagram changes nothing, is counted,
// and costs no allocation when it is refused as a bad header, a bad tag or
// CRC, a duplicate, a stale packet, or before the session or after the
// close, at most a
// formatted error (errCost) for a bad payload or handshake; an accepted
// datagram costs allocations bounded by its size and by the memory it
// makes the connection hold, never by what a length or count field
// claims; it delivers at most its own bytes; and the memory held stays
// within the connection's limits and equals what the Budget lent.
func fuzzReceive(f *testing.F, role Role) {
	sess := vectors.MustLoad[vectors.Session]("session.json")
	want := "to_server"
	if role == RoleClient {
		want = "to_client"
	}
	var tmpl []byte // the header of an encrypted datagram to c
	for _, st := range sess.Steps {
		if st.Direction != want {
			continue
		}
		f.Add(uint8(0), []byte(st.Datagram))
		f.Add(uint8(1), append(append([]byte(nil), st.HeaderHex...), st.Plaintext...))
		if tmpl == nil && st.Protection != "" && !protocol.PacketType(st.Header.Type).UsesCRC() {
			tmpl = append([]byte(nil), st.HeaderHex...)
		}
	}
	sealed := func(seq uint16, msgs ...protocol.Message) []byte {
		h, err := protocol.ParseHeader(tmpl)
		if err != nil {
			f.Fatal(err)
		}
		h.Seq, h.Type, h.Count = protocol.Seq(seq), protocol.HeaderType(msgs), uint8(len(msgs))
		b := h.AppendTo(nil)
		b, err = protocol.AppendPayload(b, msgs)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	frag := func(seq, id protocol.Seq, index, count uint16, n int) protocol.Message {
		body := protocol.AppendFragment(nil, protocol.FragmentHeader{ID: id, Index: index, Count: count}, bytes.Repeat([]byte{byte(index)}, n))
		return protocol.Message{Seq: seq, Type: protocol.TypeAppFragment, Body: body}
	}
	// a whole fragmented message in one packet
	whole := sealed(40, frag(100, 7, 2, 3, 50), frag(101, 7, 1, 3, 50), frag(102, 7, 3, 3, 20))
	// fragments of many messages, each claiming the most fragments
	var many []protocol.Message
	for i := 0; i < 40; i++ {
		many = append(many, frag(protocol.Seq(200+i), protocol.Seq(300+i), 1, protocol.MaxFragments, 16))
	}
	manyPartial := sealed(41, many...)
	// fragments whose counts disagree, and a duplicate
	mismatch := sealed(42, frag(110, 9, 1, 3, 10), frag(111, 9, 2, 4, 10), frag(112, 9, 1, 3, 10))
	// a DISCONNECT and an app message
	bye := sealed(43, protocol.Message{Seq: 120, Type: protocol.TypeApp, Body: []byte("last words")},
		protocol.Message{Seq: 121, Type: protocol.TypeDisconnect})
	// extension messages: caps, ordered chunks out of order, one too far
	// ahead, a bad one
	ext := func(seq protocol.Seq, body []byte) protocol.Message {
		return protocol.Message{Seq: seq, Type: protocol.TypeKeepAlive, Body: body}
	}
	chunk := func(oseq uint32, final bool, n int) []byte {
		return protocol.AppendOrdered(nil, protocol.Ordered{Seq: oseq, Final: final, Data: bytes.Repeat([]byte{byte(oseq)}, n)})
	}
	ordered := sealed(44, ext(130, protocol.AppendCaps(nil, protocol.Caps{Flags: 3})),
		ext(131, chunk(2, true, 30)), ext(132, chunk(0, false, 40)), ext(133, chunk(1, false, 50)),
		ext(134, chunk(5, true, 10)))
	farOrdered := sealed(45, ext(140, chunk(1<<20, true, 10)))
	badExt := sealed(46, ext(150, []byte{9, 9, 9}), ext(151, []byte{2, 0, 0}))
	for _, variant := range []uint8{0, 1, 2} {
		for _, in := range [][]byte{whole, manyPartial, mismatch, bye, ordered, farOrdered, badExt} {
			f.Add(variant<<4|1, in)
		}
	}
	f.Add(uint8(0), []byte("FSOS"))
	f.Add(uint8(0x21), []byte("FSOS"))

	now := time.Unix(1_700_000_000, 0)
	at := now.Add(time.Second)
	r := newReplay(f)
	// A rejected datagram changes nothing, so the next input may use the
	// same connection; an accepted one uses it up.
	var cached *fuzzConn
	f.Fuzz(func(t *testing.T, mode uint8, in []byte) {
		variant := int(mode>>4) % len(fuzzConfigs)
		p := cached
		cached = nil
		if p == nil || p.variant != variant {
			p = newFuzzConn(t, r, now, role, variant)
		}
		c := p.c
		delivered, deliveredBytes := 0, 0
		c.SetHandler(func(_ protocol.Seq, msg []byte) {
			delivered++
			deliveredBytes += len(msg)
		})
		d := in
		if mode&1 != 0 {
			d = sealInput(c, in)
		}
		checkHeld(t, c, p.budget, "before")
		before := fingerprint(c)
		drops := c.stats.Drops
		dropped := c.stats.Dropped
		held := c.Held()
		scratch := append([]byte(nil), d...) // Receive decrypts in place
		var err error
		first := onceCost(func() { err = c.Receive(at, scratch) })
		switch {
		case err == nil, errors.Is(err, conn.ErrBadMessage), errors.Is(err, conn.ErrOverBudget), errors.Is(err, conn.ErrOutOfWindow):
			// accepted: the cost grows with the datagram and with what
			// it makes the connection hold, not with what it claims
			h, _ := protocol.ParseHeader(d)
			limit := cost{
				Mallocs: 32 + 8*uint64(h.Count),
				Bytes:   16<<10 + 4*uint64(len(d)) + 2*uint64(max(0, c.Held()-held)),
			}
			if !first.Within(limit) {
				t.Fatalf("accepting a %d-byte datagram of %d messages (%v) cost %v, more than %v; held %d -> %d",
					len(d), h.Count, err, first, limit, held, c.Held())
			}
			if delivered > max(int(h.Count), 1) || deliveredBytes > len(d) {
				t.Fatalf("a %d-byte datagram of %d messages delivered %d messages, %d bytes",
					len(d), h.Count, delivered, deliveredBytes)
			}
			checkHeld(t, c, p.budget, "after")
			c.Poll(at.Add(time.Second), nil)
			checkHeld(t, c, p.budget, "after a poll")
			return
		}
		// rejected: counted once, nothing else changed
		if c.stats.Dropped != dropped+1 {
			t.Fatalf("rejected datagram not counted: %v", err)
		}
		if after := fingerprint(c); after != before {
			t.Fatalf("rejected datagram (%v) changed state:\n%s\n%s", err, before, after)
		}
		if delivered != 0 {
			t.Fatalf("rejected datagram (%v) delivered %d messages", err, delivered)
		}
		class := dropClass(drops, c.stats.Drops)
		// refusing it again changes nothing either: measure that
		again := pureCost(func() {
			copy(scratch, d)
			_ = c.Receive(at, scratch)
		})
		switch class {
		case "header", "auth", "duplicate", "stale", "no session", "closed":
			if again.Mallocs != 0 {
				t.Fatalf("refusing a %d-byte datagram (%s: %v) cost %v", len(d), class, err, again)
			}
		case "payload", "handshake":
			if !again.Within(errCost) {
				t.Fatalf("refusing a %d-byte datagram (%s: %v) cost %v", len(d), class, err, again)
			}
		default:
			t.Fatalf("rejected datagram (%v) counted as %s", err, class)
		}
		if !first.Within(errCost) {
			t.Fatalf("refusing a %d-byte datagram (%s: %v) cost %v the first time", len(d), class, err, first)
		}
		checkHeld(t, c, p.budget, "after a refusal")
		cached = p
	})
}

func FuzzServerReceive(f *testing.F) { fuzzReceive(f, RoleServer) }

func FuzzClientReceive(f *testing.F) { fuzzReceive(f, RoleClient) }

// FuzzParseHello fuzzes the check a server makes of every datagram that
// claims to be a CLIENT_HELLO, before anything else: the fuzzer chooses
// the head of the body (key and version) and the flags (helloFlags) that
// alter the datagram, and the harness fills the padding and the CRC so
// that inputs get past the CRC (see helloInput). Invariants: no panic;
// the datagram is not modified; a refusal is one of three static errors
// and allocates nothing; an accepted hello allocates nothing either, its key lies
// within the datagram where the body has it, Marked and Ext are what
// protocol.ParseHelloExt reads from the padding, and the hello re-encodes
// to a datagram that parses the same (byte for byte when the body used
// the canonical integer widths).
func FuzzParseHello(f *testing.F) {
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	msg := []byte(hs.ClientHello.Message)
	head := msg[:protocol.ClientHelloBodySize-hs.ClientHello.PaddingLen]
	for _, flags := range []uint8{0, helloExt, helloExt | helloCookie, helloBadCRC, helloToClient, helloType,
		helloCount, helloLength, helloResize} {
		f.Add(flags, uint16(hs.ClientHello.Header.Seq), head)
	}
	f.Add(uint8(helloResize), uint16(3), head)
	f.Add(uint8(helloLength), uint16(0xff00), head)
	// a key too long for the body, a version of 2, a 3-byte key
	f.Add(uint8(0), uint16(1), []byte{0, 130, 0, 14, 0, 4, 0x7f, 0xff})
	f.Add(uint8(0), uint16(1), append(append([]byte(nil), head[:len(head)-1]...), 2))
	f.Add(uint8(helloExt|helloCookie), uint16(1), []byte{0, 130, 0, 14, 0, 3, 3, 1, 2, 3, 0, 3, 1})

	f.Fuzz(func(t *testing.T, flags uint8, seq uint16, head []byte) {
		d := helloInput(flags, seq, head)
		orig := append([]byte(nil), d...)
		hl, err := ParseHello(d)
		c := pureCost(func() { _, _ = ParseHello(d) })
		if !bytes.Equal(orig, d) {
			t.Fatal("ParseHello modified the datagram")
		}
		end := protocol.HeaderSize + helloPayloadSize
		if err != nil {
			if err != conn.ErrBadHeader && err != conn.ErrHandshake && err != conn.ErrAuth {
				t.Fatalf("unexpected error %v", err)
			}
			if c.Mallocs != 0 {
				t.Fatalf("refusing a hello (%v) cost %v", err, c)
			}
			return
		}
		if c.Mallocs != 0 {
			t.Fatalf("an accepted hello cost %v", c)
		}
		h, herr := protocol.ParseHeader(d)
		if herr != nil || hl.Seq() != h.Seq || hl.size != len(d) || len(d) < end+protocol.CRCSize {
			t.Fatalf("hello seq %d size %d, datagram header %+v (%v), %d bytes", hl.Seq(), hl.size, h, herr, len(d))
		}
		if hl.msgSeq != protocol.Seq(seq^0x5555) {
			t.Fatalf("message seq %d, want %d", hl.msgSeq, seq^0x5555)
		}
		// the key lies within the datagram, where the body has it
		body := d[protocol.HeaderSize+2 : end]
		m, perr := protocol.ParseClientHello(body)
		if perr != nil || m.Version != protocol.ProtocolVersion || len(hl.Key) == 0 {
			t.Fatalf("accepted a hello whose body reads as %+v, %v", m, perr)
		}
		keyAt := uintptr(unsafe.Pointer(unsafe.SliceData(hl.Key))) - uintptr(unsafe.Pointer(unsafe.SliceData(d)))
		wantAt := uintptr(unsafe.Pointer(unsafe.SliceData(m.PublicKey))) - uintptr(unsafe.Pointer(unsafe.SliceData(d)))
		if keyAt != wantAt || int(keyAt)+len(hl.Key) > end || !bytes.Equal(hl.Key, m.PublicKey) {
			t.Fatalf("key of %d bytes at offset %d, the body has %d bytes at %d", len(hl.Key), keyAt, len(m.PublicKey), wantAt)
		}
		ext, marked := protocol.ParseHelloExt(m.Padding)
		if hl.Marked != marked || hl.Ext != ext {
			t.Fatalf("Marked %v Ext %+v, the padding reads as %v %+v", hl.Marked, hl.Ext, marked, ext)
		}
		// a clone owns its key
		cl := hl.Clone()
		if !bytes.Equal(cl.Key, hl.Key) || unsafe.SliceData(cl.Key) == unsafe.SliceData(hl.Key) {
			t.Fatal("Clone shares or changes the key")
		}
		// re-encode: the same header, message seq and key, canonical
		// widths, the padding (or a fresh one carrying the same extension)
		pad := m.Padding
		if want := protocol.ClientHelloPaddingLen(len(hl.Key), protocol.ProtocolVersion); len(pad) != want {
			pad = make([]byte, want)
			if hl.Marked && want >= protocol.HelloExtSize {
				protocol.PutHelloExt(pad, hl.Ext)
			}
		}
		re := append([]byte(nil), d[:protocol.HeaderSize+2]...)
		re, aerr := protocol.AppendClientHello(re, protocol.ClientHello{PublicKey: hl.Key, Version: protocol.ProtocolVersion}, pad)
		if aerr != nil {
			t.Fatal(aerr)
		}
		re = crypto.AppendCRC(re)
		if canonicalHello(body, len(hl.Key)) && !bytes.Equal(re, d[:end+protocol.CRCSize]) {
			t.Fatalf("canonical hello re-encodes differently:\n%x\n%x", d[:end+protocol.CRCSize], re)
		}
		hl2, err := ParseHello(re)
		if err != nil {
			t.Fatalf("re-encoded hello refused: %v", err)
		}
		if !bytes.Equal(hl2.Key, hl.Key) || hl2.Seq() != hl.Seq() || hl2.msgSeq != hl.msgSeq ||
			(hl2.Marked != hl.Marked && len(pad) >= protocol.HelloExtSize) || (hl.Marked && hl2.Ext != hl.Ext) {
			t.Fatalf("re-encoded hello reads as %+v, was %+v", hl2, hl)
		}
	})
}

// canonicalHello reports whether a hello body with a key of keyLen bytes
// and version 1 writes both integers in the widths the encoder chooses
// (a reader accepts any).
func canonicalHello(body []byte, keyLen int) bool {
	lenID := serial.TypeID(binary.BigEndian.Uint16(body[4:]))
	if lenID != serial.IntType(int64(keyLen)) {
		return false
	}
	at := 4 + serial.IntSize(int64(keyLen)) + keyLen
	return serial.TypeID(binary.BigEndian.Uint16(body[at:])) == serial.IntType(protocol.ProtocolVersion)
}
