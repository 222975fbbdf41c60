package record_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/record"
)

// Every kind of record survives a recording that rotates across several
// files, by size and by age, in order and intact.
func TestRoundTripAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{FileBytes: 4 << 10, FileAge: 3 * time.Second, MaxAge: -1, KeepAddrs: true}, at(0))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var want []record.Record
	for tick := uint64(1); tick <= 400; tick++ {
		now := at(time.Duration(tick) * 50 * time.Millisecond)
		delta := 50*time.Millisecond + time.Duration(tick)
		w.Tick(now, tick, delta)
		want = append(want, record.Record{Kind: record.KindTick, Tick: tick, Delta: delta})
		peer := uint32(tick/10) + 1
		switch tick % 10 {
		case 1:
			addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(peer)}), uint16(4000+peer))
			if peer%2 == 0 {
				addr = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), uint16(peer))
			}
			w.Connect(now, peer, addr)
			want = append(want, record.Record{Kind: record.KindConnect, Peer: peer, Addr: addr})
		case 9:
			w.Disconnect(now, peer, uint8(tick))
			want = append(want, record.Record{Kind: record.KindDisconnect, Peer: peer, Reason: uint8(tick)})
		}
		for i := range int(tick % 4) {
			m := blob(1 + int(tick)%40 + i)
			w.Message(now, peer, m)
			want = append(want, record.Record{Kind: record.KindMessage, Peer: peer, Data: m})
		}
		if tick%3 == 0 {
			w.Message(now, peer, nil) // an empty message
			want = append(want, record.Record{Kind: record.KindMessage, Peer: peer, Data: []byte{}})
		}
		if tick%20 == 0 {
			s := blob(500)
			w.Snapshot(now, s)
			want = append(want, record.Record{Kind: record.KindSnapshot, Data: s})
		}
		if tick%50 == 0 {
			s := blob(3000)
			w.World(now, s)
			want = append(want, record.Record{Kind: record.KindWorld, Data: s})
		}
		sum := rng.Uint64()
		w.Checksum(now, tick, sum)
		want = append(want, record.Record{Kind: record.KindChecksum, Tick: tick, Sum: sum})
	}
	w.Snapshot(at(time.Hour), []byte{}) // an empty blob, in a last block
	want = append(want, record.Record{Kind: record.KindSnapshot, Data: []byte{}})
	require.NoError(t, w.Close())

	got := readAll(t, dir)
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i], got[i], "record %d", i)
	}
	st := w.Stats()
	files := recFiles(t, dir)
	assert.Greater(t, len(files), 4)
	assert.EqualValues(t, len(files), st.FilesOpened)
	assert.EqualValues(t, len(files)-1, st.FilesRotated)
	assert.EqualValues(t, len(want), st.Records)
	assert.Zero(t, st.BlocksDropped)
	assert.Zero(t, st.RecordsDropped)
	assert.Zero(t, st.FilesDeleted)
	assert.Zero(t, st.Errors)
	var size int64
	for _, f := range files {
		info, err := os.Stat(f)
		require.NoError(t, err)
		size += info.Size()
	}
	assert.EqualValues(t, size, st.Bytes)

	// and the recording reads file by file as well: the files split it
	var again []record.Record
	for _, f := range files {
		again = append(again, readAll(t, f)...)
	}
	require.Equal(t, got, again)

	// the files rotated by size (20 s of recording in 3 s files would
	// make 7) and by age (the last block is an hour later)
	last := readAll(t, files[len(files)-1])
	require.Equal(t, []record.Record{{Kind: record.KindSnapshot, Data: []byte{}}}, last)
}

// A block closes once a second of recording time has passed since its
// first record, or once it holds more than 256 KiB.
func TestBlockCloses(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	for tick := uint64(1); tick <= 100; tick++ { // 10 s, 10 ticks a second
		w.Tick(at(time.Duration(tick)*100*time.Millisecond), tick, 100*time.Millisecond)
	}
	require.NoError(t, w.Close())
	// ticks 1-10, 11-20, ..., 91-100
	assert.EqualValues(t, 10, w.Stats().Blocks)

	dir = t.TempDir()
	w, err = record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	msg := make([]byte, 1020)
	for i := range 1024 { // 1 MiB of messages in no time
		w.Message(at(0), uint32(i), msg)
	}
	require.NoError(t, w.Close())
	assert.EqualValues(t, 4, w.Stats().Blocks)
	assert.EqualValues(t, 1024, w.Stats().Records)
}

