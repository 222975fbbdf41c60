package sctp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"
)

func msgs(r *recSink) []string {
	var s []string
	for _, m := range r.msgs {
		s = append(s, string(m))
	}
	return s
}

func TestBadChecksum(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	pkt := p.data(1, ppidBinary, []byte("x")).packet()
	pkt[len(pkt)-1] ^= 1
	if err := a.Handle(pkt, t0, &rec); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("got %v", err)
	}
	// The same CRC stored big-endian is wrong too: the byte order matters.
	pkt[len(pkt)-1] ^= 1
	sum := binary.LittleEndian.Uint32(pkt[8:])
	binary.BigEndian.PutUint32(pkt[8:], sum)
	if err := a.Handle(pkt, t0, &rec); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("big-endian checksum: got %v", err)
	}
	if len(rec.pkts)+len(rec.msgs) != 0 || a.Stats().BadChecksum != 2 {
		t.Fatalf("output %d, stats %+v", len(rec.pkts), a.Stats())
	}
}

func TestVerificationTags(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	if err := a.Handle(p.data(1, ppidBinary, []byte("x")).packetTag(p.ourTag+1), t0, &rec); !errors.Is(err, ErrBadTag) {
		t.Fatalf("wrong tag: %v", err)
	}
	// INIT must carry tag 0.
	p.chunk(ctInit, 0, initValue(9, 1<<20, 10, 10, 5))
	if err := a.Handle(p.packetTag(p.ourTag), t0, &rec); !errors.Is(err, ErrBadTag) {
		t.Fatalf("INIT with a tag: %v", err)
	}
	// ABORT without T bit under the peer's tag is not ours to take.
	if err := a.Handle(p.chunk(ctAbort, 0, nil).packetTag(p.tag), t0, &rec); !errors.Is(err, ErrBadTag) {
		t.Fatalf("ABORT without T under the peer's tag: %v", err)
	}
	// ABORT with the T bit under our own tag is ignored.
	if err := a.Handle(p.chunk(ctAbort, flagT, nil).packet(), t0, &rec); err != nil || a.Closed() {
		t.Fatalf("ABORT with T under our tag: %v, closed %v", err, a.Closed())
	}
	if len(rec.pkts) != 0 || a.Stats().BadTag != 3 {
		t.Fatalf("output %d, stats %+v", len(rec.pkts), a.Stats())
	}
	// ABORT with the T bit under the peer's tag (reflected) closes.
	if err := a.Handle(p.chunk(ctAbort, flagT, nil).packetTag(p.tag), t0, &rec); err != nil || !a.Closed() {
		t.Fatalf("reflected ABORT: %v, closed %v", err, a.Closed())
	}
	if err := a.Handle(p.data(1, ppidBinary, []byte("x")).packet(), t0, &rec); !errors.Is(err, ErrClosed) {
		t.Fatalf("after ABORT: %v", err)
	}
}

func TestPorts(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	p.dstPort = 5001
	if err := a.Handle(p.data(1, ppidBinary, []byte("x")).packet(), t0, &rec); !errors.Is(err, ErrBadPort) {
		t.Fatalf("wrong destination port: %v", err)
	}
	p.dstPort, p.port = 5000, 5002
	if err := a.Handle(p.data(1, ppidBinary, []byte("x")).packet(), t0, &rec); !errors.Is(err, ErrBadPort) {
		t.Fatalf("wrong source port: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	ok := func() []byte { return p.data(1, ppidBinary, []byte("ok")).packet() }
	hdr := func(chunks ...byte) []byte {
		b := p.packet()[:12]
		b = append(b, chunks...)
		binary.LittleEndian.PutUint32(b[8:], 0)
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(c, castagnoli))
		return b
	}
	sackWithGaps := func() []byte {
		v := make([]byte, 12)
		binary.BigEndian.PutUint32(v, p.ourTSN)
		binary.BigEndian.PutUint16(v[8:], 5) // five gap blocks, none present
		return p.chunk(ctSack, 0, v).packet()
	}
	cases := map[string][]byte{
		"short packet":           hdr(1, 0),
		"no chunk":               hdr(),
		"truncated chunk header": hdr(0, 3, 0),
		"chunk length below 4":   hdr(ctData, 3, 0, 2),
		"chunk length overflow":  hdr(ctData, 3, 0xff, 0xff, 1, 2, 3, 4),
		"chunk past the end":     hdr(ctData, 3, 0, 20, 0, 0, 0, 1),
		"bundled INIT":           p.chunk(ctInit, 0, initValue(1, 1<<20, 1, 1, 1)).chunk(ctCookieAck, 0, nil).packetTag(0),
		"DATA without payload":   p.chunk(ctData, 3, make([]byte, 12)).packet(),
		"SACK overclaiming":      sackWithGaps(),
		"HEARTBEAT bad param":    p.chunk(ctHeartbeat, 0, []byte{0, 1, 0, 40, 1, 2, 3, 4}).packet(),
		"FORWARD-TSN short":      p.chunk(ctForwardTSN, 0, []byte{1, 2}).packet(),
	}
	for name, pkt := range cases {
		var rec recSink
		if err := a.Handle(pkt, t0, &rec); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v", name, err)
		}
		if len(rec.msgs) != 0 {
			t.Errorf("%s: delivered %q", name, msgs(&rec))
		}
	}
	// The association still works.
	var rec recSink
	if err := a.Handle(ok(), t0, &rec); err != nil || len(rec.msgs) != 1 {
		t.Fatalf("after malformed packets: %v, %q", err, msgs(&rec))
	}
}

