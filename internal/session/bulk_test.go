package session_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/pair"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// tick is the step of the bulk tests: the ends are driven as a 60 Hz
// server and a 60 Hz game drive them.
const tick = time.Second / 60

// loopPair connects a pair whose steps drive both ends as the real loops
// do (pair.Loop).
func loopPair(t *testing.T, c2s, s2c netsim.Profile, seed uint64, plain bool) *pair.Pair {
	t.Helper()
	p := newPair(t, c2s, s2c, seed)
	p.Loop = true
	p.ClientConfig.PlainHello = plain
	require.NoError(t, p.Connect(10*time.Second))
	return p
}

func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// bulkTime sends msg from the client to the server as a guaranteed message
// and returns the fake time until it was delivered, checking that it
// arrived once and intact.
func bulkTime(t *testing.T, p *pair.Pair, msg []byte, limit time.Duration) time.Duration {
	t.Helper()
	got := 0
	p.Server.SetHandler(func(_ protocol.Seq, m []byte) {
		got++
		require.True(t, bytes.Equal(msg, m), "the message arrives intact")
	})
	start := p.Now
	acked := false
	require.NoError(t, p.Client.Send(msg, conn.RetryOnTimeout, func(ok bool) { acked = ok }))
	p.RunUntil(tick, limit, func() bool { return got > 0 && acked })
	require.Equal(t, 1, got, "delivered exactly once")
	require.True(t, acked)
	p.Run(tick, time.Second) // late copies change nothing
	require.Equal(t, 1, got)
	return p.Now.Add(-time.Second).Sub(start)
}

// TestBulkAtLinkSpeed: a 1 MB message crosses a 10 ms link in a few
// round trips of a 60 Hz loop, where one datagram a tick took 16 s.
func TestBulkAtLinkSpeed(t *testing.T) {
	p := loopPair(t, perfect, perfect, 40, false)
	d := bulkTime(t, p, pattern(1<<20, 1), 5*time.Second)
	t.Logf("1 MiB in %v of fake time (%.1f MB/s)", d, float64(1<<20)/d.Seconds()/1e6)
	assert.Less(t, d, 400*time.Millisecond)
	assert.Zero(t, p.Client.Stats().Timeouts, "no packet waited for its ack until its timeout")
}

// TestBulkLargestMessage: the protocol's largest message (8 MiB, 8,192
// fragments) keeps the pace: the window does not shrink round after round
// because acks come on ticks (cc.Controller.SetQuantum).
func TestBulkLargestMessage(t *testing.T) {
	p := loopPair(t, perfect, perfect, 51, false)
	d := bulkTime(t, p, pattern(protocol.MaxMessageSize, 5), 30*time.Second)
	t.Logf("8 MiB in %v of fake time (%.1f MB/s)", d, float64(protocol.MaxMessageSize)/d.Seconds()/1e6)
	assert.Less(t, d, 3*time.Second)
}

// TestBulkThroughLoss: 2% loss each way and 50 ms of round trip, the
// goodput stays above 1 MB/s (a loss-based window would hold about nine
// packets: 180 KB/s).
func TestBulkThroughLoss(t *testing.T) {
	lossy := netsim.Profile{Delay: 25 * time.Millisecond, Loss: 0.02}
	p := loopPair(t, lossy, lossy, 41, false)
	msg := pattern(4<<20, 2)
	d := bulkTime(t, p, msg, 30*time.Second)
	rate := float64(len(msg)) / d.Seconds()
	t.Logf("4 MiB in %v of fake time: %.2f MB/s, %d packets lost, %d resent", d, rate/1e6, p.Client.Stats().Lost, p.Client.Stats().Resent)
	assert.Greater(t, rate, 1e6)
}

// TestBulkToAReferencePeer: a peer that may be the reference (its hello
// carried no extension, or its server sent no caps) is never sent more
// than its ack field reports: a server of the reference gets bursts, with
// at most 26 packets unacknowledged; a client of the reference, whose
// update reads one datagram a frame, gets one datagram a send interval,
// as the reference server sends. Both messages arrive once.
func TestBulkToAReferencePeer(t *testing.T) {
	p := loopPair(t, perfect, perfect, 42, true)
	up, down := pattern(256<<10, 3), pattern(64<<10, 6)
	got := 0
	p.Server.SetHandler(func(_ protocol.Seq, m []byte) {
		got++
		assert.True(t, bytes.Equal(up, m))
	})
	p.Client.SetHandler(func(_ protocol.Seq, m []byte) {
		got++
		assert.True(t, bytes.Equal(down, m))
	})
	require.NoError(t, p.Client.Send(up, conn.RetryOnTimeout, nil))
	require.NoError(t, p.Server.Send(down, conn.RetryOnTimeout, nil))
	most, burst := 0, uint64(0)
	p.RunUntil(tick, 30*time.Second, func() bool {
		most = max(most, p.Client.PendingAcks())
		before := p.Server.Stats().Assembled
		p.Step(tick)
		burst = max(burst, p.Server.Stats().Assembled-before)
		return got == 2
	})
	assert.Equal(t, 2, got)
	assert.LessOrEqual(t, most, 32, "packets awaiting an ack, to the server")
	assert.Greater(t, most, 8, "more than one datagram a tick to the server")
	assert.EqualValues(t, 1, burst, "one datagram a tick to the client")
}

