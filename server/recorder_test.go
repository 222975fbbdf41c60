package server_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// tape is a Recorder that keeps what it is told, as lines.
type tape struct {
	mu    sync.Mutex
	lines []string
	ticks uint64
	sums  int
	last  uint64
}

func (r *tape) add(s string) {
	r.mu.Lock()
	r.lines = append(r.lines, s)
	r.mu.Unlock()
}

func (r *tape) Tick(_ time.Time, tick uint64, _ time.Duration) {
	r.mu.Lock()
	if tick <= r.last {
		r.lines = append(r.lines, fmt.Sprintf("tick %d after %d", tick, r.last))
	}
	r.last = tick
	r.ticks++
	r.mu.Unlock()
}
func (r *tape) Connect(_ time.Time, peer uint32, addr netip.AddrPort) {
	r.add(fmt.Sprintf("connect %d %v", peer, addr.Addr()))
}
func (r *tape) Disconnect(_ time.Time, peer uint32, why server.DisconnectReason) {
	r.add(fmt.Sprintf("disconnect %d %d", peer, why))
}
func (r *tape) Message(_ time.Time, peer uint32, data []byte) {
	r.add(fmt.Sprintf("message %d %s", peer, data))
}
func (r *tape) Checksum(_ time.Time, tick, sum uint64) {
	r.mu.Lock()
	if tick == r.last && sum == tick*7 {
		r.sums++
	}
	r.mu.Unlock()
}

func (r *tape) snapshot() ([]string, uint64, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...), r.ticks, r.sums
}

// summing is an echoing recorder whose world's checksum is seven times
// its updates.
type summing struct{ *recorder }

func (s summing) Checksum() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(s.updates) * 7
}

// TestRecorderHearsEveryEvent: a Recorder is told each connect, message
// and disconnect the handler gets, in the handler's order, a tick for
// every Update, and a Checksummer handler's checksum after each.
func TestRecorderHearsEveryEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := echoing(newRecorder())
		rec := &tape{}
		w := start(t, summing{r}, func(c *server.Config) { c.Recorder = rec })
		c := w.connect()
		tok, local := c.Token(), c.LocalAddr().Addr()
		for _, m := range []string{"one", "two", "three"} {
			require.NoError(t, c.Send([]byte(m), conn.RetryOnTimeout, nil))
		}
		require.Len(t, collect(c, 3, 3*time.Second), 3)
		c.WaitForDisconnect()
		waitFor(t, "disconnect event", time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", tok)) })
		lines, ticks, sums := rec.snapshot()
		assert.Equal(t, []string{
			fmt.Sprintf("connect %d %v", tok, local),
			fmt.Sprintf("message %d one", tok), fmt.Sprintf("message %d two", tok), fmt.Sprintf("message %d three", tok),
			fmt.Sprintf("disconnect %d %d", tok, server.LeftClientClosed),
		}, lines, "the handler's events, in order, and ticks that only go up")
		r.mu.Lock()
		updates := r.updates
		r.mu.Unlock()
		assert.Positive(t, ticks)
		assert.InDelta(t, updates, int(ticks), 1, "a tick for every Update")
		assert.InDelta(t, ticks, uint64(sums), 1, "a checksum after every Update")
	})
}

// snapTape is a tape that also keeps the snapshots it is given.
type snapTape struct {
	tape
	snaps []server.Snapshot
}

func (r *snapTape) RecordSnapshot(_ time.Time, s *server.Snapshot) {
	var c server.Snapshot
	s.CopyTo(&c)
	r.mu.Lock()
	r.snaps = append(r.snaps, c)
	r.mu.Unlock()
}

// TestSnapshotRecorderGetsEachSecond: a Recorder that keeps snapshots is
// given the server's published snapshot once a second, the same as a
// monitor reads, connected clients in it.
func TestSnapshotRecorderGetsEachSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &snapTape{}
		w := start(t, echoing(newRecorder()), func(c *server.Config) { c.Recorder = rec })
		c := w.connect()
		time.Sleep(3500 * time.Millisecond) // a fake clock's seconds
		rec.mu.Lock()
		snaps := append([]server.Snapshot(nil), rec.snaps...)
		rec.mu.Unlock()
		require.GreaterOrEqual(t, len(snaps), 3)
		assert.LessOrEqual(t, len(snaps), 5, "once a second, not once a tick")
		last := snaps[len(snaps)-1]
		require.Len(t, last.Peers, 1)
		assert.Equal(t, c.Token(), last.Peers[0].Token)
		var published server.Snapshot
		w.srv.Snapshot(&published)
		assert.Equal(t, published.Taken, last.Taken, "the one a monitor reads")
		for i := 1; i < len(snaps); i++ {
			assert.True(t, snaps[i].Taken.After(snaps[i-1].Taken))
		}
	})
}