func TestDuplicateNotDeliveredTwice(t *testing.T) {
	a, p := newOpen(t, Config{}, 100)
	var rec recSink
	pkt := p.data(1, ppidString, []byte("once")).packet()
	if err := a.Handle(pkt, t0, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.pkts) != 0 {
		t.Fatal("in-order DATA was acknowledged at once; it should wait for Flush")
	}
	a.Flush(t0, &rec)
	rec.reset()
	if err := a.Handle(pkt, t0, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.msgs) != 0 || a.Stats().Duplicates != 1 || a.Stats().Delivered != 1 {
		t.Fatalf("duplicate delivered: %q %+v", msgs(&rec), a.Stats())
	}
	// A duplicate means our SACK was lost: it is repeated at once.
	if s := parseSACK(t, p.only(rec.pkts, ctSack)); s.cum != p.tsn-1 || len(s.gaps) != 0 {
		t.Fatalf("SACK %+v", s)
	}
	// Far below cum is a duplicate too, not a wrap to the future.
	rec.reset()
	a.Handle(p.dataAt(p.tsn-1<<30, 3, 1, ppidBinary, []byte("old")).packet(), t0, &rec)
	if len(rec.msgs) != 0 || a.Stats().Duplicates != 2 {
		t.Fatalf("old TSN: %q %+v", msgs(&rec), a.Stats())
	}
}

func TestWindowBound(t *testing.T) {
	a, p := newOpen(t, Config{}, 500)
	cum := p.tsn - 1
	var rec recSink
	// A gap: SACK at once, with one gap block.
	a.Handle(p.dataAt(cum+2, 7, 1, ppidBinary, []byte("2")).packet(), t0, &rec)
	if s := parseSACK(t, p.only(rec.pkts, ctSack)); s.cum != cum || len(s.gaps) != 1 || s.gaps[0] != [2]uint16{2, 2} {
		t.Fatalf("SACK %+v", s)
	}
	// The last TSN of the window is taken, the next one is not.
	rec.reset()
	a.Handle(p.dataAt(cum+window, 7, 1, ppidBinary, []byte("w")).packet(), t0, &rec)
	a.Handle(p.dataAt(cum+window+1, 7, 1, ppidBinary, []byte("x")).packet(), t0, &rec)
	if got := msgs(&rec); len(got) != 1 || got[0] != "w" || a.Stats().OutOfWindow != 1 {
		t.Fatalf("delivered %q, stats %+v", got, a.Stats())
	}
	last := parseSACK(t, chunkOf(p, rec.pkts[len(rec.pkts)-1], ctSack))
	if len(last.gaps) != 2 || last.gaps[1] != [2]uint16{window, window} {
		t.Fatalf("SACK %+v", last)
	}
	// Filling the gap moves cum over the run.
	rec.reset()
	a.Handle(p.dataAt(cum+1, 7, 1, ppidBinary, []byte("1")).packet(), t0, &rec)
	if a.rx.cum != cum+2 {
		t.Fatalf("cum %d, want %d", a.rx.cum, cum+2)
	}
}

