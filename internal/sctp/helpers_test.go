package sctp

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"
)

// This file has the test side of the wire: a scripted peer that builds
// packets byte by byte, a sink that records what the Assoc produces, and a
// parser for the Assoc's output. It is written from the RFCs independently
// of the package's own encoder.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seqRand is a deterministic io.Reader: it yields its bytes, then zeros.
type seqRand struct {
	b []byte
}

func (r *seqRand) Read(p []byte) (int, error) {
	n := copy(p, r.b)
	r.b = r.b[n:]
	clear(p[n:])
	return len(p), nil
}

// newRand gives an Assoc the verification tag and initial TSN wanted; the
// cookie is a fixed pattern.
func newRand(tag, tsn uint32) *seqRand {
	b := make([]byte, 8+cookieLen)
	binary.BigEndian.PutUint32(b, tag)
	binary.BigEndian.PutUint32(b[4:], tsn)
	for i := range cookieLen {
		b[8+i] = byte(0xA0 + i)
	}
	return &seqRand{b: b}
}

// recSink records copies of everything an Assoc produces.
type recSink struct {
	pkts [][]byte
	msgs [][]byte
}

func (r *recSink) Deliver(m []byte) { r.msgs = append(r.msgs, bytes.Clone(m)) }
func (r *recSink) Output(p []byte)  { r.pkts = append(r.pkts, bytes.Clone(p)) }
func (r *recSink) reset()           { r.pkts, r.msgs = nil, nil }

// nopSink discards everything; used where allocations are measured.
type nopSink struct{ out, msgs int }

func (n *nopSink) Deliver(m []byte) { n.msgs++ }
func (n *nopSink) Output(p []byte)  { n.out++ }

// peer plays the remote endpoint.
type peer struct {
	t       testing.TB
	tag     uint32 // the peer's own tag: our packets must carry it
	ourTag  uint32 // learned from INIT-ACK
	ourTSN  uint32 // our initial TSN, learned from INIT-ACK
	cookie  []byte
	tsn     uint32 // the next TSN the peer sends
	port    uint16
	dstPort uint16
	chunks  []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newPeer(t testing.TB, tag, initTSN uint32) *peer {
	return &peer{t: t, tag: tag, tsn: initTSN, port: 5000, dstPort: 5000}
}

// chunk appends one chunk, padded.
func (p *peer) chunk(typ, flags byte, value []byte) *peer {
	h := []byte{typ, flags, 0, 0}
	binary.BigEndian.PutUint16(h[2:], uint16(4+len(value)))
	p.chunks = append(p.chunks, h...)
	p.chunks = append(p.chunks, value...)
	for len(p.chunks)%4 != 0 {
		p.chunks = append(p.chunks, 0)
	}
	return p
}

// dataAt appends a DATA chunk with an explicit TSN.
func (p *peer) dataAt(tsn uint32, flags byte, stream uint16, ppid uint32, payload []byte) *peer {
	v := make([]byte, 12+len(payload))
	binary.BigEndian.PutUint32(v, tsn)
	binary.BigEndian.PutUint16(v[4:], stream)
	binary.BigEndian.PutUint32(v[8:], ppid)
	copy(v[12:], payload)
	return p.chunk(ctData, flags, v)
}

// data appends an unfragmented unordered DATA chunk with the next TSN.
func (p *peer) data(stream uint16, ppid uint32, payload []byte) *peer {
	p.tsn++
	return p.dataAt(p.tsn-1, flagBegin|flagEnd|flagUnordered, stream, ppid, payload)
}

func (p *peer) sack(cum uint32, rwnd uint32) *peer {
	v := make([]byte, 12)
	binary.BigEndian.PutUint32(v, cum)
	binary.BigEndian.PutUint32(v[4:], rwnd)
	return p.chunk(ctSack, 0, v)
}

func (p *peer) forwardTSN(cum uint32) *peer {
	v := make([]byte, 4)
	binary.BigEndian.PutUint32(v, cum)
	return p.chunk(ctForwardTSN, 0, v)
}

// packetTag finishes the packet with an explicit verification tag.
func (p *peer) packetTag(tag uint32) []byte {
	b := make([]byte, 12, 12+len(p.chunks))
	binary.BigEndian.PutUint16(b, p.port)
	binary.BigEndian.PutUint16(b[2:], p.dstPort)
	binary.BigEndian.PutUint32(b[4:], tag)
	b = append(b, p.chunks...)
	p.chunks = nil
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b, castagnoli))
	return b
}