// A record over MaxRecordBytes is dropped, and the next block says so.
func TestOversizeRecord(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	w.Tick(at(0), 1, 0)
	w.World(at(0), make([]byte, record.MaxRecordBytes+1))
	w.Message(at(0), 1, make([]byte, record.MaxRecordBytes)) // 4 bytes over, with the peer
	w.Flush(at(0))
	w.Tick(at(time.Second), 2, 0)
	w.World(at(time.Second), make([]byte, record.MaxRecordBytes)) // fits
	require.NoError(t, w.Close())
	got := readAll(t, dir)
	require.Len(t, got, 4)
	assert.Equal(t, record.Record{Kind: record.KindTick, Tick: 1}, got[0])
	assert.Equal(t, record.Record{Kind: record.KindDropped, Records: 2}, got[1])
	assert.Equal(t, record.Record{Kind: record.KindTick, Tick: 2}, got[2])
	assert.Len(t, got[3].Data, record.MaxRecordBytes)
	assert.EqualValues(t, 2, w.Stats().RecordsDropped)
	assert.Zero(t, w.Stats().BlocksDropped)
}

// Records after Close are ignored; Close twice is fine.
func TestWriterClosed(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{}, at(0))
	require.NoError(t, err)
	w.Tick(at(0), 1, 0)
	require.NoError(t, w.Close())
	w.Tick(at(time.Second), 2, 0)
	w.Flush(at(time.Second))
	require.NoError(t, w.Close())
	require.Equal(t, []record.Record{{Kind: record.KindTick, Tick: 1}}, readAll(t, dir))
}

// NewWriter reports a directory it cannot use.
func TestNewWriterError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, f, nil)
	_, err := record.NewWriter(f, record.Config{}, at(0))
	require.Error(t, err)
	_, err = record.NewWriter(filepath.Join(f, "sub"), record.Config{}, at(0))
	require.Error(t, err)
}

// With KeepAddrs, addresses are recorded as they are (IPv4-mapped ones
// unmapped).
func TestKeepAddrs(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{KeepAddrs: true}, at(0))
	require.NoError(t, err)
	v4 := netip.MustParseAddrPort("203.0.113.77:40000")
	w.Connect(at(0), 1, v4)
	w.Connect(at(0), 2, netip.MustParseAddrPort("[::ffff:203.0.113.77]:40000"))
	v6 := netip.MustParseAddrPort("[2001:db8::7%eth0]:1")
	w.Connect(at(0), 3, v6)
	w.Connect(at(0), 4, netip.AddrPort{})
	require.NoError(t, w.Close())
	got := readAll(t, dir)
	require.Equal(t, []record.Record{
		{Kind: record.KindConnect, Peer: 1, Addr: v4},
		{Kind: record.KindConnect, Peer: 2, Addr: v4},
		{Kind: record.KindConnect, Peer: 3, Addr: v6},
		{Kind: record.KindConnect, Peer: 4},
	}, got)
}

// Hashed addresses: one address hashes the same throughout a recording and
// differently in another one; the raw address is nowhere in the files
// (their payloads are checked, inflated, by TestAddressNotInPayloads).
func TestHashedAddrs(t *testing.T) {
	a := netip.MustParseAddrPort("203.0.113.77:40000")
	b := netip.MustParseAddrPort("203.0.113.77:40001")
	record1 := func() []record.Record {
		dir := t.TempDir()
		w, err := record.NewWriter(dir, record.Config{FileBytes: 1}, at(0))
		require.NoError(t, err)
		w.Connect(at(0), 1, a)
		w.Connect(at(0), 2, b)
		w.Flush(at(0))
		w.Connect(at(time.Minute), 3, a) // in another block and file
		w.Connect(at(time.Minute), 4, netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port()))
		require.NoError(t, w.Close())
		require.Len(t, recFiles(t, dir), 2)
		for _, f := range recFiles(t, dir) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			assert.False(t, bytes.Contains(raw, []byte("203.0.113.77")))
			assert.False(t, bytes.Contains(raw, []byte{203, 0, 113, 77}))
		}
		got := readAll(t, dir)
		require.Len(t, got, 4)
		for i, r := range got {
			assert.True(t, r.Hashed)
			assert.False(t, r.Addr.IsValid())
			assert.EqualValues(t, i+1, r.Peer)
		}
		return got
	}
	r1, r2 := record1(), record1()
	assert.Equal(t, r1[0].AddrHash, r1[2].AddrHash, "same address, same hash")
	assert.Equal(t, r1[0].AddrHash, r1[3].AddrHash, "IPv4-mapped addresses are unmapped")
	assert.NotEqual(t, r1[0].AddrHash, r1[1].AddrHash, "another port, another hash")
	assert.NotEqual(t, r1[0].AddrHash, r2[0].AddrHash, "another recording, another hash")
	assert.NotEqual(t, r1[1].AddrHash, r2[1].AddrHash)
	assert.NotEqual(t, [8]byte{}, r1[0].AddrHash)
}

