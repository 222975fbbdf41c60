package record_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/record"
)

// v1File is a recording of format version 1, kept in the repository as it
// was written: 3 seconds of 60 ticks, a client that connects (address
// kept), sends a message a tick and leaves, a checksum a tick, a snapshot
// and a world blob a second.
const v1File = "testdata/rec-1700000000-000001.mpgsrec"

// writeV1 writes what v1File holds: the records a version 1 writer made
// (kinds 1 to 8), with the header's version 1.
func writeV1(t *testing.T, path string) {
	dir := t.TempDir()
	start := time.Unix(1700000000, 0)
	w, err := record.NewWriter(dir, record.Config{KeepAddrs: true}, start)
	require.NoError(t, err)
	now := start
	addr := netip.MustParseAddrPort("192.0.2.7:5000")
	for tick := uint64(1); tick <= 180; tick++ {
		now = start.Add(time.Duration(tick) * time.Second / 60)
		switch tick {
		case 2:
			w.Connect(now, 42, addr)
		case 170:
			w.Disconnect(now, 42, 2)
		}
		if tick > 2 && tick < 170 {
			w.Message(now, 42, []byte{byte(tick), 1, 2, 3})
		}
		if tick%60 == 0 {
			w.Snapshot(now, []byte(`{"second":`+string(rune('0'+tick/60))+`}`))
			w.World(now, []byte{byte(tick / 60)})
		}
		w.Tick(now, tick, time.Second/60)
		w.Checksum(now, tick, tick*7)
	}
	require.NoError(t, w.Close())
	files, err := filepath.Glob(filepath.Join(dir, "*.mpgsrec"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	binary.LittleEndian.PutUint16(b[8:], 1)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// TestWriteV1File rewrites v1File (MPGS_WRITE_V1=1): only if the file was
// lost, since it stands for recordings made by older servers.
func TestWriteV1File(t *testing.T) {
	if os.Getenv("MPGS_WRITE_V1") != "1" {
		t.Skip("set MPGS_WRITE_V1=1 to rewrite " + v1File)
	}
	writeV1(t, v1File)
}

// TestReadsVersion1: a recording of the previous format version, as kept
// in the repository, reads whole and seeks.
func TestReadsVersion1(t *testing.T) {
	b, err := os.ReadFile(v1File)
	require.NoError(t, err)
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[8:]), "the file is of version 1")

	r, err := record.Open(v1File)
	require.NoError(t, err)
	defer r.Close()
	counts := map[record.Kind]int{}
	var last uint64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		counts[rec.Kind]++
		switch rec.Kind {
		case record.KindTick:
			assert.Equal(t, last+1, rec.Tick)
			assert.Equal(t, time.Second/60, rec.Delta)
			last = rec.Tick
		case record.KindConnect:
			assert.Equal(t, uint32(42), rec.Peer)
			assert.Equal(t, netip.MustParseAddrPort("192.0.2.7:5000"), rec.Addr)
		case record.KindDisconnect:
			assert.Equal(t, uint8(2), rec.Reason)
		case record.KindChecksum:
			assert.Equal(t, rec.Tick*7, rec.Sum)
		case record.KindSnapshot:
			assert.Contains(t, string(rec.Data), `{"second":`)
		}
	}
	assert.Equal(t, map[record.Kind]int{record.KindTick: 180, record.KindChecksum: 180, record.KindConnect: 1,
		record.KindDisconnect: 1, record.KindMessage: 167, record.KindSnapshot: 3, record.KindWorld: 3}, counts)

	first, lastTick, start, _, err := r.Span()
	require.NoError(t, err)
	assert.Equal(t, uint64(180), lastTick)
	assert.LessOrEqual(t, first, uint64(1))
	assert.Equal(t, time.Unix(1700000000, 0).Add(time.Second/60), start)
	require.NoError(t, r.SeekTick(125))
	rec, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, record.KindTick, rec.Kind)
	assert.Equal(t, uint64(125), rec.Tick)
}
