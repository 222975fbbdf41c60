package dtlsrec

import (
	"testing"
)

const benchPayload = 1200

func BenchmarkSeal(b *testing.B) {
	server, _ := fakePair(b)
	msg := make([]byte, benchPayload)
	buf := make([]byte, 0, benchPayload+Overhead)
	b.ReportAllocs()
	b.SetBytes(benchPayload)
	for b.Loop() {
		var err error
		if buf, err = server.Seal(buf[:0], msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens records sealed beforehand; each is copied into the
// read buffer first (Open decrypts in place), as a server's socket read
// would have put it there. The copy is part of the measure.
func BenchmarkOpen(b *testing.B) {
	server, client := fakePair(b)
	msg := make([]byte, benchPayload)
	const ring = 1024
	recs := make([][]byte, ring)
	for i := range recs {
		var err error
		if recs[i], err = client.Seal(nil, msg); err != nil {
			b.Fatal(err)
		}
	}
	start := server.win
	buf := make([]byte, benchPayload+Overhead)
	b.ReportAllocs()
	b.SetBytes(benchPayload)
	i := 0
	for b.Loop() {
		if i == ring {
			// Replay the ring: rewind the window, not the records.
			i, server.win = 0, start
		}
		n := copy(buf, recs[i])
		i++
		if _, _, _, err := server.Open(buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
