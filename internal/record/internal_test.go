package record

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(d time.Duration) time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Add(d) }

// pausedWriter returns a writer whose goroutine stops before writing its
// first block until release is closed.
func pausedWriter(t *testing.T, cfg Config) (w *Writer, release chan struct{}) {
	release = make(chan struct{})
	w, err := newWriter(t.TempDir(), cfg, at(0), hooks{beforeWrite: func() { <-release }})
	require.NoError(t, err)
	return w, release
}

// readDir reads a recording's records (Data copied).
func readDir(t *testing.T, path string) []Record {
	t.Helper()
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		if rec.Data != nil {
			rec.Data = bytes.Clone(rec.Data)
		}
		out = append(out, rec)
	}
}

// A full queue drops blocks, counts them, and the next block queued
// begins with a Dropped record counting the records lost, those of a
// dropped block that carried an earlier count included. The writer
// goroutine is held before its first write, so the queue holds that block
// whatever the timing; with a 1-byte Buffer nothing else fits.
func TestQueueFullDrops(t *testing.T) {
	w, release := pausedWriter(t, Config{Buffer: 1})
	tick := func(n uint64, msgs int) {
		now := at(time.Duration(n) * time.Second)
		w.Tick(now, n, time.Second)
		for i := range msgs {
			w.Message(now, uint32(i), []byte{byte(n)})
		}
		w.Flush(now)
	}
	tick(1, 2) // queued: 3 records
	tick(2, 4) // dropped: 5 records
	tick(3, 1) // dropped: 2 records, and the marker for 5
	st := w.Stats()
	assert.EqualValues(t, 2, st.BlocksDropped)
	assert.EqualValues(t, 7, st.RecordsDropped)

	close(release)
	w.waitIdle()
	tick(4, 0) // queued, after a marker for 7
	w.waitIdle()
	tick(5, 0)
	require.NoError(t, w.Close())

	got := readDir(t, w.dir)
	want := []Record{
		{Kind: KindTick, Tick: 1, Delta: time.Second},
		{Kind: KindMessage, Peer: 0, Data: []byte{1}},
		{Kind: KindMessage, Peer: 1, Data: []byte{1}},
		{Kind: KindDropped, Records: 7},
		{Kind: KindTick, Tick: 4, Delta: time.Second},
		{Kind: KindTick, Tick: 5, Delta: time.Second},
	}
	require.Equal(t, want, got)
	st = w.Stats()
	assert.EqualValues(t, 3, st.Blocks)
	assert.EqualValues(t, 6, st.Records)
	assert.EqualValues(t, 2, st.BlocksDropped)
	assert.EqualValues(t, 7, st.RecordsDropped)
}

// Blocks are dropped once the queued bytes would exceed Buffer, and Close
// waits for room rather than dropping: a block holding only the marker
// reports the last losses.
func TestQueueFullDropsByBytes(t *testing.T) {
	w, release := pausedWriter(t, Config{Buffer: 3000})
	msg := make([]byte, 96) // a 102-byte record
	for i := range 100 {
		w.Message(at(0), uint32(i), msg)
		w.Flush(at(0)) // a block per record
	}
	// 29 blocks of 102 bytes fit in 3000
	st := w.Stats()
	assert.EqualValues(t, 71, st.BlocksDropped)
	assert.EqualValues(t, 71, st.RecordsDropped)
	close(release)
	require.NoError(t, w.Close())
	got := readDir(t, w.dir)
	require.Len(t, got, 30)
	for i, r := range got[:29] {
		assert.Equal(t, KindMessage, r.Kind)
		assert.EqualValues(t, i, r.Peer)
	}
	assert.Equal(t, Record{Kind: KindDropped, Records: 71}, got[29])
}

