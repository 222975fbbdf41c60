package conn_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/protocol"
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

// workload is a set of messages of mixed sizes, each starting with its
// 4-byte id and filled with bytes derived from the id, so a delivered
// message can be checked byte for byte.
type workload struct {
	sizes []int
}

func newWorkload(n int, seed uint64) *workload {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := &workload{sizes: make([]int, n)}
	for i := range w.sizes {
		switch r := rng.IntN(100); {
		case r < 70:
			w.sizes[i] = 4 + rng.IntN(200)
		case r < 90:
			w.sizes[i] = 200 + rng.IntN(protocol.MaxSingleMessage-200+1)
		case r < 97:
			w.sizes[i] = protocol.MaxSingleMessage + 1 + rng.IntN(8000)
		default:
			w.sizes[i] = 20_000 + rng.IntN(20_000)
		}
	}
	return w
}

func (w *workload) message(id int) []byte {
	b := make([]byte, w.sizes[id])
	binary.BigEndian.PutUint32(b, uint32(id))
	x := uint32(id)*2654435761 + 1
	for i := 4; i < len(b); i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// tally records deliveries and callbacks per message id.
type tally struct {
	w         *workload
	delivered []int
	corrupt   []int
	cbTrue    []int
	cbFalse   []int
}

func newTally(w *workload) *tally {
	n := len(w.sizes)
	return &tally{w: w, delivered: make([]int, n), cbTrue: make([]int, n), cbFalse: make([]int, n)}
}

func (ta *tally) handler(_ protocol.Seq, msg []byte) {
	if len(msg) < 4 {
		ta.corrupt = append(ta.corrupt, -1)
		return
	}
	id := int(binary.BigEndian.Uint32(msg))
	if id >= len(ta.w.sizes) || string(msg) != string(ta.w.message(id)) {
		ta.corrupt = append(ta.corrupt, id)
		return
	}
	ta.delivered[id]++
}

func (ta *tally) callback(id int) func(bool) {
	return func(ok bool) {
		if ok {
			ta.cbTrue[id]++
		} else {
			ta.cbFalse[id]++
		}
	}
}

func (ta *tally) callbacksDone() bool {
	for id := range ta.cbTrue {
		if ta.cbTrue[id]+ta.cbFalse[id] == 0 {
			return false
		}
	}
	return true
}

// runWorkload connects a pair over badLink both ways and sends the
// workload's messages, even ids from the client and odd ids from the
// server, with retry mode mode.
func runWorkload(t *testing.T, n int, mode conn.RetryMode, seed uint64) (*pair, *tally) {
	p := newPair(t, badLink, badLink, seed)
	w := newWorkload(n, seed)
	ta := newTally(w)
	p.connect()
	p.client.SetHandler(ta.handler)
	p.server.SetHandler(ta.handler)
	for id := range n {
		from := p.client
		if id%2 == 1 {
			from = p.server
		}
		require.NoError(t, from.Send(w.message(id), mode, ta.callback(id)))
	}
	return p, ta
}

// TestLossyLinkGuaranteed sends 10,000 messages of mixed sizes (some over
// 20 KB, fragmented) both ways with RETRY_ON_TIMEOUT over a link that drops
// 25%, duplicates 10%, delays and reorders: every message must arrive
// exactly once and byte-exact, and every callback must fire once with true.
func TestLossyLinkGuaranteed(t *testing.T) {
	const n = 10_000
	p, ta := runWorkload(t, n, conn.RetryOnTimeout, 7)
	done := func() bool {
		if !ta.callbacksDone() {
			return false
		}
		for _, c := range ta.delivered {
			if c == 0 {
				return false
			}
		}
		return true
	}
	finished := p.runUntil(2*time.Millisecond, 30*time.Minute, done)
	// Let stray duplicates and retransmissions drain, then check again.
	p.runUntil(2*time.Millisecond, 3*time.Second, func() bool { return false })
	t.Logf("simulated %v; link c2s %+v s2c %+v", p.now.Sub(start), p.c2s.Stats(), p.s2c.Stats())
	t.Logf("client stats: %+v", statsLine(p.client))
	t.Logf("server stats: %+v", statsLine(p.server))
	require.True(t, finished, "not everything was delivered and acknowledged")
	require.Empty(t, ta.corrupt, "corrupt or unknown messages")
	for id := range n {
		require.Equal(t, 1, ta.delivered[id], "message %d delivered %d times", id, ta.delivered[id])
		require.Equal(t, 1, ta.cbTrue[id], "message %d: callback true %d times", id, ta.cbTrue[id])
		require.Equal(t, 0, ta.cbFalse[id], "message %d: callback false", id)
	}
	assert.Equal(t, conn.Connected, p.client.Status())
	assert.Equal(t, conn.Connected, p.server.Status())
	assert.Greater(t, p.c2s.Stats().Dropped, uint64(0))
	assert.Greater(t, p.client.Stats().Drops.Duplicate+p.server.Stats().Drops.Duplicate, uint64(0))
}

// TestLossyLinkUnreliable sends the same workload with retry mode NONE:
// nothing may be delivered twice or corrupted; every callback fires exactly
// once; a message that never arrived must get false, and true means it
// arrived.
func TestLossyLinkUnreliable(t *testing.T) {
	const n = 10_000
	p, ta := runWorkload(t, n, conn.RetryNone, 11)
	finished := p.runUntil(2*time.Millisecond, 30*time.Minute, ta.callbacksDone)
	p.runUntil(2*time.Millisecond, 3*time.Second, func() bool { return false })
	t.Logf("simulated %v; client stats: %s", p.now.Sub(start), statsLine(p.client))
	require.True(t, finished, "callbacks missing")
	require.Empty(t, ta.corrupt)
	lost, arrived := 0, 0
	for id := range n {
		require.LessOrEqual(t, ta.delivered[id], 1, "message %d delivered twice", id)
		require.Equal(t, 1, ta.cbTrue[id]+ta.cbFalse[id], "message %d: %d callbacks", id, ta.cbTrue[id]+ta.cbFalse[id])
		if ta.delivered[id] == 0 {
			require.Equal(t, 1, ta.cbFalse[id], "message %d was lost but its callback said true", id)
			lost++
		} else {
			arrived++
		}
		if ta.cbTrue[id] == 1 {
			require.Equal(t, 1, ta.delivered[id], "message %d acknowledged but not delivered", id)
		}
	}
	t.Logf("arrived %d, lost %d", arrived, lost)
	assert.Greater(t, lost, 0)
	assert.Greater(t, arrived, n/2)
}

func statsLine(c *conn.Conn) string {
	s := c.Stats()
	return fmtStats(s)
}

func fmtStats(s *conn.Stats) string {
	return fmt.Sprintf("assembled=%d received=%d acked=%d timeouts=%d delivered=%d resent=%d dupmsgs=%d bad=%d drops=%+v latency=%v",
		s.Assembled, s.Received, s.Acked, s.Timeouts, s.Delivered, s.Resent, s.DuplicateMessages, s.BadMessages, s.Drops, time.Duration(s.Latency.Last())*time.Microsecond)
}