// chunkOf returns the chunk of type typ in one packet.
func chunkOf(p *peer, pkt []byte, typ byte) outChunk {
	p.t.Helper()
	for _, c := range p.parseOut(pkt) {
		if c.typ == typ {
			return c
		}
	}
	p.t.Fatalf("no chunk of type %d", typ)
	return outChunk{}
}

func TestTSNWraparound(t *testing.T) {
	// Receiving across 2^32, out of order.
	start := uint32(0xFFFFFFF0)
	a, p := newOpen(t, Config{}, start-1) // the OPEN takes start-1
	var rec recSink
	const n = 32
	order := make([]int, n)
	for i := range order {
		order[i] = (i * 13) % n // a permutation
	}
	for _, i := range order {
		a.Handle(p.dataAt(start+uint32(i), 7, 1, ppidBinary, []byte{byte(i)}).packet(), t0, &rec)
	}
	if len(rec.msgs) != n || a.rx.cum != start+n-1 || a.rx.cum != 0x0F || a.rx.max != a.rx.cum {
		t.Fatalf("delivered %d, cum %#x max %#x", len(rec.msgs), a.rx.cum, a.rx.max)
	}
	a.Flush(t0, &rec)
	if s := parseSACK(t, chunkOf(p, rec.pkts[len(rec.pkts)-1], ctSack)); s.cum != 0x0F {
		t.Fatalf("SACK cum %#x", s.cum)
	}

	// Sending across 2^32: our initial TSN is the last before the wrap.
	b := New(Config{}, newRand(7, 0xFFFFFFFE))
	q := newPeer(t, 8, 1)
	handshake(t, b, q)
	openChannel(t, b, q, 1, t0) // the ACK takes 0xFFFFFFFE
	var out recSink
	for i := range 5 {
		b.Send([]byte{byte(i)}, t0, &out)
	}
	if b.tx.next != 4 {
		t.Fatalf("next TSN %#x", b.tx.next)
	}
	b.Handle(q.sack(1, 1<<20).packet(), t0, &out)
	if b.tx.cumAck != 1 {
		t.Fatalf("cum ack %#x", b.tx.cumAck)
	}
	out.reset()
	b.Tick(t0.Add(250*time.Millisecond), &out)
	b.Tick(t0.Add(500*time.Millisecond), &out)
	f := q.only(out.pkts, ctForwardTSN)
	if binary.BigEndian.Uint32(f.value) != 3 {
		t.Fatalf("FORWARD-TSN to %#x", binary.BigEndian.Uint32(f.value))
	}
}

func TestReassembly(t *testing.T) {
	a, p := newOpen(t, Config{MaxMessage: 10}, 1)
	var rec recSink
	frag := func(flags byte, s string) {
		p.tsn++
		a.Handle(p.dataAt(p.tsn-1, flags|flagUnordered, 1, ppidString, []byte(s)).packet(), t0, &rec)
	}
	frag(flagBegin, "ab")
	frag(0, "cd")
	frag(flagEnd, "ef")
	// Exactly MaxMessage is fine, one more byte is not.
	frag(flagBegin, "01234")
	frag(flagEnd, "56789")
	frag(flagBegin, "01234")
	frag(0, "56789")
	frag(flagEnd, "X")
	frag(flagBegin|flagEnd, "next")
	if got := msgs(&rec); len(got) != 3 || got[0] != "abcdef" || got[1] != "0123456789" || got[2] != "next" {
		t.Fatalf("delivered %q", got)
	}
	if a.Stats().TooLarge != 1 {
		t.Fatalf("stats %+v", a.Stats())
	}
	// A gap loses the message; a new first fragment replaces a partial.
	rec.reset()
	frag(flagBegin, "lost")
	p.tsn++ // the middle never arrives
	frag(flagEnd, "!")
	frag(flagBegin, "old")
	frag(flagBegin, "new")
	frag(flagEnd, "!")
	if got := msgs(&rec); len(got) != 1 || got[0] != "new!" || a.Stats().DroppedPartial != 2 {
		t.Fatalf("delivered %q, stats %+v", got, a.Stats())
	}
	// FORWARD-TSN over a partial message drops it.
	rec.reset()
	frag(flagBegin, "half")
	a.Handle(p.forwardTSN(p.tsn).packet(), t0, &rec)
	p.tsn++
	frag(flagEnd, "!")
	if len(rec.msgs) != 0 || a.rx.cum != p.tsn-1 {
		t.Fatalf("delivered %q, cum %d want %d", msgs(&rec), a.rx.cum, p.tsn-1)
	}
	if cap(a.rx.buf) != 10 {
		t.Fatalf("reassembly buffer grew to %d", cap(a.rx.buf))
	}
}