// Recording a tick allocates nothing once the buffers have grown, whether
// its blocks are queued or dropped. The writer goroutine is held so that
// only the recording goroutine runs.
func TestTickAllocatesNothing(t *testing.T) {
	for _, keep := range []bool{false, true} {
		w, release := pausedWriter(t, Config{KeepAddrs: keep})
		msg := make([]byte, 20)
		addr := netip.MustParseAddrPort("192.0.2.1:4000")
		n := uint64(0)
		tick := func() {
			n++
			now := at(time.Duration(n) * 16 * time.Millisecond)
			w.Tick(now, n, 16*time.Millisecond)
			for i := range 256 {
				w.Message(now, uint32(i), msg)
			}
			w.Connect(now, 1, addr)
			w.Disconnect(now, 1, 0)
			w.Checksum(now, n, n)
		}
		for w.Stats().BlocksDropped < 3 { // fill the queue (8 MiB)
			tick()
			require.Less(t, n, uint64(10_000))
		}
		assert.Zero(t, testing.AllocsPerRun(100, tick), "KeepAddrs %v", keep)
		close(release)
		require.NoError(t, w.Close())
	}
}

// Neither the raw address nor its bytes are in the payloads of a recording
// that hashes addresses; they are with KeepAddrs.
func TestAddressNotInPayloads(t *testing.T) {
	addr := netip.MustParseAddrPort("203.0.113.77:40000")
	for _, keep := range []bool{false, true} {
		dir := t.TempDir()
		w, err := NewWriter(dir, Config{KeepAddrs: keep}, at(0))
		require.NoError(t, err)
		w.Connect(at(0), 1, addr)
		w.Connect(at(0), 2, addr)
		require.NoError(t, w.Close())

		r, err := Open(dir)
		require.NoError(t, err)
		require.NoError(t, r.buildIndex())
		require.Len(t, r.index, 1)
		e := r.index[0]
		src, size, err := openOS(r.files[e.file])
		require.NoError(t, err)
		payload, _, _, err := r.decode(src, size, e.off, "", nil)
		require.NoError(t, err)
		require.NoError(t, src.Close())
		require.NoError(t, r.Close())
		assert.Equal(t, keep, bytes.Contains(payload, []byte("203.0.113.77:40000")))
		assert.False(t, bytes.Contains(payload, []byte{203, 0, 113, 77}))
	}
}

// countingSource counts the bytes read from a file.
type countingSource struct {
	*os.File
	n *int64
}

func (c countingSource) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(b, off)
	*c.n += int64(n)
	return n, err
}

// Building the index reads the file and block headers only; a seek then
// inflates at most two blocks.
func TestSeekReadsHeadersOnly(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, Config{FileAge: time.Minute, MaxAge: -1}, at(0))
	require.NoError(t, err)
	msg := bytes.Repeat([]byte("abc"), 100)
	for tick := uint64(1); tick <= 4000; tick++ {
		now := at(time.Duration(tick) * 300 * time.Millisecond)
		w.Tick(now, tick, 300*time.Millisecond)
		w.Message(now, 1, msg)
	}
	require.NoError(t, w.Close())
	st := w.Stats()
	require.Zero(t, st.BlocksDropped)

	var read int64
	r, err := openWith(dir, func(name string) (source, int64, error) {
		f, size, err := openOS(name)
		if err != nil {
			return nil, 0, err
		}
		return countingSource{f.(*os.File), &read}, size, nil
	})
	require.NoError(t, err)
	defer r.Close()
	nfiles := int64(len(r.files))
	assert.Equal(t, fileHeaderLen*nfiles, read, "Open reads the file headers")
	assert.Greater(t, nfiles, int64(15))

	read = 0
	require.NoError(t, r.buildIndex())
	assert.Len(t, r.index, int(st.Blocks))
	assert.Equal(t, fileHeaderLen*nfiles+blockHeaderLen*int64(st.Blocks), read)
	assert.Zero(t, r.inflate)

	var maxBlock int64 // header and payload
	for i, e := range r.index {
		end := int64(0)
		if i+1 < len(r.index) && r.index[i+1].file == e.file {
			end = r.index[i+1].off
		} else {
			info, err := os.Stat(r.files[e.file])
			require.NoError(t, err)
			end = info.Size()
		}
		maxBlock = max(maxBlock, end-e.off)
	}
	for _, tick := range []uint64{1, 2, 3, 4, 5, 1000, 1001, 1002, 1003, 1004, 2345, 3999, 4000} {
		read, r.inflate = 0, 0
		require.NoError(t, r.SeekTick(tick))
		assert.LessOrEqual(t, r.inflate, 2)
		assert.LessOrEqual(t, read, 2*fileHeaderLen+2*maxBlock)
		rec, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, Record{Kind: KindTick, Tick: tick, Delta: 300 * time.Millisecond}, rec)
	}
}
