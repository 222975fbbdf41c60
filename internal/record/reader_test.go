package record_test

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/allocs"
	"github.com/mpgs/mpgameserver/internal/record"
)

// SeekTick lands on the Tick record of any tick of a recording of
// thousands of blocks in several files, where some ticks span two blocks
// and some were not recorded (it lands on the next one).
func TestSeekTick(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{FileAge: 10 * time.Minute, MaxAge: -1, Buffer: 64 << 20}, at(0))
	require.NoError(t, err)
	const last = 12000
	missing := func(tick uint64) bool { return tick%100 == 7 }
	big := make([]byte, 100<<10)
	for tick := uint64(1); tick <= last; tick++ {
		if missing(tick) {
			continue
		}
		now := at(time.Duration(tick) * 250 * time.Millisecond)
		w.Tick(now, tick, 250*time.Millisecond)
		w.Message(now, 1, binary.LittleEndian.AppendUint64(nil, tick))
		if tick%1000 == 0 { // 400 KiB: the block closes in the middle of the tick
			for range 4 {
				w.Message(now, 2, big)
			}
		}
	}
	require.NoError(t, w.Close())
	st := w.Stats()
	require.Zero(t, st.BlocksDropped)
	require.Greater(t, st.Blocks, uint64(2900))
	require.Greater(t, len(recFiles(t, dir)), 4)

	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	check := func(tick uint64) {
		t.Helper()
		want := max(tick, 1)
		for missing(want) {
			want++
		}
		require.NoError(t, r.SeekTick(tick), "tick %d", tick)
		rec, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, record.Record{Kind: record.KindTick, Tick: want, Delta: 250 * time.Millisecond}, rec, "seek to %d", tick)
		rec, err = r.Next()
		require.NoError(t, err)
		require.Equal(t, record.KindMessage, rec.Kind)
		require.Equal(t, want, binary.LittleEndian.Uint64(rec.Data))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tick := range []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 999, 1000, 1001, 1002, 2000, 2001, 4107, last - 1, last, 5, 1} {
		check(tick)
	}
	for range 300 {
		check(1 + rng.Uint64N(last))
	}

	// reading goes on from where a seek lands, across blocks and files
	require.NoError(t, r.SeekTick(2995))
	var got []uint64
	for len(got) < 1000 {
		rec, err := r.Next()
		require.NoError(t, err)
		if rec.Kind == record.KindTick {
			got = append(got, rec.Tick)
		}
	}
	var want []uint64
	for tick := uint64(2995); len(want) < 1000; tick++ {
		if !missing(tick) {
			want = append(want, tick)
		}
	}
	require.Equal(t, want, got)

	// past the end
	err = r.SeekTick(last + 1)
	require.Error(t, err)
	require.True(t, isEOF(err))
	_, err = r.Next()
	require.Equal(t, io.EOF, err)
	check(10) // and back
}

// irregularRecording records ticks at irregular intervals, a small message
// each, and returns the ticks' times and the ticks that begin a block by
// the writer's rule (a block closes once a second has passed since its
// first record).
func irregularRecording(t *testing.T, dir string, n int) (times []time.Time, starts []uint64) {
	w, err := record.NewWriter(dir, record.Config{FileAge: 5 * time.Minute, MaxAge: -1}, at(0))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 6))
	times = make([]time.Time, n+1)
	now := at(0)
	var blockStart time.Time
	for tick := uint64(1); tick <= uint64(n); tick++ {
		d := time.Duration(10+rng.IntN(690)) * time.Millisecond
		now = now.Add(d)
		times[tick] = now
		if tick == 1 || now.Sub(blockStart) >= time.Second {
			starts = append(starts, tick)
			blockStart = now
		}
		w.Tick(now, tick, d)
		w.Message(now, 1, []byte("hi"))
	}
	require.NoError(t, w.Close())
	require.Zero(t, w.Stats().BlocksDropped)
	require.EqualValues(t, len(starts), w.Stats().Blocks)
	return times, starts
}

