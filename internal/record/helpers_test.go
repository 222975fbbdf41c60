package record_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/record"
)

// at returns a fake, fixed time: d after the start of the test
// recordings.
func at(d time.Duration) time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Add(d) }

// clone copies a record's Data, which the reader reuses.
func clone(r record.Record) record.Record {
	if r.Data != nil {
		r.Data = slices.Clone(r.Data)
	}
	return r
}

// readAll reads a recording to its end, failing on any error.
func readAll(t testing.TB, path string) []record.Record {
	t.Helper()
	r, err := record.Open(path)
	require.NoError(t, err)
	defer r.Close()
	var out []record.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, clone(rec))
	}
}

// readEvents reads a recording to its end and returns its records, with an
// error's place marked by a record of kind 0 (errors must wrap
// ErrCorrupt), and at most limit of them.
func readEvents(t testing.TB, path string, limit int) []record.Record {
	t.Helper()
	r, err := record.Open(path)
	require.NoError(t, err)
	defer r.Close()
	var out []record.Record
	for range limit {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			require.ErrorIs(t, err, record.ErrCorrupt)
			out = append(out, record.Record{})
			continue
		}
		out = append(out, clone(rec))
	}
	t.Fatalf("more than %d records", limit)
	return nil
}

// recFiles returns the recording files of dir, in name order.
func recFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "rec-*.mpgsrec"))
	require.NoError(t, err)
	slices.Sort(m)
	return m
}

// blockOffsets walks a well-formed file's block headers and returns their
// offsets and compressed lengths.
func blockOffsets(t testing.TB, b []byte) (offs []int, clens []int) {
	t.Helper()
	for off := 18; off < len(b); {
		require.Equal(t, "BLK1", string(b[off:off+4]))
		clen := int(binary.LittleEndian.Uint32(b[off+4:]))
		offs = append(offs, off)
		clens = append(clens, clen)
		off += 36 + clen
	}
	return offs, clens
}

// ticks returns the Tick numbers of recs, with 0 for an error's place.
func ticks(recs []record.Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		switch r.Kind {
		case record.KindTick:
			out = append(out, r.Tick)
		case 0:
			out = append(out, 0)
		}
	}
	return out
}

// seq returns the numbers from a to b.
func seq(a, b uint64) []uint64 {
	var out []uint64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// writeFile replaces a file's bytes.
func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// isEOF reports whether err is or wraps io.EOF.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
