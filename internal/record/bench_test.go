package record_test

import (
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/internal/record"
)

// BenchmarkWriterTick records a tick with 256 messages of 20 bytes, as the
// server's goroutine would: the cost on the calling goroutine. The writer
// goroutine compresses and writes meanwhile; when it falls behind (the
// benchmark records far faster than real time) blocks are dropped, which
// costs the caller nothing more.
func BenchmarkWriterTick(b *testing.B) {
	w, err := record.NewWriter(b.TempDir(), record.Config{}, at(0))
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 20)
	tick := uint64(0)
	step := func() {
		tick++
		now := at(time.Duration(tick) * 16 * time.Millisecond)
		w.Tick(now, tick, 16*time.Millisecond)
		for i := range 256 {
			w.Message(now, uint32(i), msg)
		}
	}
	for range 10_000 { // grow the buffers
		step()
	}
	b.SetBytes(256 * 20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	st := w.Stats()
	b.ReportMetric(float64(st.BlocksDropped)/float64(st.Blocks+st.BlocksDropped), "dropped/block")
}