func TestSecondOpenIgnored(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	a.Handle(p.data(3, ppidDCEP, dcepOpenMsg(0x81, "mpgs", "")).packet(), t0, &rec)
	a.Handle(p.data(3, ppidBinary, []byte("other")).packet(), t0, &rec)
	a.Handle(p.data(1, ppidBinary, []byte("ours")).packet(), t0, &rec)
	if p.count(rec.pkts, ctData) != 0 || a.stream != 1 {
		t.Fatal("second OPEN acknowledged")
	}
	st := a.Stats()
	if got := msgs(&rec); len(got) != 1 || got[0] != "ours" || st.OpensRefused != 1 || st.DroppedStream != 1 {
		t.Fatalf("delivered %q, stats %+v", got, st)
	}
}

func TestLabelRefused(t *testing.T) {
	a := New(Config{Label: "game"}, newRand(1, 1))
	p := newPeer(t, 2, 1)
	handshake(t, a, p)
	var rec recSink
	a.Handle(p.data(1, ppidDCEP, dcepOpenMsg(0x81, "chat", "")).packet(), t0, &rec)
	if a.Open() || p.count(rec.pkts, ctData) != 0 || a.Stats().OpensRefused != 1 {
		t.Fatalf("wrong label accepted: %+v", a.Stats())
	}
	a.Handle(p.data(5, ppidDCEP, dcepOpenMsg(0x81, "game", "")).packet(), t0, &rec)
	if !a.Open() || a.stream != 5 {
		t.Fatal("right label refused")
	}
}

func TestDCEPAckReliable(t *testing.T) {
	a := New(Config{}, newRand(1, 77))
	p := newPeer(t, 2, 1)
	handshake(t, a, p)
	var rec recSink
	a.Handle(p.data(1, ppidDCEP, dcepOpenMsg(0x81, "mpgs", "")).packet(), t0, &rec)
	first := parseData(p.only(rec.pkts, ctData))

	// The peer sends OPEN again: the same ACK again, at once.
	rec.reset()
	a.Handle(p.data(1, ppidDCEP, dcepOpenMsg(0x81, "mpgs", "")).packet(), t0, &rec)
	if again := parseData(p.only(rec.pkts, ctData)); again.tsn != first.tsn {
		t.Fatalf("re-ACK under TSN %d, first %d", again.tsn, first.tsn)
	}

	// No SACK covers it: retransmitted from Tick with backoff, then ABORT.
	rec.reset()
	now := t0
	for i := 0; i < 1000 && !a.Closed(); i++ {
		now = now.Add(100 * time.Millisecond)
		a.Tick(now, &rec)
	}
	if got := p.count(rec.pkts, ctData); got != ackMaxTries-1 || a.Stats().AckRetransmits != ackMaxTries-1 {
		t.Fatalf("%d retransmissions, stats %+v", got, a.Stats())
	}
	if !a.Closed() || p.count(rec.pkts, ctAbort) != 1 {
		t.Fatal("no ABORT after the last try")
	}

	// Once acknowledged, it is not retransmitted.
	b := New(Config{}, newRand(1, 77))
	q := newPeer(t, 2, 1)
	handshake(t, b, q)
	openChannel(t, b, q, 1, t0)
	rec.reset()
	b.Tick(t0.Add(5*time.Second), &rec)
	if q.count(rec.pkts, ctData) != 0 {
		t.Fatal("acknowledged DCEP ACK retransmitted")
	}
}

