package sctp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"testing"
	"time"
)

// The Assoc under fuzzing draws its tag, initial TSN and cookie from
// newRand(fuzzTag, fuzzTSN); pionSession was captured against exactly that.
const (
	fuzzTag = 0x5eed7a90
	fuzzTSN = 0x7ffffff0
)

// pionSession is every packet pion's client sent to an Assoc in one real
// session: INIT, COOKIE-ECHO, DATA_CHANNEL_OPEN, messages (empty, small,
// fragmented, string), SACKs, the stream reset closing the channel, and
// ABORT.
var pionSession = []string{
	"1388138800000000a711dcd40100001c010e3e0000100000ffffffff4eee97eb8008000882c040c2",
	"138813885eed7a90f22f83f70a000024a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
	"138813885eed7a9054b09a49000300204eee97eb00010000000000320381000000000000000400006d706773",
	"138813885eed7a90c6c4f289000700114eee97ec000100010000003900000000",
	"138813885eed7a90834e0974000700154eee97ed0001000100000035050c131a21000000",
	"138813885eed7a9096afa7bf030000107ffffff10010000000000000",
	"138813885eed7a908e186dd9000604984eee97ee0001000100000035141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5",
	"138813885eed7a9090b16bf40005009c4eee97ef0001000100000035ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299",
	"138813885eed7a900bb5bff7000700134eee97f0000100010000003573747200",
	"138813885eed7a90edbb5695030000107ffffff40010000000000000",
	"138813885eed7a90a56d6861030000107ffffff50010000000000000",
	"138813885eed7a909f5b0e3182000016000d00124eee97eb000000004eee97f000010000",
	"138813885eed7a9083e3d41b0600000b000c000762796500",
}

// Fuzz input layout: one mode byte, then packets, each preceded by its
// length in two bytes. Mode bits:
const (
	fuzzEstablish = 1 << iota // run the handshake first
	fuzzOpen                  // and open the channel on stream 1
	fuzzFixTag                // give each packet the right verification tag
	fuzzFixSum                // and a correct checksum, so mutations get past them
)

