package timeline

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/internal/replaytest"
)

// longRecording writes a 30-minute recording of 64 clients (1,800
// snapshots) once per benchmark and reports how big it is.
func longRecording(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	t0 := time.Now()
	if _, err := replaytest.WriteLong(dir, 30*time.Minute, 64); err != nil {
		b.Fatal(err)
	}
	var size int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			size += info.Size()
		}
	}
	b.Logf("wrote 30 min of 64 clients in %v: %d files, %.1f MB", time.Since(t0).Round(time.Millisecond), len(ents), float64(size)/1e6)
	return dir
}

// BenchmarkIndex indexes a 30-minute recording of 64 clients: the
// background pass of a replay.
//
//	go test -run '^$' -bench 'Index|Load' -benchtime 3x ./gui/internal/timeline/
func BenchmarkIndex(b *testing.B) {
	dir := longRecording(b)
	for b.Loop() {
		r, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Index(context.Background()); err != nil {
			b.Fatal(err)
		}
		if r.Len() != 1800 {
			b.Fatalf("%d snapshots, want 1800", r.Len())
		}
	}
}

// BenchmarkLoad reads and decodes a snapshot anywhere in a 30-minute
// recording of 64 clients: a seek by tick (block headers, then a block or
// two) and the Document's JSON, not cached.
func BenchmarkLoad(b *testing.B) {
	dir := longRecording(b)
	r, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Index(context.Background()); err != nil {
		b.Fatal(err)
	}
	c := r.NewCursor()
	defer c.Close()
	if _, err := c.Load(0); err != nil { // open a file, index its block headers
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		k := rng.IntN(r.Len())
		r.cache.docs = r.cache.docs[:0]
		d, err := c.Load(k)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Snapshot.Peers) != 64 {
			b.Fatalf("%d clients", len(d.Snapshot.Peers))
		}
	}
}
