package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// The bulk tests run on the in-memory network in a synctest bubble: the
// times they assert are fake, the server's and the clients' own ticks, so
// they hold however busy the machine is. The real-socket test in
// socket_test.go checks the same transfer on the loopback without timing
// it; BENCHMARKS.md has the loopback figures.

const frame = time.Second / 60

// frames runs the clients' Update at 60 Hz, as games do, until done or the
// (fake) limit, and reports whether done.
func frames(limit time.Duration, done func() bool, cs ...*client.Client) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, c := range cs {
			c.Update()
		}
		if done() {
			return true
		}
		time.Sleep(frame)
	}
	return done()
}

func bulkMessage(n int, tag byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31/7) ^ tag
	}
	b[0] = 'G' // echoed guaranteed
	return b
}

// echoTime sends msgs from c as guaranteed messages and returns the time
// until every echo came back, checking each came back once and intact.
func echoTime(t *testing.T, c *client.Client, limit time.Duration, msgs ...[]byte) time.Duration {
	t.Helper()
	start := time.Now()
	for _, m := range msgs {
		require.NoError(t, c.SendGuaranteed(m, nil))
	}
	var got [][]byte
	require.True(t, frames(limit, func() bool {
		for _, m := range c.Messages() {
			got = append(got, m.Data)
		}
		return len(got) >= len(msgs)
	}, c), "%d of %d echoes in %v", len(got), len(msgs), limit)
	took := time.Since(start)
	frames(time.Second, func() bool { return false }, c) // late copies would show now
	got = append(got, dataOf(c.Messages())...)
	require.Len(t, got, len(msgs), "each echo once")
	for i, m := range msgs {
		require.True(t, bytes.Equal(m, got[i]), "echo %d intact", i)
	}
	return took
}

func dataOf(ms []client.Message) [][]byte {
	var out [][]byte
	for _, m := range ms {
		out = append(out, m.Data)
	}
	return out
}

// TestBulkEcho: a 1 MB guaranteed message is echoed in well under half a
// second of the server's and the game's ticks (a datagram a tick took 25
// s), ten of them queued at once in under five, and the protocol's largest
// message in under three.
func TestBulkEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, echoing(newRecorder()), nil)
		c := w.connect()
		one := echoTime(t, c, 10*time.Second, bulkMessage(1_000_000, 1))
		var ten [][]byte
		for i := range 10 {
			ten = append(ten, bulkMessage(1_000_000, byte(i)))
		}
		all := echoTime(t, c, 30*time.Second, ten...)
		largest := echoTime(t, c, 30*time.Second, bulkMessage(conn.MaxMessageSize, 9))
		t.Logf("echo of 1 MB: %v; of 10 x 1 MB: %v; of 8 MiB: %v (fake time)", one, all, largest)
		assert.Less(t, one, 500*time.Millisecond)
		assert.Less(t, all, 5*time.Second)
		assert.Less(t, largest, 3*time.Second)
		time.Sleep(time.Second) // a snapshot after the transfers
		s := w.snapshot()
		assert.Zero(t, s.Stats.Throttled, "the client's bursts stay within its share of a tick")
		require.Len(t, s.Peers, 1)
		assert.Greater(t, s.Peers[0].Window, 16*1472, "the window grew past its start")
		assert.Greater(t, s.Peers[0].Bandwidth, 1e6, "and measured the path")
	})
}

// TestBulkThroughLoss: behind 2% loss each way and 50 ms of round trip
// (25 ms each way), a 4 MB upload and its echo keep more than 1 MB/s of
// goodput each way.
func TestBulkThroughLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, lossy := startBehind(t, echoing(newRecorder()), netsim.Profile{Loss: 0.02, Delay: 25 * time.Millisecond}, 7)
		c := w.connectThrough(5)
		msg := bulkMessage(4_000_000, 3)
		took := echoTime(t, c, time.Minute, msg)
		goodput := float64(len(msg)) / took.Seconds() // counting the echo's time against the upload's too
		out, in := lossy.LinkStats()
		t.Logf("4 MB echoed through 2%% loss and 50 ms in %v: %.2f MB/s each way; the link dropped %d datagrams",
			took, 2*float64(len(msg))/took.Seconds()/1e6, out.Dropped+in.Dropped)
		assert.Greater(t, out.Dropped+in.Dropped, uint64(20), "the link did lose datagrams")
		assert.Greater(t, goodput, 1e6)
	})
}