// SeekTime lands on the tick in progress when the last block that began
// at or before the time began.
func TestSeekTime(t *testing.T) {
	dir := t.TempDir()
	const n = 8000
	times, starts := irregularRecording(t, dir, n)
	require.Greater(t, len(starts), 2000)
	require.Greater(t, len(recFiles(t, dir)), 4)

	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	expect := func(tm time.Time) uint64 {
		i := sort.Search(len(starts), func(i int) bool { return times[starts[i]].After(tm) }) - 1
		if i < 0 {
			return 1 // before the recording: its start
		}
		return starts[i]
	}
	check := func(tm time.Time) {
		t.Helper()
		require.NoError(t, r.SeekTime(tm))
		rec, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, record.KindTick, rec.Kind)
		require.Equal(t, expect(tm), rec.Tick, "seek to %v", tm.Sub(at(0)))
	}
	first, end := times[1], times[n]
	for _, tm := range []time.Time{at(-time.Hour), at(0), first, first.Add(time.Second), end, end.Add(time.Hour), times[starts[7]], times[starts[7]].Add(-1)} {
		check(tm)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		check(first.Add(time.Duration(rng.Int64N(int64(end.Sub(first))))))
	}
	for range 100 {
		check(times[starts[rng.IntN(len(starts))]])
	}
}

// Span reports the first and last ticks and when the first and last
// blocks began, without moving the reader.
func TestSpan(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	times, starts := irregularRecording(t, dir, n)
	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	rec, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Tick)

	first, last, start, end, err := r.Span()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), first)
	assert.Equal(t, uint64(n), last)
	assert.True(t, start.Equal(times[1]))
	assert.True(t, end.Equal(times[starts[len(starts)-1]]))

	rec, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, record.KindMessage, rec.Kind, "Span leaves Next's position")

	// a last block without ticks: the last tick is its first tick
	dir = t.TempDir()
	w, err := record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	w.Tick(at(0), 41, 0)
	w.Tick(at(time.Millisecond), 42, 0)
	w.Flush(at(time.Millisecond))
	w.Snapshot(at(time.Second), []byte("s"))
	require.NoError(t, w.Close())
	r2, err := record.Open(dir)
	require.NoError(t, err)
	defer r2.Close()
	first, last, start, end, err = r2.Span()
	require.NoError(t, err)
	assert.Equal(t, []uint64{41, 42}, []uint64{first, last})
	assert.True(t, start.Equal(at(0)))
	assert.True(t, end.Equal(at(time.Second)))

	// no blocks at all
	dir = t.TempDir()
	w, err = record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r3, err := record.Open(dir)
	require.NoError(t, err)
	defer r3.Close()
	_, _, _, _, err = r3.Span()
	require.True(t, isEOF(err))
	require.True(t, isEOF(r3.SeekTick(1)))
	require.True(t, isEOF(r3.SeekTime(at(0))))
	_, err = r3.Next()
	require.Equal(t, io.EOF, err)
}

// tenBlocks records ticks 1 to 10, a block each, in one file, and returns
// the file and its bytes.
func tenBlocks(t *testing.T) (string, []byte) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	for tick := uint64(1); tick <= 10; tick++ {
		now := at(time.Duration(tick) * time.Second)
		w.Tick(now, tick, time.Second)
		w.Message(now, 1, []byte("some message bytes to make a payload"))
		w.Flush(now)
	}
	require.NoError(t, w.Close())
	files := recFiles(t, dir)
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	return files[0], b
}

// A corrupt block is reported with ErrCorrupt and reading goes on with the
// next block, whichever part of it is wrong.
func TestCorruptBlock(t *testing.T) {
	le := binary.LittleEndian
	for name, corrupt := range map[string]func(b []byte, off, clen int){
		"payload byte":     func(b []byte, off, clen int) { b[off+36+clen/2] ^= 0x20 },
		"last payload":     func(b []byte, off, clen int) { b[off+36+clen-1] ^= 1 },
		"crc":              func(b []byte, off, clen int) { b[off+32] ^= 1 },
		"magic":            func(b []byte, off, clen int) { b[off+3] = 'X' },
		"longer":           func(b []byte, off, clen int) { le.PutUint32(b[off+4:], uint32(clen+7)) },
		"shorter":          func(b []byte, off, clen int) { le.PutUint32(b[off+4:], uint32(clen-7)) },
		"past the end":     func(b []byte, off, clen int) { le.PutUint32(b[off+4:], 1<<20) },
		"over the limit":   func(b []byte, off, clen int) { le.PutUint32(b[off+4:], 1<<30) },
		"zero length":      func(b []byte, off, clen int) { le.PutUint32(b[off+4:], 0) },
		"uncompressed len": func(b []byte, off, clen int) { le.PutUint32(b[off+8:], le.Uint32(b[off+8:])+1) },
		"huge uncompressed": func(b []byte, off, clen int) {
			le.PutUint32(b[off+8:], record.MaxBlockBytes+1)
		},
		"record count": func(b []byte, off, clen int) { le.PutUint32(b[off+28:], 3) },
		"no records":   func(b []byte, off, clen int) { le.PutUint32(b[off+28:], 0) },
		"many records": func(b []byte, off, clen int) { le.PutUint32(b[off+28:], 1<<31) },
	} {
		t.Run(name, func(t *testing.T) {
			path, b := tenBlocks(t)
			offs, clens := blockOffsets(t, b)
			corrupt(b, offs[4], clens[4])
			writeFile(t, path, b)
			recs := readEvents(t, path, 100)
			assert.Equal(t, []uint64{1, 2, 3, 4, 0, 6, 7, 8, 9, 10}, ticks(recs))

			// seeking skips it
			r, err := record.Open(path)
			require.NoError(t, err)
			defer r.Close()
			require.NoError(t, r.SeekTick(5))
			rec, err := r.Next()
			require.NoError(t, err)
			require.Equal(t, uint64(6), rec.Tick)
		})
	}
}