func TestForwardTSN(t *testing.T) {
	a := New(Config{}, newRand(1, 500))
	p := newPeer(t, 2, 1)
	handshake(t, a, p)
	var rec recSink
	a.Handle(p.data(1, ppidDCEP, dcepOpenMsg(0x81, "mpgs", "")).packet(), t0, &rec) // ACK is TSN 500
	for range 3 {
		a.Send([]byte("lost"), t0, &rec) // 501..503
	}
	// While the ACK is unacknowledged nothing may skip it.
	rec.reset()
	for i := 1; i <= 3; i++ {
		a.Tick(t0.Add(time.Duration(i)*250*time.Millisecond), &rec)
	}
	if p.count(rec.pkts, ctForwardTSN) != 0 {
		t.Fatal("FORWARD-TSN past the unacknowledged DCEP ACK")
	}
	// The peer gets the ACK; the rest is skipped at the next check.
	a.Handle(p.sack(500, 1<<20).packet(), t0, &rec)
	rec.reset()
	a.Tick(t0.Add(time.Second), &rec)
	if f := p.only(rec.pkts, ctForwardTSN); binary.BigEndian.Uint32(f.value) != 503 {
		t.Fatalf("FORWARD-TSN to %d", binary.BigEndian.Uint32(f.value))
	}
	// Acknowledged: no more.
	a.Handle(p.sack(503, 1<<20).packet(), t0, &rec)
	rec.reset()
	a.Tick(t0.Add(2*time.Second), &rec)
	if p.count(rec.pkts, ctForwardTSN) != 0 {
		t.Fatal("FORWARD-TSN after everything was acknowledged")
	}
	// A SACK for TSNs never sent is ignored.
	a.Handle(p.sack(9999, 1<<20).packet(), t0, &rec)
	if a.tx.cumAck != 503 {
		t.Fatalf("cum ack %d", a.tx.cumAck)
	}
}

