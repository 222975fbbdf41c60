package timeline

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/internal/replaytest"
	"github.com/mpgs/mpgameserver/server"
)

var start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// sec is the Taken of the snapshot of second k of the trouble recording.
func sec(k int) time.Time { return start.Add(time.Duration(k) * time.Second) }

// writeTrouble writes a minute of a server ticking 10 times a second with
// three clients (tokens 1001-1003) and, once a second, its snapshot
// (Pending = the second, to tell them apart); a first snapshot comes
// before any tick. Trouble on the way: two stalled ticks and five late
// ones at second 20, one late at 21; 50 junk and 100 auth drops at 30; a
// handler panic at 35; 1002 times out during second 40, 1003 closes during
// 45; 1001's latency jumps from 20 ms to 400 and 450 ms at 50 and 51.
func writeTrouble(t testing.TB, dir string, cfg record.Config) {
	t.Helper()
	s, err := replaytest.New(dir, cfg, start, 10)
	require.NoError(t, err)
	s.Messages = 3
	s.AddPeers(1001, 3)
	for i := range s.Snap.Peers {
		s.Snap.Peers[i].Latency = 20 * time.Millisecond
	}
	s.Publish() // before the first Tick record
	for k := 1; k <= 60; k++ {
		st := &s.Snap.Stats
		s.Snap.Pending = k
		switch k {
		case 20:
			st.Stalls += 2
			st.LateTicks += 5
		case 21:
			st.LateTicks++
		case 30:
			s.Snap.Drops.Auth += 100
			st.Junk += 50
		case 35:
			st.HandlerPanics++
		case 40:
			s.Ticks(4)
			s.Disconnect(1002, server.LeftTimedOut)
		case 45:
			s.Ticks(7)
			s.Disconnect(1003, server.LeftClientClosed)
		case 50:
			s.Peer(1001).Latency = 400 * time.Millisecond
		case 51:
			s.Peer(1001).Latency = 450 * time.Millisecond
		case 52:
			s.Peer(1001).Latency = 20 * time.Millisecond
		}
		require.Equal(t, sec(k), s.Second())
	}
	require.NoError(t, s.Close())
}

func indexed(t testing.TB, path string) *Recording {
	t.Helper()
	r, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, r.Index(context.Background()))
	done, err, skipped, corrupt := r.Progress()
	require.True(t, done)
	require.NoError(t, err)
	require.Zero(t, skipped)
	require.Zero(t, corrupt)
	return r
}

// TestIndexFindsSnapshotsAndMarkers: every snapshot at its time, and
// each trouble marked at the second that shows it.
func TestIndexFindsSnapshotsAndMarkers(t *testing.T) {
	dir := t.TempDir()
	writeTrouble(t, dir, replaytest.Config())
	r := indexed(t, dir)
	first, last := r.Span()
	assert.Equal(t, start, first.UTC())
	assert.False(t, last.Before(sec(59)), "the last block began in the last second")
	snaps := r.Snaps()
	require.Len(t, snaps, 61)
	for k, s := range snaps {
		assert.Equal(t, sec(k), s.Taken().UTC(), "snapshot %d", k)
		assert.Equal(t, k, s.Figures.Pending)
		assert.Nil(t, s.Figures.Peers, "figures only")
	}
	assert.Equal(t, 3, snaps[39].Peers)
	assert.Equal(t, 2, snaps[40].Peers)
	assert.Equal(t, 20, r.Find(sec(20)))
	assert.Equal(t, 20, r.Find(sec(20).Add(999*time.Millisecond)))
	assert.Equal(t, -1, r.Find(start.Add(-time.Millisecond)))
	assert.Equal(t, 21, r.FindAfter(sec(20).Add(time.Millisecond)))
	assert.Equal(t, 61, r.FindAfter(sec(61)))

	ms := r.Markers()
	type seen struct {
		kind          Kind
		snap, through int // the snapshots that show its first and last moments
		count         uint64
		text          string
	}
	var got []seen
	for _, m := range ms {
		got = append(got, seen{m.Kind, r.FindAfter(m.At), r.FindAfter(m.Until), m.Count, m.String()})
	}
	assert.Equal(t, []seen{
		{Stall, 20, 20, 2, "2 stalled ticks"},
		{LateTicks, 20, 21, 6, "6 late ticks over 2 s"},
		{Drop, 30, 30, 50, "50 datagrams dropped: junk"},
		{Drop, 30, 30, 100, "100 datagrams dropped: auth"},
		{Panic, 35, 35, 1, "1 handler panic"},
		{Timeout, 40, 40, 1, "client 1002 timed out"},
		{Disconnect, 45, 45, 1, "client 1003 left (closed by the client)"},
		{LatencySpike, 50, 51, 2, "client 1001 latency 450 ms (its usual 20 ms) over 2 s"},
	}, got)
	for _, m := range ms {
		switch m.Kind {
		case Timeout:
			assert.EqualValues(t, 1002, m.Peer)
			assert.True(t, m.At.After(sec(39).Add(400*time.Millisecond)) && m.At.Before(sec(39).Add(600*time.Millisecond)),
				"reckoned from the ticks: at the fifth tick of second 40, %v", m.At.Sub(sec(39)))
		case LatencySpike:
			assert.Equal(t, 450*time.Millisecond, m.Peak)
			assert.Equal(t, 20*time.Millisecond, m.Base)
		}
	}
}