// TestSmallMessagesKeepTheirLatency: while a 4 MB transfer runs on the
// same connection, the client's 30 Hz small messages reach the server as
// fast as on an idle connection.
func TestSmallMessagesKeepTheirLatency(t *testing.T) {
	lat := func(bulk bool) time.Duration {
		link := netsim.Profile{Delay: 20 * time.Millisecond}
		p := loopPair(t, link, link, 43, false)
		worst := time.Duration(0)
		p.Server.SetHandler(func(_ protocol.Seq, m []byte) {
			if len(m) == 16 {
				sent := time.Unix(0, int64(binary.BigEndian.Uint64(m)))
				worst = max(worst, p.Now.Sub(sent))
			}
		})
		if bulk {
			require.NoError(t, p.Client.Send(pattern(4<<20, 4), conn.RetryOnTimeout, nil))
		}
		for i := 0; i < 120; i++ { // 4 s at 30 Hz
			var m [16]byte
			binary.BigEndian.PutUint64(m[:], uint64(p.Now.UnixNano()))
			require.NoError(t, p.Client.Send(m[:], conn.RetryNone, nil))
			p.Step(tick)
			p.Step(tick)
		}
		return worst
	}
	idle, busy := lat(false), lat(true)
	t.Logf("worst one-way latency of a small message: idle %v, during a bulk transfer %v", idle, busy)
	assert.LessOrEqual(t, busy, idle+tick)
}

// TestOrderedThroughChaos: 10,000 ordered messages, some of them longer
// than a packet, through 25% loss, duplication and reordering each way,
// arrive exactly once and in order; unordered messages sent between them
// are delivered as they arrive, ahead of ordered ones held behind a gap.
func TestOrderedThroughChaos(t *testing.T) {
	chaos := netsim.Profile{Delay: 10 * time.Millisecond, Loss: 0.25, Duplicate: 0.25, Reorder: 0.25, ReorderDelay: 30 * time.Millisecond, Jitter: 5 * time.Millisecond}
	p := loopPair(t, perfect, perfect, 44, false)
	p.C2S = netsim.NewLink(chaos, 45)
	p.S2C = netsim.NewLink(chaos, 46)

	const n = 10000
	next := uint32(0)
	sentOrdered := uint32(0)
	overtook := 0
	unordered := map[uint32]bool{}
	p.Server.SetHandler(func(_ protocol.Seq, m []byte) {
		k := binary.BigEndian.Uint32(m[1:])
		switch m[0] {
		case 'o':
			require.Equal(t, next, k, "ordered messages arrive in order, once")
			require.Len(t, m, orderedLen(k))
			next++
		case 'u':
			require.False(t, unordered[k], "no unordered duplicate")
			unordered[k] = true
			if next < k {
				overtook++ // an ordered message sent before it is still held
			}
		}
	})
	acked := 0
	u := uint32(0)
	for steps := 0; sentOrdered < n || next < n; steps++ {
		require.Less(t, steps, 60*600, "ten minutes of fake time: stuck at %d of %d", next, sentOrdered)
		for i := 0; i < 50 && sentOrdered < n; i++ {
			m := make([]byte, orderedLen(sentOrdered))
			m[0] = 'o'
			binary.BigEndian.PutUint32(m[1:], sentOrdered)
			err := p.Client.SendOrdered(m, func(ok bool) {
				if ok {
					acked++
				}
			})
			if err != nil {
				require.ErrorIs(t, err, conn.ErrQueueFull)
				break
			}
			sentOrdered++
			if sentOrdered%10 == 0 {
				var um [5]byte
				um[0] = 'u'
				binary.BigEndian.PutUint32(um[1:], sentOrdered)
				require.NoError(t, p.Client.Send(um[:], conn.RetryOnTimeout, nil))
				u++
			}
		}
		p.Step(tick)
		require.Equal(t, conn.Connected, p.Client.Status(), "%v", p.Client.Err())
	}
	p.Run(tick, 5*time.Second)
	assert.EqualValues(t, n, next)
	assert.Len(t, unordered, int(u))
	assert.Equal(t, n, acked, "every callback ran with true")
	assert.Positive(t, overtook, "unordered messages are not held behind the ordered stream's gaps")
	t.Logf("%d unordered messages overtook a held ordered one; client lost %d packets, resent %d messages",
		overtook, p.Client.Stats().Lost, p.Client.Stats().Resent)
}

