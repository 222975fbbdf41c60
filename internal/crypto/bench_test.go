package crypto_test

import (
	"strconv"
	"testing"

	"github.com/mpgs/mpgameserver/internal/vectors"
)

// benchSizes are a small message and a full packet payload
// (protocol.MaxPayloadSize).
var benchSizes = []int{100, 1434}

func BenchmarkSeal(b *testing.B) {
	a := testAEAD(b)
	h := testHeader()
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			plain := vectors.Stream("bench", n)
			buf := make([]byte, 0, n+16)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = a.Seal(buf[:0], h, plain)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	a := testAEAD(b)
	h := testHeader()
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			sealed := a.Seal(nil, h, vectors.Stream("bench", n))
			buf := make([]byte, 0, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = a.Open(buf[:0], h, sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