// packet finishes the packet with our tag, as a well-behaved peer does.
func (p *peer) packet() []byte { return p.packetTag(p.ourTag) }

func initValue(tag, rwnd uint32, os, mis uint16, tsn uint32, params ...[]byte) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint32(v, tag)
	binary.BigEndian.PutUint32(v[4:], rwnd)
	binary.BigEndian.PutUint16(v[8:], os)
	binary.BigEndian.PutUint16(v[10:], mis)
	binary.BigEndian.PutUint32(v[12:], tsn)
	for _, prm := range params {
		v = append(v, prm...)
		for len(v)%4 != 0 {
			v = append(v, 0)
		}
	}
	return v
}

func param(typ uint16, value []byte) []byte {
	b := make([]byte, 4, 4+len(value))
	binary.BigEndian.PutUint16(b, typ)
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(value)))
	return append(b, value...)
}

// initPacket is an INIT like pion's: Supported Extensions with RE-CONFIG,
// FORWARD-TSN, I-DATA and I-FORWARD-TSN.
func (p *peer) initPacket() []byte {
	ext := param(paramSupportedExtensions, []byte{ctReconfig, ctForwardTSN, 64, 194})
	p.chunk(ctInit, 0, initValue(p.tag, 1<<20, 65535, 65535, p.tsn, ext))
	return p.packetTag(0)
}

func dcepOpenMsg(chType byte, label, protocol string) []byte {
	b := make([]byte, 12, 12+len(label)+len(protocol))
	b[0] = dcepOpen
	b[1] = chType
	binary.BigEndian.PutUint16(b[8:], uint16(len(label)))
	binary.BigEndian.PutUint16(b[10:], uint16(len(protocol)))
	b = append(b, label...)
	return append(b, protocol...)
}

// outChunk is one chunk of a packet the Assoc produced.
type outChunk struct {
	typ, flags byte
	value      []byte
}

// parseOut checks a packet from the Assoc (checksum, ports, tag, chunk
// layout with padding) and returns its chunks.
func (p *peer) parseOut(pkt []byte) []outChunk {
	p.t.Helper()
	if len(pkt) < 16 || len(pkt)%4 != 0 {
		p.t.Fatalf("output packet of %d bytes", len(pkt))
	}
	c := bytes.Clone(pkt)
	binary.LittleEndian.PutUint32(c[8:], 0)
	if got, want := binary.LittleEndian.Uint32(pkt[8:]), crc32.Checksum(c, castagnoli); got != want {
		p.t.Fatalf("output checksum %08x, want %08x", got, want)
	}
	if binary.BigEndian.Uint16(pkt) != p.dstPort || binary.BigEndian.Uint16(pkt[2:]) != p.port {
		p.t.Fatalf("output ports %d->%d", binary.BigEndian.Uint16(pkt), binary.BigEndian.Uint16(pkt[2:]))
	}
	if tag := binary.BigEndian.Uint32(pkt[4:]); tag != p.tag {
		p.t.Fatalf("output tag %08x, want the peer's %08x", tag, p.tag)
	}
	var out []outChunk
	for off := 12; off < len(pkt); {
		l := int(binary.BigEndian.Uint16(pkt[off+2:]))
		if l < 4 || off+(l+3)&^3 > len(pkt) {
			p.t.Fatalf("output chunk length %d at %d of %d", l, off, len(pkt))
		}
		out = append(out, outChunk{pkt[off], pkt[off+1], pkt[off+4 : off+l]})
		off += (l + 3) &^ 3
	}
	return out
}

// only returns the single chunk of type typ among all packets, failing
// if there is not exactly one.
func (p *peer) only(pkts [][]byte, typ byte) outChunk {
	p.t.Helper()
	var found []outChunk
	for _, pkt := range pkts {
		for _, c := range p.parseOut(pkt) {
			if c.typ == typ {
				found = append(found, c)
			}
		}
	}
	if len(found) != 1 {
		p.t.Fatalf("%d chunks of type %d in output, want 1", len(found), typ)
	}
	return found[0]
}