// orderedLen gives every 100th ordered message three packets' worth.
func orderedLen(k uint32) int {
	if k%100 == 99 {
		return 4000
	}
	return 5 + int(k%50)
}

// TestOrderedToAReferencePeer: a peer without the extension gets plain
// guaranteed messages one at a time, still in order through loss.
func TestOrderedToAReferencePeer(t *testing.T) {
	lossy := netsim.Profile{Delay: 10 * time.Millisecond, Loss: 0.2, Reorder: 0.2, ReorderDelay: 20 * time.Millisecond}
	p := loopPair(t, perfect, perfect, 47, true)
	p.C2S = netsim.NewLink(lossy, 48)
	p.S2C = netsim.NewLink(lossy, 49)
	var got []uint32
	p.Client.SetHandler(func(_ protocol.Seq, m []byte) {
		require.Len(t, m, 4, "no header: the reference would hand the header to its game")
		got = append(got, binary.BigEndian.Uint32(m))
	})
	for i := uint32(0); i < 50; i++ {
		require.NoError(t, p.Server.SendOrdered(binary.BigEndian.AppendUint32(nil, i), nil))
	}
	p.RunUntil(tick, 60*time.Second, func() bool { return len(got) == 50 })
	require.Len(t, got, 50)
	for i, k := range got {
		require.EqualValues(t, i, k)
	}
}

// TestCapsTellTheClient: a server tells a client of ours that it speaks
// the extension, a plain client is never told.
func TestCapsTellTheClient(t *testing.T) {
	for _, plain := range []bool{false, true} {
		p := loopPair(t, perfect, perfect, 50, plain)
		p.Run(tick, time.Second)
		var ordered []byte
		p.Server.SetHandler(func(_ protocol.Seq, m []byte) { ordered = append([]byte(nil), m...) })
		require.NoError(t, p.Client.SendOrdered([]byte("hi"), nil))
		p.Run(tick, time.Second)
		assert.Equal(t, []byte("hi"), ordered, "plain %v", plain)
		assert.Equal(t, !plain, session.PeerExtended(p.Client), "plain %v", plain)
		assert.Equal(t, !plain, session.PeerExtended(p.Server), "plain %v", plain)
	}
}

// TestNextDueIsEnough: a server end polled only when NextDue says so or a
// datagram arrived (as the server's timer wheel polls it) keeps a lossy,
// busy connection working: every guaranteed echo arrives once, the
// connection never times out, and it is polled far less than every step.
func TestNextDueIsEnough(t *testing.T) {
	lossy := netsim.Profile{Delay: 20 * time.Millisecond, Loss: 0.1, Duplicate: 0.05, Jitter: 10 * time.Millisecond}
	p := loopPair(t, lossy, lossy, 52, false)
	p.Lazy = true
	p.Server.SetHandler(func(_ protocol.Seq, m []byte) {
		require.NoError(t, p.Server.Send(m, conn.RetryOnTimeout, nil))
	})
	got := map[string]int{}
	p.Client.SetHandler(func(_ protocol.Seq, m []byte) { got[string(m)]++ })
	sent := 0
	for step := 0; step < 60*20; step++ {
		if step%20 == 0 && step < 60*15 { // bursts, then five seconds of quiet
			for i := 0; i < 5; i++ {
				size := 10
				if sent%7 == 0 {
					size = 3000
				}
				m := append([]byte(fmt.Sprintf("%06d", sent)), make([]byte, size)...)
				require.NoError(t, p.Client.Send(m, conn.RetryOnTimeout, nil))
				sent++
			}
		}
		p.Step(tick)
		require.Equal(t, conn.Connected, p.Server.Status(), "%v", p.Server.Err())
	}
	assert.Len(t, got, sent)
	for m, k := range got {
		require.Equal(t, 1, k, "%q", m[:6])
	}
	t.Logf("polled at %d of %d steps", p.ServerPolls, 60*20)
	assert.Less(t, p.ServerPolls, 60*20*3/4, "polled only when due")
}
