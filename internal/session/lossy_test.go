package session_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/pair"
)

// badLink drops 25%, duplicates 10%, delays 20-50 ms and holds 5% of
// datagrams back by another 150 ms so that later ones overtake them.
var badLink = netsim.Profile{
	Loss:         0.25,
	Duplicate:    0.10,
	Delay:        20 * time.Millisecond,
	Jitter:       30 * time.Millisecond,
	Reorder:      0.05,
	ReorderDelay: 150 * time.Millisecond,
}

// TestLossyLinkGuaranteed sends 10,000 messages of mixed sizes (some over
// 20 KB, fragmented) both ways with RETRY_ON_TIMEOUT over a link that drops
// 25%, duplicates 10%, delays and reorders: every message must arrive
// exactly once and byte-exact, and every callback must fire once with true.
func TestLossyLinkGuaranteed(t *testing.T) {
	const n = 10_000
	p := newPair(t, badLink, badLink, 7)
	w := pair.NewWorkload(n, 7)
	ta, finished, err := pair.Exchange(p, w, conn.RetryOnTimeout, 30*time.Minute, 3*time.Second)
	require.NoError(t, err)
	t.Logf("simulated %v for %d messages, %d bytes", p.Now.Sub(pair.Start), n, w.Bytes())
	t.Logf("links: c2s %+v s2c %+v", p.C2S.Stats(), p.S2C.Stats())
	t.Logf("client: %s", fmtStats(p.Client.Stats()))
	t.Logf("server: %s", fmtStats(p.Server.Stats()))
	require.True(t, finished, "not everything was delivered and acknowledged")
	require.Zero(t, ta.Corrupt, "corrupt or unknown messages")
	for id := range n {
		require.Equal(t, 1, ta.Delivered[id], "message %d delivered %d times", id, ta.Delivered[id])
		require.Equal(t, 1, ta.CbTrue[id], "message %d: callback true %d times", id, ta.CbTrue[id])
		require.Equal(t, 0, ta.CbFalse[id], "message %d: callback false", id)
	}
	assert.Equal(t, conn.Connected, p.Client.Status())
	assert.Equal(t, conn.Connected, p.Server.Status())
	assert.Greater(t, p.C2S.Stats().Dropped, uint64(0))
	assert.Greater(t, p.Client.Stats().Drops.Duplicate+p.Server.Stats().Drops.Duplicate, uint64(0))
}

// TestLossyLinkUnreliable sends the same workload with retry mode NONE:
// nothing may be delivered twice or corrupted; every callback fires exactly
// once; a message that never arrived must get false, and true means it
// arrived.
func TestLossyLinkUnreliable(t *testing.T) {
	const n = 10_000
	p := newPair(t, badLink, badLink, 11)
	ta, finished, err := pair.Exchange(p, pair.NewWorkload(n, 11), conn.RetryNone, 30*time.Minute, 3*time.Second)
	require.NoError(t, err)
	t.Logf("simulated %v; client: %s", p.Now.Sub(pair.Start), fmtStats(p.Client.Stats()))
	require.True(t, finished, "callbacks missing")
	require.Zero(t, ta.Corrupt)
	for id := range n {
		require.LessOrEqual(t, ta.Delivered[id], 1, "message %d delivered twice", id)
		require.Equal(t, 1, ta.CbTrue[id]+ta.CbFalse[id], "message %d: %d callbacks", id, ta.CbTrue[id]+ta.CbFalse[id])
		if ta.Delivered[id] == 0 {
			require.Equal(t, 1, ta.CbFalse[id], "message %d was lost but its callback said true", id)
		}
		if ta.CbTrue[id] == 1 {
			require.Equal(t, 1, ta.Delivered[id], "message %d acknowledged but not delivered", id)
		}
	}
	once, _, lost, _, _ := ta.Counts()
	t.Logf("arrived %d, lost %d", once, lost)
	assert.Greater(t, lost, 0)
	assert.Greater(t, once, n/2)
}

func fmtStats(s conn.Stats) string {
	return fmt.Sprintf("assembled=%d received=%d acked=%d timeouts=%d delivered=%d resent=%d dupmsgs=%d bad=%d drops=%+v",
		s.Assembled, s.Received, s.Acked, s.Timeouts, s.Delivered, s.Resent, s.DuplicateMessages, s.BadMessages, s.Drops)
}