func fuzzInput(mode byte, pkts ...[]byte) []byte {
	b := []byte{mode}
	for _, p := range pkts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// fuzzSeeds are the real pion session plus hand-built packets of every
// chunk type we handle.
func fuzzSeeds(tb testing.TB) [][]byte {
	var session [][]byte
	for _, h := range pionSession {
		p, err := hex.DecodeString(h)
		if err != nil {
			tb.Fatal(err)
		}
		session = append(session, p)
	}
	seeds := [][]byte{fuzzInput(0, session...)}
	for i := range session {
		seeds = append(seeds, fuzzInput(0, session[:i+1]...))
	}

	p := newPeer(tb, 0x55667788, 1)
	p.ourTag = fuzzTag
	open := byte(fuzzEstablish | fuzzOpen | fuzzFixTag | fuzzFixSum)
	v4 := []byte{0, 0, 0, 9}
	reset := make([]byte, 14)
	binary.BigEndian.PutUint32(reset[8:], 3)
	reset[13] = 1
	seeds = append(seeds,
		fuzzInput(open, p.data(1, ppidBinary, []byte("hi")).packet(),
			p.dataAt(9, flagBegin, 1, ppidString, []byte("frag")).packet(),
			p.dataAt(10, flagEnd, 1, ppidString, []byte("ment")).packet()),
		fuzzInput(open, p.sack(fuzzTSN, 1500).chunk(ctSack, 0, []byte{0, 0, 0, 1, 0, 0, 5, 0, 0, 1, 0, 0, 0, 2, 0, 3}).packet()),
		fuzzInput(open, p.forwardTSN(40).data(3, ppidDCEP, dcepOpenMsg(0x81, "x", "y")).packet()),
		fuzzInput(open, p.chunk(ctHeartbeat, 0, param(paramHeartbeatInfo, []byte("hb"))).packet()),
		fuzzInput(open, p.chunk(ctReconfig, 0, param(paramOutgoingReset, reset)).packet()),
		fuzzInput(open, p.chunk(ctShutdown, 0, v4).packet(), p.chunk(ctShutdownComplete, 0, nil).packet()),
		fuzzInput(open, p.chunk(0x80, 0, nil).chunk(ctAbort, 0, nil).packet()),
		fuzzInput(fuzzEstablish|fuzzFixTag|fuzzFixSum, p.chunk(ctCookieEcho, 0, newRand(0, 0).b[8:]).packet()),
		fuzzInput(fuzzFixSum, newPeer(tb, 3, 3).initPacket()),
	)
	return seeds
}

// fuzzSink checks every packet and message an Assoc produces.
type fuzzSink struct {
	t        *testing.T
	a        *Assoc
	outBytes int
}

func (s *fuzzSink) Deliver(msg []byte) {
	if len(msg) > s.a.cfg.MaxMessage {
		s.t.Fatalf("delivered %d bytes, MaxMessage %d", len(msg), s.a.cfg.MaxMessage)
	}
}

func (s *fuzzSink) Output(pkt []byte) {
	if len(pkt) > s.a.cfg.MTU || len(pkt) < 16 || len(pkt)%4 != 0 {
		s.t.Fatalf("output packet of %d bytes", len(pkt))
	}
	c := bytes.Clone(pkt)
	binary.LittleEndian.PutUint32(c[8:], 0)
	if binary.LittleEndian.Uint32(pkt[8:]) != crc32.Checksum(c, castagnoli) {
		s.t.Fatal("output with a bad checksum")
	}
	s.outBytes += len(pkt)
}

// fuzzBounded checks that the memory an Assoc holds has not grown.
func fuzzBounded(t *testing.T, a *Assoc) {
	if cap(a.rx.buf) != a.cfg.MaxMessage || len(a.rx.buf) > cap(a.rx.buf) || len(a.out) != a.cfg.MTU {
		t.Fatalf("buffers grew: reassembly %d/%d, out %d", len(a.rx.buf), cap(a.rx.buf), len(a.out))
	}
	if d := a.rx.max - a.rx.cum; d > window {
		t.Fatalf("receive window spans %d TSNs", d)
	}
}

func FuzzHandle(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		mode, in := in[0], in[1:]
		a := New(Config{MaxMessage: 2048}, newRand(fuzzTag, fuzzTSN))
		p := newPeer(t, 0x55667788, 1)
		if mode&fuzzEstablish != 0 {
			handshake(t, a, p)
			if mode&fuzzOpen != 0 {
				openChannel(t, a, p, 1, t0)
			}
		}
		s := &fuzzSink{t: t, a: a}
		now := t0
		for len(in) >= 2 {
			n := min(int(binary.BigEndian.Uint16(in)), len(in)-2)
			pkt := bytes.Clone(in[2 : 2+n])
			in = in[2+n:]
			if mode&fuzzFixTag != 0 && len(pkt) >= 16 {
				tag := uint32(fuzzTag)
				if pkt[12] == ctInit {
					tag = 0
				}
				binary.BigEndian.PutUint32(pkt[4:], tag)
			}
			if mode&fuzzFixSum != 0 && len(pkt) >= 12 {
				binary.LittleEndian.PutUint32(pkt[8:], 0)
				binary.LittleEndian.PutUint32(pkt[8:], crc32.Checksum(pkt, castagnoli))
			}

			s.outBytes = 0
			a.Handle(pkt, now, s)
			if s.outBytes > 3*len(pkt)+600 {
				t.Fatalf("%d bytes in, %d bytes out", len(pkt), s.outBytes)
			}

			// Timers and sending must cope with whatever state that left.
			s.outBytes = 0
			now = now.Add(time.Duration(len(pkt)%7) * 90 * time.Millisecond)
			a.Tick(now, s)
			a.Flush(now, s)
			if s.outBytes > 600 {
				t.Fatalf("Tick and Flush sent %d bytes", s.outBytes)
			}
			if a.Open() {
				a.Send(pkt[:min(len(pkt), 3000)], now, s)
			}
			fuzzBounded(t, a)
		}
	})
}

// TestHandleNeverAllocates replays every fuzz seed, control chunks and
// handshake included, and finds no allocation on any of their paths.
func TestHandleNeverAllocates(t *testing.T) {
	for i, seed := range fuzzSeeds(t) {
		mode, in := seed[0], seed[1:]
		var pkts [][]byte
		for len(in) >= 2 {
			n := int(binary.BigEndian.Uint16(in))
			pkts = append(pkts, in[2:2+n])
			in = in[2+n:]
		}
		const runs = 5
		assocs := make([]*Assoc, runs+1)
		for j := range assocs {
			assocs[j] = New(Config{}, newRand(fuzzTag, fuzzTSN))
			p := newPeer(t, 0x55667788, 1)
			if mode&fuzzEstablish != 0 {
				handshake(t, assocs[j], p)
				if mode&fuzzOpen != 0 {
					openChannel(t, assocs[j], p, 1, t0)
				}
			}
		}
		var sink nopSink
		next := 0
		allocs := testing.AllocsPerRun(runs, func() {
			a := assocs[next]
			next++
			for _, pkt := range pkts {
				a.Handle(pkt, t0, &sink)
				a.Tick(t0.Add(time.Second), &sink)
			}
		})
		if allocs != 0 {
			t.Errorf("seed %d: %v allocations", i, allocs)
		}
	}
}