func TestSendFragmentsAndBundlesSACK(t *testing.T) {
	a, p := newOpen(t, Config{MaxMessage: 4096}, 1)
	var rec recSink
	if err := a.Send(nil, t0, &rec); err != nil {
		t.Fatal(err)
	}
	if d := parseData(p.only(rec.pkts, ctData)); d.ppid != ppidBinaryEmpty || !bytes.Equal(d.data, []byte{0}) ||
		d.flags != flagUnordered|flagBegin|flagEnd {
		t.Fatalf("empty message sent as %+v", d)
	}
	rec.reset()
	a.Handle(p.data(1, ppidBinary, []byte("hi")).packet(), t0, &rec) // a SACK is now pending
	msg := pattern(3000, 1)
	if err := a.Send(msg, t0, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.pkts) != 3 {
		t.Fatalf("%d packets for 3000 bytes", len(rec.pkts))
	}
	var got []byte
	for i, pkt := range rec.pkts {
		if len(pkt) > 1200 {
			t.Fatalf("packet of %d bytes", len(pkt))
		}
		cs := p.parseOut(pkt)
		if i == 0 && (len(cs) != 2 || cs[0].typ != ctSack) {
			t.Fatal("pending SACK not bundled in front")
		}
		d := parseData(cs[len(cs)-1])
		want := byte(flagUnordered)
		if i == 0 {
			want |= flagBegin
		}
		if i == 2 {
			want |= flagEnd
		}
		if d.flags != want || d.ppid != ppidBinary || d.stream != 1 || d.tsn != p.ourTSN+2+uint32(i) {
			t.Fatalf("fragment %d: %+v", i, d)
		}
		got = append(got, d.data...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("fragments do not reassemble")
	}
	if err := a.Send(make([]byte, 4097), t0, &rec); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

func TestSendBeforeOpen(t *testing.T) {
	a := New(Config{}, nil)
	var rec recSink
	if err := a.Send([]byte("x"), t0, &rec); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("got %v", err)
	}
	p := newPeer(t, 2, 1)
	handshake(t, a, p)
	if err := a.Send([]byte("x"), t0, &rec); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyAndStringMessages(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	a.Handle(p.data(1, ppidBinaryEmpty, []byte{0}).data(1, ppidStringEmpty, []byte{0}).
		data(1, ppidString, []byte("s")).data(1, 52, []byte("deprecated")).packet(), t0, &rec)
	if got := msgs(&rec); len(got) != 3 || got[0] != "" || got[1] != "" || got[2] != "s" || a.Stats().DroppedPPID != 1 {
		t.Fatalf("delivered %q, stats %+v", got, a.Stats())
	}
}

func TestUnknownChunks(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	// 0x3F: upper bits 00, stop processing the packet.
	p.chunk(0x3F, 0, []byte{1})
	a.Handle(p.data(1, ppidBinary, []byte("a")).packet(), t0, &rec)
	// 0x80 and 0xC5: upper bit 1, skip and go on.
	p.chunk(0x80, 0, nil).chunk(0xC5, 0, []byte{1, 2, 3})
	a.Handle(p.data(1, ppidBinary, []byte("b")).packet(), t0, &rec)
	if got := msgs(&rec); len(got) != 1 || got[0] != "b" || a.Stats().Unknown != 3 {
		t.Fatalf("delivered %q, stats %+v", got, a.Stats())
	}
}

func TestHandshakeRepeats(t *testing.T) {
	a := New(Config{}, newRand(0xABCD, 9))
	p := newPeer(t, 0x1234, 50)
	var r1, r2 recSink
	init := p.initPacket()
	a.Handle(init, t0, &r1)
	a.Handle(init, t0, &r2)
	if len(r1.pkts) != 1 || !bytes.Equal(r1.pkts[0], r2.pkts[0]) {
		t.Fatal("a repeated INIT got a different INIT-ACK")
	}
	ia := p.only(r1.pkts, ctInitAck)
	if binary.BigEndian.Uint32(ia.value) != 0xABCD || binary.BigEndian.Uint32(ia.value[12:]) != 9 ||
		binary.BigEndian.Uint32(ia.value[4:]) < 1500 || binary.BigEndian.Uint16(ia.value[8:]) == 0 {
		t.Fatalf("INIT-ACK fixed part % x", ia.value[:16])
	}
	var fwd, ext bool
	for prm := ia.value[16:]; len(prm) >= 4; {
		l := int(binary.BigEndian.Uint16(prm[2:]))
		switch binary.BigEndian.Uint16(prm) {
		case paramForwardTSNSupported:
			fwd = true
		case paramSupportedExtensions:
			ext = bytes.Contains(prm[4:l], []byte{ctForwardTSN}) && bytes.Contains(prm[4:l], []byte{ctReconfig})
		}
		prm = prm[min((l+3)&^3, len(prm)):]
	}
	if !fwd || !ext {
		t.Fatal("INIT-ACK does not offer FORWARD-TSN and RE-CONFIG")
	}

	// Bad INITs.
	for name, v := range map[string][]byte{
		"tag 0":      initValue(0, 1<<20, 1, 1, 1),
		"small rwnd": initValue(1, 1499, 1, 1, 1),
		"no streams": initValue(1, 1<<20, 0, 1, 1),
	} {
		if err := a.Handle(p.chunk(ctInit, 0, v).packetTag(0), t0, &r1); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A wrong cookie does nothing; the right one twice gets two COOKIE-ACKs.
	p.ourTag = 0xABCD
	var r3 recSink
	if err := a.Handle(p.chunk(ctCookieEcho, 0, make([]byte, cookieLen)).packet(), t0, &r3); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("wrong cookie: %v", err)
	}
	cookie := newRand(0, 0).b[8:]
	// DATA bundled after COOKIE-ECHO is taken.
	echo := p.chunk(ctCookieEcho, 0, cookie).data(1, ppidDCEP, dcepOpenMsg(0x81, "x", "")).packet()
	a.Handle(echo, t0, &r3)
	if p.count(r3.pkts, ctCookieAck) != 1 || p.count(r3.pkts, ctData) != 1 || !a.Open() {
		t.Fatal("COOKIE-ECHO with bundled OPEN")
	}
	r3.reset()
	a.Handle(p.chunk(ctCookieEcho, 0, cookie).packet(), t0, &r3)
	p.only(r3.pkts, ctCookieAck)
	// An INIT now is stale.
	r3.reset()
	a.Handle(init, t0, &r3)
	if len(r3.pkts) != 0 {
		t.Fatal("INIT answered in ESTABLISHED")
	}
}

func TestDataBeforeEstablished(t *testing.T) {
	a := New(Config{}, newRand(5, 5))
	p := newPeer(t, 6, 1)
	var rec recSink
	a.Handle(p.initPacket(), t0, &rec)
	p.ourTag = 5
	a.Handle(p.data(1, ppidBinary, []byte("early")).packet(), t0, &rec)
	if len(rec.msgs) != 0 || a.Stats().Ignored != 1 {
		t.Fatalf("DATA before ESTABLISHED: %+v", a.Stats())
	}
}

func TestDelayedSACK(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	a.Handle(p.data(1, ppidBinary, []byte("x")).packet(), t0, &rec)
	a.Tick(t0.Add(150*time.Millisecond), &rec)
	if len(rec.pkts) != 0 {
		t.Fatal("SACK before its delay")
	}
	a.Tick(t0.Add(200*time.Millisecond), &rec)
	p.only(rec.pkts, ctSack)
	rec.reset()
	a.Flush(t0, &rec)
	a.Tick(t0.Add(time.Second), &rec)
	if len(rec.pkts) != 0 {
		t.Fatal("SACK sent twice")
	}
	// The I bit asks for it at once.
	a.Handle(p.dataAt(p.tsn, flagBegin|flagEnd|flagImmediate, 1, ppidBinary, []byte("i")).packet(), t0, &rec)
	p.only(rec.pkts, ctSack)
}

func TestHeartbeat(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	info := param(paramHeartbeatInfo, []byte("ping-1234"))
	a.Handle(p.chunk(ctHeartbeat, 0, info).chunk(ctHeartbeat, 0, info).packet(), t0, &rec)
	if hb := p.only(rec.pkts, ctHeartbeatAck); !bytes.Equal(hb.value, info) {
		t.Fatalf("echoed % x", hb.value)
	}
	rec.reset()
	a.Handle(p.chunk(ctHeartbeat, 0, param(paramHeartbeatInfo, make([]byte, 600))).packet(), t0, &rec)
	if len(rec.pkts) != 0 {
		t.Fatal("oversized heartbeat echoed")
	}
	// An empty HEARTBEAT (what pion sends when its path goes idle) is
	// ignored, not an error.
	rec.reset()
	ignored := a.Stats().Ignored
	if err := a.Handle(p.chunk(ctHeartbeat, 0, nil).packet(), t0, &rec); err != nil {
		t.Fatalf("empty heartbeat: %v", err)
	}
	if len(rec.pkts) != 0 || a.Stats().Ignored != ignored+1 || a.Stats().Malformed != 0 {
		t.Fatalf("empty heartbeat: %d packets, stats %+v", len(rec.pkts), a.Stats())
	}
}

func TestShutdown(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	v := make([]byte, 4)
	binary.BigEndian.PutUint32(v, p.ourTSN)
	a.Handle(p.chunk(ctShutdown, 0, v).packet(), t0, &rec)
	p.only(rec.pkts, ctShutdownAck)
	if !a.Closed() || a.Open() {
		t.Fatal("not closed after SHUTDOWN")
	}
	if err := a.Send([]byte("x"), t0, &rec); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after SHUTDOWN: %v", err)
	}
	rec.reset()
	a.Handle(p.chunk(ctShutdown, 0, v).packet(), t0, &rec) // our ACK was lost
	p.only(rec.pkts, ctShutdownAck)
	a.Handle(p.chunk(ctShutdownComplete, 0, nil).packet(), t0, &rec)
	if a.st != stateDead {
		t.Fatal("not dead after SHUTDOWN-COMPLETE")
	}
}

func TestStreamReset(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	req := func(seq, lastTSN uint32, streams ...uint16) []byte {
		v := make([]byte, 12, 12+2*len(streams))
		binary.BigEndian.PutUint32(v, seq)
		binary.BigEndian.PutUint32(v[4:], 0)
		binary.BigEndian.PutUint32(v[8:], lastTSN)
		for _, s := range streams {
			v = binary.BigEndian.AppendUint16(v, s)
		}
		return p.chunk(ctReconfig, 0, param(paramOutgoingReset, v)).packet()
	}
	result := func() (uint32, uint32) {
		c := p.only(rec.pkts, ctReconfig)
		if binary.BigEndian.Uint16(c.value) != paramReconfigResponse {
			t.Fatalf("RE-CONFIG % x", c.value)
		}
		return binary.BigEndian.Uint32(c.value[4:]), binary.BigEndian.Uint32(c.value[8:])
	}
	// The peer sent TSNs we have not seen yet: in progress.
	a.Handle(req(7, p.tsn+3, 1), t0, &rec)
	if seq, res := result(); seq != 7 || res != resultInProgress || a.Closed() {
		t.Fatalf("seq %d result %d closed %v", seq, res, a.Closed())
	}
	rec.reset()
	a.Handle(req(7, p.tsn-1, 1), t0, &rec)
	if seq, res := result(); seq != 7 || res != resultPerformed || !a.Closed() {
		t.Fatalf("seq %d result %d closed %v", seq, res, a.Closed())
	}
	if err := a.Send([]byte("x"), t0, &rec); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after reset: %v", err)
	}
}

