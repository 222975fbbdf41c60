package session

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// TestProcessAcksSettlesExactlyTheAcknowledgedPackets drives processAcks
// with random ack fields against random sets of packets in flight
// (including seqs that wrap around 65535) and checks that exactly the
// packets the fields name are settled: the one at Ack, and the one d
// before it when bit 32-d of AckBits is set, for d = 1..32. Each packet
// carries one message whose callback reports the ack.
func TestProcessAcksSettlesExactlyTheAcknowledgedPackets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	for round := range 300 {
		client, _, now := benchPair(t)
		// Start anywhere on the ring, near the wrap more often than not.
		client.seq.pktSeq = protocol.Seq(65535 - rng.IntN(80))
		if round%3 == 0 {
			client.seq.pktSeq = protocol.Seq(1 + rng.IntN(65534))
		}
		now = now.Add(time.Second) // a new ctime: the nonce space starts afresh at the new seq
		n := 1 + rng.IntN(60)
		acked := map[protocol.Seq]bool{}
		var seqs []protocol.Seq
		for range n {
			var seq protocol.Seq
			now = now.Add(client.cfg.SendInterval)
			require.NoError(t, client.Send([]byte("m"), conn.RetryNone, func(ok bool) {
				if ok {
					acked[seq] = true
				}
			}))
			require.NotNil(t, client.Poll(now, buf))
			seq = client.seq.pktSeq
			seqs = append(seqs, seq)
		}
		// Some packets settle before the ack arrives (an earlier ack).
		settled := map[protocol.Seq]bool{}
		for i := range client.tx.inflight.n {
			if p := client.tx.inflight.at(i); rng.IntN(8) == 0 {
				settled[p.seq] = true
				client.ackPacket(p)
			}
		}
		client.popAcked()
		client.runCallbacks()
		clear(acked)

		// The ack names a packet in flight, past the newest or before the
		// oldest, with random bits.
		ack := seqs[rng.IntN(n)].Add(rng.IntN(40) - 20)
		if ack == 0 {
			ack = 1
		}
		bits := rng.Uint32()
		if rng.IntN(4) == 0 {
			bits = 0xFFFFFFFF
		}
		want := map[protocol.Seq]bool{}
		for _, s := range seqs {
			d := ack.Diff(s)
			if settled[s] || d < 0 || d > 32 {
				continue
			}
			if d == 0 || bits&(1<<uint(32-d)) != 0 {
				want[s] = true
			}
		}
		client.processAcks(now.Add(10*time.Millisecond), protocol.Header{Ack: ack, AckBits: bits})
		client.runCallbacks()
		assert.Equal(t, want, acked, "round %d: %d packets from %d, ack %d bits %032b", round, n, seqs[0], ack, bits)
		for i := range client.tx.inflight.n {
			p := client.tx.inflight.at(i)
			assert.False(t, want[p.seq] && !p.done, "round %d: packet %d acknowledged but still waiting", round, p.seq)
		}
		if client.tx.inflight.n > 0 {
			assert.False(t, client.tx.inflight.front().done, "round %d: settled packets are popped from the front", round)
		}
	}
}