// A CRC-valid block whose records are malformed is corrupt too.
func TestCorruptRecords(t *testing.T) {
	path, b := tenBlocks(t)
	offs, clens := blockOffsets(t, b)
	// rebuild block 4 with a Tick record of the wrong length
	payload := []byte{byte(record.KindTick), 3, 1, 2, 3, byte(record.KindTick), 0}
	fixed := append([]byte(nil), b[:offs[4]]...)
	fixed = append(fixed, storedBlock(b[offs[4]:offs[4]+36], payload)...)
	fixed = append(fixed, b[offs[4]+36+clens[4]:]...)
	writeFile(t, path, fixed)
	assert.Equal(t, []uint64{1, 2, 3, 4, 0, 6, 7, 8, 9, 10}, ticks(readEvents(t, path, 100)))
}

// storedBlock returns a block with hdr's first tick and time holding
// payload as a stored (uncompressed) DEFLATE block, with a right CRC.
func storedBlock(hdr, payload []byte) []byte {
	le := binary.LittleEndian
	comp := []byte{1, byte(len(payload)), byte(len(payload) >> 8), ^byte(len(payload)), ^byte(len(payload) >> 8)}
	comp = append(comp, payload...)
	out := append([]byte(nil), hdr[:36]...)
	le.PutUint32(out[4:], uint32(len(comp)))
	le.PutUint32(out[8:], uint32(len(payload)))
	le.PutUint32(out[28:], 2)
	le.PutUint32(out[32:], crc32.ChecksumIEEE(comp))
	return append(out, comp...)
}

// A file cut short reads up to the cut, reports a corrupt block there,
// and ends.
func TestTruncated(t *testing.T) {
	path, b := tenBlocks(t)
	offs, clens := blockOffsets(t, b)
	for _, cut := range []int{offs[9] + 36 + clens[9]/2, offs[9] + 36, offs[9] + 10, offs[9] + 1} {
		writeFile(t, path, b[:cut])
		assert.Equal(t, append(seq(1, 9), 0), ticks(readEvents(t, path, 100)), "cut at %d", cut)
	}
	writeFile(t, path, b[:offs[9]])
	assert.Equal(t, seq(1, 9), ticks(readEvents(t, path, 100)))
	writeFile(t, path, b[:18])
	assert.Empty(t, readEvents(t, path, 100))
}

// Files that are not recordings, or are of a newer version, are refused.
func TestBadFiles(t *testing.T) {
	path, b := tenBlocks(t)
	for name, c := range map[string]struct {
		b   []byte
		err error
		msg string
	}{
		"empty":        {nil, record.ErrCorrupt, "too short"},
		"short":        {b[:10], record.ErrCorrupt, "too short"},
		"header only":  {b[:17], record.ErrCorrupt, "too short"},
		"bad magic":    {append([]byte("MPGSREX\n"), b[8:]...), record.ErrCorrupt, "bad magic"},
		"not a record": {[]byte("hello, this is just a text file"), record.ErrCorrupt, "bad magic"},
		"version 3":    {append(append([]byte(nil), b[:8]...), append([]byte{3, 0}, b[10:]...)...), record.ErrVersion, "format version 3 is newer"},
		"version 0":    {append(append([]byte(nil), b[:8]...), append([]byte{0, 0}, b[10:]...)...), record.ErrCorrupt, "version 0"},
	} {
		t.Run(name, func(t *testing.T) {
			writeFile(t, path, c.b)
			_, err := record.Open(path)
			require.ErrorIs(t, err, c.err)
			require.ErrorContains(t, err, c.msg)
		})
	}

	_, err := record.Open(filepath.Join(t.TempDir(), "nothing"))
	require.Error(t, err)
	_, err = record.Open(t.TempDir())
	require.ErrorContains(t, err, "no recording files")
}