func TestClose(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	a.Close(&rec)
	p.only(rec.pkts, ctAbort)
	if !a.Closed() || a.Open() {
		t.Fatal("not closed")
	}
	a.Close(&rec)
	if len(rec.pkts) != 1 {
		t.Fatal("second ABORT")
	}
}

func TestRwndExceededCounted(t *testing.T) {
	a, p := newOpen(t, Config{}, 1)
	var rec recSink
	a.Handle(p.sack(p.ourTSN, 1500).packet(), t0, &rec)
	a.Send(make([]byte, 1000), t0, &rec)
	if a.Stats().RwndExceeded != 0 {
		t.Fatal("counted too early")
	}
	a.Send(make([]byte, 1000), t0, &rec)
	if a.Stats().RwndExceeded != 1 {
		t.Fatalf("stats %+v", a.Stats())
	}
}

// TestSACKRidesWithTheReply: a SACK for one DATA chunk waits (RFC 9260 section
// 6.2): Flush leaves it to ride in front of the next message sent, or to
// Tick once sackDelay passed; a second chunk makes Flush send it.
func TestSACKRidesWithTheReply(t *testing.T) {
	a, p := newOpen(t, Config{}, 100)
	var rec recSink
	a.Flush(t0, &rec) // what the channel's opening owed
	rec.reset()

	a.Handle(p.data(1, ppidBinary, []byte("a")).packet(), t0, &rec)
	a.Flush(t0, &rec)
	if p.count(rec.pkts, ctSack) != 0 {
		t.Fatal("a SACK for one chunk went out on its own")
	}
	if err := a.Send([]byte("reply"), t0, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.pkts) != 1 || p.count(rec.pkts, ctSack) != 1 || p.count(rec.pkts, ctData) != 1 {
		t.Fatalf("the reply did not carry the SACK: %d packets", len(rec.pkts))
	}
	rec.reset()

	a.Handle(p.data(1, ppidBinary, []byte("b")).packet(), t0, &rec)
	a.Tick(t0.Add(sackDelay/2), &rec)
	if p.count(rec.pkts, ctSack) != 0 {
		t.Fatal("Tick sent the SACK before sackDelay")
	}
	a.Tick(t0.Add(sackDelay), &rec)
	if s := parseSACK(t, p.only(rec.pkts, ctSack)); s.cum != p.tsn-1 {
		t.Fatalf("SACK %+v", s)
	}
	rec.reset()

	a.Handle(p.data(1, ppidBinary, []byte("c")).packet(), t0, &rec)
	a.Handle(p.data(1, ppidBinary, []byte("d")).packet(), t0, &rec)
	a.Flush(t0, &rec)
	if s := parseSACK(t, p.only(rec.pkts, ctSack)); s.cum != p.tsn-1 {
		t.Fatalf("two chunks: SACK %+v", s)
	}
}