// TestBulkBesideSmallMessages: while one client moves 8 MB each way (then
// three clients at once), the round trips of its own 30 Hz small messages
// and of the other clients' stay within a tick of what they are on an
// idle server.
func TestBulkBesideSmallMessages(t *testing.T) {
	run := func(bulk int) (own, others time.Duration) {
		synctest.Test(t, func(t *testing.T) {
			w := start(t, echoing(newRecorder()), nil)
			var cs []*client.Client
			for range 8 {
				cs = append(cs, w.connect())
			}
			for k := range bulk {
				for i := range 8 {
					require.NoError(t, cs[k].SendGuaranteed(bulkMessage(1_000_000, byte(i)), nil))
				}
			}
			var rtts [8][]time.Duration
			start := time.Now()
			for f := 0; f < 4*60; f++ { // four seconds of frames
				for i, c := range cs {
					c.Update()
					for _, m := range c.Messages() {
						if len(m.Data) == 9 && m.Data[0] == 's' {
							sent := start.Add(time.Duration(binary.BigEndian.Uint64(m.Data[1:])))
							rtts[i] = append(rtts[i], time.Since(sent))
						}
					}
					if f%2 == i%2 {
						var b [9]byte
						b[0] = 's'
						binary.BigEndian.PutUint64(b[1:], uint64(time.Since(start)))
						require.NoError(t, c.Send(b[:], conn.RetryNone, nil))
					}
				}
				time.Sleep(frame)
			}
			own = p99(rtts[0])
			for _, r := range rtts[1:] {
				others = max(others, p99(r))
			}
			require.Greater(t, len(rtts[0]), 100)
		})
		return own, others
	}
	idleOwn, idleOthers := run(0)
	busyOwn, busyOthers := run(1)
	hogOwn, hogOthers := run(3)
	t.Logf("small-message round trip p99: idle %v (others %v); during 8 MB each way %v (others %v); three such clients %v (others %v)",
		idleOwn, idleOthers, busyOwn, busyOthers, hogOwn, hogOthers)
	assert.LessOrEqual(t, busyOwn, idleOwn+frame, "the bulk client's own small messages")
	assert.LessOrEqual(t, busyOthers, idleOthers+frame, "the other clients'")
	assert.LessOrEqual(t, hogOwn, idleOwn+frame, "with three bulk clients, theirs")
	assert.LessOrEqual(t, hogOthers, idleOthers+frame, "with three bulk clients, the others'")
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// TestOrderedOverChaos: 3,000 ordered messages each way (some of several
// packets) through 25% loss, duplication and reordering reach the other
// end's handler exactly once and in order, beside unordered ones.
func TestOrderedOverChaos(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 3000
		r := newRecorder()
		var toServer []int
		r.onMessage = func(p *server.Peer, msg []byte) {
			if msg[0] != 'o' {
				return
			}
			k := int(binary.BigEndian.Uint32(msg[1:]))
			toServer = append(toServer, k)
			// Answer each with an ordered message of the same number.
			if err := p.SendOrdered(orderedMsg(k), nil); err != nil {
				panic(err)
			}
		}
		chaos := netsim.Profile{Loss: 0.25, Duplicate: 0.25, Reorder: 0.25, ReorderDelay: 30 * time.Millisecond, Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
		w, _ := startBehind(t, r, chaos, 11)
		c := w.connectThrough(10)
		var fromServer []int
		unordered := 0
		sent := 0
		acked := 0
		ok := frames(5*time.Minute, func() bool {
			for i := 0; i < 30 && sent < n; i++ {
				require.NoError(t, c.SendOrdered(orderedMsg(sent), func(ok bool) {
					if ok {
						acked++
					}
				}))
				sent++
				if sent%10 == 0 {
					require.NoError(t, c.Send([]byte(fmt.Sprintf("u%d", sent)), conn.RetryOnTimeout, nil))
				}
			}
			for _, m := range c.Messages() {
				if m.Data[0] == 'o' {
					require.Len(t, m.Data, len(orderedMsg(len(fromServer))))
					fromServer = append(fromServer, int(binary.BigEndian.Uint32(m.Data[1:])))
				} else {
					unordered++
				}
			}
			return len(fromServer) == n && acked == n
		}, c)
		require.True(t, ok, "ordered: %d sent, %d acknowledged, %d came back; client %v", sent, acked, len(fromServer), c.Err())
		for i := range n {
			require.Equal(t, i, toServer[i], "client to server: in order, once")
			require.Equal(t, i, fromServer[i], "server to client: in order, once")
		}
		assert.Len(t, toServer, n)
		assert.Equal(t, n/10, len(r.messages(c.Token()))-n, "the unordered ones arrived too")
	})
}

// orderedMsg is ordered message k: every 50th spans three packets.
func orderedMsg(k int) []byte {
	size := 5 + k%40
	if k%50 == 49 {
		size = 4000
	}
	b := make([]byte, size)
	b[0] = 'o'
	binary.BigEndian.PutUint32(b[1:], uint32(k))
	return b
}

// TestIdleConnectionsAreNotPolledEveryTick: a tick visits only the
// connections with work. Quiet clients are polled for their keep-alives
// (every 500 ms while idle) and the datagrams they send, not 60 times a
// second; a client that talks is polled as often as it needs.
func TestIdleConnectionsAreNotPolledEveryTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, echoing(newRecorder()), nil)
		var cs []*client.Client
		for range 20 {
			cs = append(cs, w.connect())
		}
		frames(time.Second, func() bool { return false }, cs...)
		before := w.snapshot().Stats.Polls
		frames(2*time.Second, func() bool { return false }, cs...)
		idle := float64(w.snapshot().Stats.Polls-before) / 20 / 2
		t.Logf("an idle connection is polled %.1f times a second", idle)
		assert.Less(t, idle, 30.0, "fewer than every tick")
		assert.Greater(t, idle, 3.0, "but for every keep-alive, two a second each way")

		// Talking clients: every message is echoed, as promptly as before.
		got := 0
		for i := range 120 {
			for _, c := range cs {
				require.NoError(t, c.Send([]byte(fmt.Sprintf("m%d", i)), conn.RetryNone, nil))
			}
			frames(frame, func() bool { return false }, cs...)
			for _, c := range cs {
				got += len(c.Messages())
			}
		}
		frames(time.Second, func() bool {
			for _, c := range cs {
				got += len(c.Messages())
			}
			return got == 20*120
		}, cs...)
		assert.Equal(t, 20*120, got)
	})
}
