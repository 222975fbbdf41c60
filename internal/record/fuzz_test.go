package record_test

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/allocs"
	"github.com/mpgs/mpgameserver/internal/record"
)

// fuzzSeed records a little of everything in each of blocks blocks, and
// returns the file's bytes.
func fuzzSeed(f *testing.F, keep bool, blocks uint64) []byte {
	dir := f.TempDir()
	w, err := record.NewWriter(dir, record.Config{KeepAddrs: keep}, at(0))
	require.NoError(f, err)
	for tick := uint64(1); tick <= blocks; tick++ {
		now := at(time.Duration(tick) * time.Second)
		w.Tick(now, tick, time.Second)
		w.Connect(now, uint32(tick), netip.MustParseAddrPort("192.0.2.1:4000"))
		w.Message(now, uint32(tick), []byte("msg"))
		w.Snapshot(now, []byte("snap"))
		w.World(now, []byte("world"))
		w.Checksum(now, tick, tick*7)
		w.Disconnect(now, uint32(tick), 2)
		w.Flush(now)
	}
	require.NoError(f, w.Close())
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(f, err)
	require.Len(f, m, 1)
	b, err := os.ReadFile(m[0])
	require.NoError(f, err)
	return b
}

// readFuzz reads the file at path every way a Reader can: to its end, then
// seeking by tick and time, and its span. It returns how many calls
// returned an error, and fails if reading does not end.
func readFuzz(t *testing.T, path string, size int) (errs int) {
	r, err := record.Open(path)
	if err != nil {
		return 1
	}
	defer r.Close()
	// a record takes at least 2 inflated bytes, DEFLATE inflates at most
	// 1032 times, and each error moves past at least one byte
	limit := 1100*size + 100
	readToEnd := func() {
		for n := 0; ; n++ {
			if n > limit {
				t.Fatalf("more than %d records or errors in %d bytes", limit, size)
			}
			_, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, record.ErrCorrupt) {
					t.Fatalf("not ErrCorrupt: %v", err)
				}
				errs++
			}
		}
	}
	readToEnd()
	first, last, start, end, err := r.Span()
	if err != nil {
		errs++
		return errs
	}
	for _, tick := range []uint64{first, (first + last) / 2, last + 1} {
		if r.SeekTick(tick) != nil {
			errs++
		}
		readToEnd()
	}
	for _, tm := range []time.Time{start.Add(-1), start.Add(end.Sub(start) / 2)} {
		if r.SeekTime(tm) != nil {
			errs++
		}
		readToEnd()
	}
	return errs
}

// FuzzReader reads arbitrary bytes as a recording file: it never panics,
// ends, and allocates in proportion to the input (inflated bytes, which
// DEFLATE bounds to 1032 times the input, in buffers grown by doubling,
// and the raw addresses parsed from them) plus, for each error, a
// formatted error: never in proportion to a length the input claims.
func FuzzReader(f *testing.F) {
	// small seeds only: the fuzzer's minimizer is quadratic in the input
	// size
	b := fuzzSeed(f, false, 2)
	f.Add(b)
	f.Add(b[:len(b)-5])
	f.Add(b[:60])
	v2 := append([]byte(nil), b...)
	v2[8] = 2
	f.Add(v2)
	f.Add(fuzzSeed(f, true, 1))
	f.Add([]byte("MPGSREC\n\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00BLK1"))
	// one file, rewritten for each input: the inputs of a process run one
	// at a time
	path := filepath.Join(f.TempDir(), "rec-0-000000.mpgsrec")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var errs int
		c := allocs.Once(func() { errs = readFuzz(t, path, len(data)) })
		// a Reader's fixed costs (the inflater, scratch buffers, file
		// handles), the inflated bytes, and the raw addresses parsed
		// (a few allocations for a Connect record of at least 7 bytes)
		inflated := 1032 * uint64(len(data))
		allowed := allocs.Cost{Mallocs: 400 + inflated/2, Bytes: 512<<10 + 8*inflated}
		allowed.Mallocs += uint64(errs) * allocs.FormattedError.Mallocs
		allowed.Bytes += uint64(errs) * allocs.FormattedError.Bytes
		if !c.Within(allowed) {
			t.Fatalf("reading %d bytes (%d errors) cost %v, allowed %v", len(data), errs, c, allowed)
		}
	})
}