// TestPrefetchChangesNothing: two associations made alike get the same
// packets, one prefetched before every call; what they send and deliver
// is the same, byte for byte.
func TestPrefetchChangesNothing(t *testing.T) {
	a, p := newOpen(t, Config{}, 100)
	b, q := newOpen(t, Config{}, 100)
	var ra, rb recSink
	for i := range 40 {
		msg := bytes.Repeat([]byte{byte(i)}, 1+i*37)
		b.Prefetch()
		a.Handle(p.data(1, ppidBinary, msg).packet(), t0, &ra)
		b.Handle(q.data(1, ppidBinary, msg).packet(), t0, &rb)
		b.Prefetch()
		a.Flush(t0, &ra)
		b.Flush(t0, &rb)
		b.Prefetch()
		if err := a.Send(msg, t0, &ra); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(msg, t0, &rb); err != nil {
			t.Fatal(err)
		}
	}
	if len(ra.pkts) != len(rb.pkts) || len(ra.msgs) != len(rb.msgs) {
		t.Fatalf("%d/%d packets, %d/%d messages", len(ra.pkts), len(rb.pkts), len(ra.msgs), len(rb.msgs))
	}
	for i := range ra.pkts {
		if !bytes.Equal(ra.pkts[i], rb.pkts[i]) {
			t.Fatalf("packet %d differs", i)
		}
	}
}