// In a directory, a file that is not a recording is reported when reading
// reaches it, and reading goes on; a file of a newer version fails Open.
func TestBadFileInDirectory(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{FileBytes: 1}, at(0)) // a file per block
	require.NoError(t, err)
	for tick := uint64(1); tick <= 3; tick++ {
		w.Tick(at(time.Duration(tick)*time.Second), tick, 0)
		w.Flush(at(time.Duration(tick) * time.Second))
	}
	require.NoError(t, w.Close())
	files := recFiles(t, dir)
	require.Len(t, files, 3)
	b, err := os.ReadFile(files[1])
	require.NoError(t, err)

	b[0] = 'X'
	writeFile(t, files[1], b)
	assert.Equal(t, []uint64{1, 0, 3}, ticks(readEvents(t, dir, 10)))
	r, err := record.Open(dir)
	require.NoError(t, err)
	require.NoError(t, r.SeekTick(2)) // the index skips it
	rec, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, uint64(3), rec.Tick)
	require.NoError(t, r.Close())

	b[0], b[8] = 'M', 3
	writeFile(t, files[1], b)
	_, err = record.Open(dir)
	require.ErrorIs(t, err, record.ErrVersion)
}

// craftBlock returns a file holding one block whose payload is comp, with
// a right CRC, claiming ulen bytes and n records.
func craftBlock(comp []byte, ulen, n uint32) []byte {
	le := binary.LittleEndian
	b := []byte("MPGSREC\n\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	h := make([]byte, 36)
	copy(h, "BLK1")
	le.PutUint32(h[4:], uint32(len(comp)))
	le.PutUint32(h[8:], ulen)
	le.PutUint32(h[28:], n)
	le.PutUint32(h[32:], crc32.ChecksumIEEE(comp))
	return append(append(b, h...), comp...)
}

// Lengths a file claims cost nothing until the bytes are there: a block
// claiming 16 MiB of records that inflates to a few bytes allocates
// little; one that does inflate to 16 MiB (a 16 KiB "bomb") is read, found
// corrupt (its records are zeros) and costs about what it inflates to.
func TestClaimedLengthsDoNotAllocate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec-0-000000.mpgsrec")
	deflate := func(b []byte) []byte {
		var buf bytes.Buffer
		fw, err := flate.NewWriter(&buf, flate.BestCompression)
		require.NoError(t, err)
		_, err = fw.Write(b)
		require.NoError(t, err)
		require.NoError(t, fw.Close())
		return buf.Bytes()
	}
	read := func() (errs int) {
		r, err := record.Open(path)
		require.NoError(t, err)
		defer r.Close()
		for {
			_, err := r.Next()
			if err == io.EOF {
				return errs
			}
			require.ErrorIs(t, err, record.ErrCorrupt)
			errs++
		}
	}

	writeFile(t, path, craftBlock(deflate([]byte{1, 16}), record.MaxBlockBytes, 1000))
	var errs int
	c := allocs.Once(func() { errs = read() })
	assert.Equal(t, 1, errs)
	assert.Less(t, c.Bytes, uint64(256<<10), "%v", c)

	bomb := deflate(make([]byte, record.MaxBlockBytes))
	require.Less(t, len(bomb), 32<<10)
	writeFile(t, path, craftBlock(bomb, record.MaxBlockBytes, 1))
	c = allocs.Once(func() { errs = read() })
	assert.Equal(t, 1, errs)
	assert.Less(t, c.Bytes, uint64(2*record.MaxBlockBytes+(1<<20)), "%v", c)

	// and one byte more than it claims is refused
	writeFile(t, path, craftBlock(deflate(make([]byte, 1001)), 1000, 1))
	assert.Equal(t, 1, read())
}