// writeBlocks records n blocks, one a second from at(0), each a tick and
// a world blob of size random bytes (incompressible), flushed.
func writeBlocks(t *testing.T, w *record.Writer, from, n uint64, size int) {
	rng := rand.New(rand.NewPCG(from, n))
	for tick := from; tick < from+n; tick++ {
		now := at(time.Duration(tick) * time.Second)
		w.Tick(now, tick, time.Second)
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint64(b, tick)
		w.World(now, b)
		w.Flush(now)
	}
}

// MaxBytes deletes the oldest files, this recording's and older ones'.
func TestDeleteByMaxBytes(t *testing.T) {
	dir := t.TempDir()
	const max = 10_000
	cfg := record.Config{FileBytes: 1, MaxBytes: max, MaxAge: -1} // a file per block
	w, err := record.NewWriter(dir, cfg, at(0))
	require.NoError(t, err)
	writeBlocks(t, w, 0, 50, 1000)
	require.NoError(t, w.Close())

	size := func() (total int64, n int) {
		for _, f := range recFiles(t, dir) {
			info, err := os.Stat(f)
			require.NoError(t, err)
			total += info.Size()
			n++
		}
		return total, n
	}
	total, n := size()
	assert.LessOrEqual(t, total, int64(max))
	assert.Greater(t, total, int64(max-1100)) // one file less would do
	st := w.Stats()
	assert.EqualValues(t, 50, st.FilesOpened)
	assert.EqualValues(t, 50-n, st.FilesDeleted)
	// the newest blocks are left, in order
	assert.Equal(t, seq(uint64(50-n), 49), ticks(readAll(t, dir)))

	// a second recording in the same directory counts the first one's
	// files, deletes them first, and its files sort after them
	w, err = record.NewWriter(dir, cfg, at(100*time.Second))
	require.NoError(t, err)
	writeBlocks(t, w, 100, 3, 1000)
	require.NoError(t, w.Close())
	total, n2 := size()
	assert.LessOrEqual(t, total, int64(max))
	assert.Equal(t, n, n2)
	assert.EqualValues(t, 3, w.Stats().FilesDeleted)
	assert.Equal(t, append(seq(uint64(53-n), 49), 100, 101, 102), ticks(readAll(t, dir)))
}

// MaxAge deletes a file once all of it is older than MaxAge of recording
// time.
func TestDeleteByMaxAge(t *testing.T) {
	dir := t.TempDir()
	w, err := record.NewWriter(dir, record.Config{FileAge: time.Second, FileBytes: -1, MaxBytes: -1, MaxAge: 5 * time.Second}, at(0))
	require.NoError(t, err)
	writeBlocks(t, w, 0, 20, 10) // a file a second, the last at 19 s
	require.NoError(t, w.Close())
	// file i ends when file i+1 starts, at i+1 s: it is older than 5 s at
	// 19 s when i+1 < 14
	assert.Equal(t, seq(13, 19), ticks(readAll(t, dir)))
	assert.Len(t, recFiles(t, dir), 7)
	assert.EqualValues(t, 13, w.Stats().FilesDeleted)
	assert.EqualValues(t, 19, w.Stats().FilesRotated)
}

// TestGameRecord: the game's options go through as written.
func TestGameRecord(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_700_000_000, 0)
	w, err := record.NewWriter(dir, record.Config{}, now)
	require.NoError(t, err)
	w.Game(now, []byte(`{"game":"arena","seed":7}`))
	w.Tick(now, 1, time.Second/60)
	require.NoError(t, w.Close())
	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	rec, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, record.KindGame, rec.Kind)
	assert.Equal(t, `{"game":"arena","seed":7}`, string(rec.Data))
	assert.Equal(t, "game: 25 bytes", rec.String())
	rec, err = r.Next()
	require.NoError(t, err)
	assert.Equal(t, record.KindTick, rec.Kind)
}