// TestCursorLoadsAnySnapshot: a cursor reads every snapshot whole, in
// any order, across the files of a recording that rotated every 10 s;
// reading on and seeking give the same.
func TestCursorLoadsAnySnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := replaytest.Config()
	cfg.FileAge = 10 * time.Second
	writeTrouble(t, dir, cfg)
	r := indexed(t, dir)
	assert.Greater(t, r.Files(), 4, "rotated")
	require.Equal(t, 61, r.Len())

	c := r.NewCursor()
	defer c.Close()
	for k := range 61 { // in order: reads on, mostly
		d, err := c.Load(k)
		require.NoError(t, err, "snapshot %d", k)
		assert.Equal(t, k, d.Snapshot.Pending)
		assert.Equal(t, sec(k), d.Snapshot.Taken.UTC())
	}
	d, err := c.Load(39)
	require.NoError(t, err)
	assert.Len(t, d.Snapshot.Peers, 3)
	assert.False(t, d.Snapshot.Peers[0].Addr.IsValid(), "hashed: no address")

	// A recording whose Documents are not in the cache: any order.
	r2 := indexed(t, dir)
	c2 := r2.NewCursor()
	defer c2.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range rng.Perm(61) {
		d, err := c2.Load(k)
		require.NoError(t, err, "snapshot %d", k)
		assert.Equal(t, k, d.Snapshot.Pending)
	}
	_, err = c2.Load(61)
	assert.Error(t, err)
}

// TestTwoRecordingsInOneDirectory: a server restarted on the same
// directory starts its ticks again; both recordings are indexed and each
// snapshot is found in its own.
func TestTwoRecordingsInOneDirectory(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		at := start.Add(time.Duration(run) * time.Hour)
		s, err := replaytest.New(dir, replaytest.Config(), at, 20)
		require.NoError(t, err)
		s.AddPeers(1, 2+run)
		for k := range 10 {
			s.Snap.Pending = 100*run + k
			s.Second()
		}
		require.NoError(t, s.Close())
	}
	r := indexed(t, dir)
	require.Equal(t, 20, r.Len())
	c := r.NewCursor()
	defer c.Close()
	for _, k := range []int{19, 0, 10, 9, 15, 3} {
		d, err := c.Load(k)
		require.NoError(t, err)
		assert.Equal(t, 100*(k/10)+k%10, d.Snapshot.Pending, "snapshot %d", k)
	}
	assert.Empty(t, r.Markers(), "a restart is no trouble")
}

// TestOpenRefuses: a path that is not a recording.
func TestOpenRefuses(t *testing.T) {
	_, err := Open(t.TempDir())
	assert.ErrorContains(t, err, "holds no recording files")
	_, err = Open("/nonexistent/recording")
	assert.Error(t, err)
}

// TestIndexStops: a cancelled index ends early and says so.
func TestIndexStops(t *testing.T) {
	dir := t.TempDir()
	writeTrouble(t, dir, replaytest.Config())
	r, err := Open(dir)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, r.Index(ctx), context.Canceled)
	done, err, _, _ := r.Progress()
	assert.True(t, done)
	assert.ErrorIs(t, err, context.Canceled)
}