func (p *peer) count(pkts [][]byte, typ byte) int {
	n := 0
	for _, pkt := range pkts {
		for _, c := range p.parseOut(pkt) {
			if c.typ == typ {
				n++
			}
		}
	}
	return n
}

type sackView struct {
	cum  uint32
	rwnd uint32
	gaps [][2]uint16
}

func parseSACK(t testing.TB, c outChunk) sackView {
	t.Helper()
	if c.typ != ctSack || len(c.value) < 12 {
		t.Fatalf("not a SACK: type %d len %d", c.typ, len(c.value))
	}
	s := sackView{cum: binary.BigEndian.Uint32(c.value), rwnd: binary.BigEndian.Uint32(c.value[4:])}
	n := int(binary.BigEndian.Uint16(c.value[8:]))
	if len(c.value) != 12+4*n {
		t.Fatalf("SACK of %d bytes with %d gap blocks", len(c.value), n)
	}
	for i := range n {
		s.gaps = append(s.gaps, [2]uint16{
			binary.BigEndian.Uint16(c.value[12+4*i:]),
			binary.BigEndian.Uint16(c.value[14+4*i:]),
		})
	}
	return s
}

type dataView struct {
	flags  byte
	tsn    uint32
	stream uint16
	ssn    uint16
	ppid   uint32
	data   []byte
}

func parseData(c outChunk) dataView {
	v := c.value
	return dataView{c.flags, binary.BigEndian.Uint32(v), binary.BigEndian.Uint16(v[4:]),
		binary.BigEndian.Uint16(v[6:]), binary.BigEndian.Uint32(v[8:]), v[12:]}
}

// handshake runs INIT .. COOKIE-ACK on a fresh Assoc.
func handshake(t testing.TB, a *Assoc, p *peer) {
	t.Helper()
	var rec recSink
	if err := a.Handle(p.initPacket(), t0, &rec); err != nil {
		t.Fatalf("INIT: %v", err)
	}
	ia := p.only(rec.pkts, ctInitAck)
	p.ourTag = binary.BigEndian.Uint32(ia.value)
	p.ourTSN = binary.BigEndian.Uint32(ia.value[12:])
	for prm := ia.value[16:]; len(prm) >= 4; {
		l := int(binary.BigEndian.Uint16(prm[2:]))
		if binary.BigEndian.Uint16(prm) == paramStateCookie {
			p.cookie = bytes.Clone(prm[4:l])
		}
		prm = prm[min((l+3)&^3, len(prm)):]
	}
	rec.reset()
	p.chunk(ctCookieEcho, 0, p.cookie)
	if err := a.Handle(p.packet(), t0, &rec); err != nil {
		t.Fatalf("COOKIE-ECHO: %v", err)
	}
	p.only(rec.pkts, ctCookieAck)
}

// openChannel sends DATA_CHANNEL_OPEN on stream and acknowledges our ACK.
func openChannel(t testing.TB, a *Assoc, p *peer, stream uint16, now time.Time) {
	t.Helper()
	var rec recSink
	p.data(stream, ppidDCEP, dcepOpenMsg(0x81, "mpgs", ""))
	if err := a.Handle(p.packet(), now, &rec); err != nil {
		t.Fatalf("OPEN: %v", err)
	}
	d := parseData(p.only(rec.pkts, ctData))
	if d.ppid != ppidDCEP || !bytes.Equal(d.data, []byte{dcepAck}) || d.stream != stream ||
		d.flags != flagBegin|flagEnd || d.ssn != 0 || d.tsn != p.ourTSN {
		t.Fatalf("DCEP ACK: %+v", d)
	}
	if !a.Open() {
		t.Fatal("not open after DATA_CHANNEL_OPEN")
	}
	p.sack(d.tsn, 1<<20)
	if err := a.Handle(p.packet(), now, &rec); err != nil {
		t.Fatalf("SACK: %v", err)
	}
}

// newOpen returns an established Assoc with the channel open on stream 1.
func newOpen(t testing.TB, cfg Config, peerTSN uint32) (*Assoc, *peer) {
	t.Helper()
	a := New(cfg, newRand(0x11223344, 1000))
	p := newPeer(t, 0x55667788, peerTSN)
	handshake(t, a, p)
	openChannel(t, a, p, 1, t0)
	return a, p
}
