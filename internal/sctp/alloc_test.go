package sctp

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"
)

// dataStream yields the same DATA packet again and again under the next
// TSN, re-checksummed in place, as a peer's steady stream of messages.
type dataStream struct {
	pkt []byte
	tsn uint32
}

func newDataStream(p *peer, size int) *dataStream {
	pkt := p.data(1, ppidBinary, make([]byte, size)).packet()
	return &dataStream{pkt: pkt, tsn: p.tsn - 1}
}

func (d *dataStream) next() []byte {
	binary.BigEndian.PutUint32(d.pkt[16:], d.tsn)
	d.tsn++
	binary.LittleEndian.PutUint32(d.pkt[8:], 0)
	binary.LittleEndian.PutUint32(d.pkt[8:], crc32.Checksum(d.pkt, castagnoli))
	return d.pkt
}

func TestSteadyStateNoAllocs(t *testing.T) {
	a, p := newOpen(t, Config{MaxMessage: 4096}, 1)
	var sink nopSink
	now := t0
	in := newDataStream(p, 100)
	sack := p.sack(p.ourTSN, 1<<20).packet()
	msg := make([]byte, 100)
	big := make([]byte, 3000)
	heartbeat := p.chunk(ctHeartbeat, 0, param(paramHeartbeatInfo, make([]byte, 40))).packet()

	for name, f := range map[string]func(){
		"Handle(DATA)": func() {
			if err := a.Handle(in.next(), now, &sink); err != nil {
				t.Fatal(err)
			}
		},
		"Handle(DATA)+Flush": func() {
			a.Handle(in.next(), now, &sink)
			a.Flush(now, &sink)
		},
		"Handle(DATA with a gap)": func() {
			in.tsn++
			a.Handle(in.next(), now, &sink)
		},
		"Handle(SACK)": func() {
			if err := a.Handle(sack, now, &sink); err != nil {
				t.Fatal(err)
			}
		},
		"Handle(HEARTBEAT)": func() {
			a.Handle(heartbeat, now, &sink)
		},
		"Send": func() {
			if err := a.Send(msg, now, &sink); err != nil {
				t.Fatal(err)
			}
		},
		"Send(empty)": func() { a.Send(nil, now, &sink) },
		"Send(fragmented)": func() {
			if err := a.Send(big, now, &sink); err != nil {
				t.Fatal(err)
			}
		},
		"Tick(FORWARD-TSN)": func() {
			a.Send(msg, now, &sink)
			now = now.Add(250 * time.Millisecond)
			a.Tick(now, &sink)
		},
		"Tick(delayed SACK)": func() {
			a.Handle(in.next(), now, &sink)
			now = now.Add(250 * time.Millisecond)
			a.Tick(now, &sink)
		},
	} {
		before := sink.out
		if allocs := testing.AllocsPerRun(200, f); allocs != 0 {
			t.Errorf("%s: %v allocations per run", name, allocs)
		}
		if sink.out == before && name != "Handle(DATA)" && name != "Handle(SACK)" {
			t.Errorf("%s sent nothing", name)
		}
	}
	if a.Stats().Delivered == 0 || a.Stats().ForwardTSNsOut == 0 {
		t.Fatalf("stats %+v", a.Stats())
	}
}

// BenchmarkRoundTrip is the steady-state cost per client message: Handle a
// 100-byte DATA packet (which is delivered) and Send a 100-byte reply (which
// carries the SACK). The peer's re-checksumming of its packet is included.
func BenchmarkRoundTrip(b *testing.B) {
	a, p := newOpen(b, Config{}, 1)
	var sink nopSink
	in := newDataStream(p, 100)
	reply := make([]byte, 100)
	now := t0
	b.ReportAllocs()
	b.SetBytes(200)
	for i := range b.N {
		if err := a.Handle(in.next(), now, &sink); err != nil {
			b.Fatal(err)
		}
		if err := a.Send(reply, now, &sink); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			now = now.Add(20 * time.Millisecond)
			a.Tick(now, &sink)
		}
	}
	if sink.msgs != b.N {
		b.Fatalf("delivered %d of %d", sink.msgs, b.N)
	}
}
