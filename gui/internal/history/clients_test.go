package history

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

func row(tok uint32, recv, resent, timeouts uint64, latency time.Duration) server.PeerSnapshot {
	return server.PeerSnapshot{Token: tok, Addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(tok)), Latency: latency,
		Stats: conn.Stats{Received: recv, Assembled: recv, BytesRecv: 10 * recv, BytesSent: 10 * recv, Resent: resent, Timeouts: timeouts}}
}

func TestClientSeriesAreDifferences(t *testing.T) {
	cs := NewClients(ClientBins, MaxClients)
	cs.Add(snapshot(1000, row(7, 100, 0, 0, 5*time.Millisecond)))
	c := cs.Get(7)
	require.NotNil(t, c)
	assert.Equal(t, time.Unix(1001, 0), c.FirstSeen)
	assert.EqualValues(t, 0, c.PktsIn.At(1000), "no previous row: no rate")
	assert.Equal(t, 0, c.Seconds(), "the series start with the second snapshot")

	cs.Add(snapshot(1001, row(7, 160, 3, 1, 6*time.Millisecond)))
	assert.EqualValues(t, 60, c.PktsIn.At(1001))
	assert.EqualValues(t, 600, c.BytesOut.At(1001))
	assert.EqualValues(t, 3, c.Resent.At(1001))
	assert.EqualValues(t, 1, c.Timeouts.At(1001))
	assert.EqualValues(t, 6000, c.Latency.At(1001))
	assert.Equal(t, 1, c.Seconds())

	// The same snapshot again changes nothing.
	cs.Add(snapshot(1001, row(7, 160, 3, 1, 6*time.Millisecond)))
	assert.EqualValues(t, 60, c.PktsIn.At(1001))

	// A missed snapshot: the counts are spread over both seconds, none
	// lost; the latency holds its level.
	cs.Add(snapshot(1003, row(7, 261, 3, 1, 8*time.Millisecond)))
	assert.EqualValues(t, 50, c.PktsIn.At(1002))
	assert.EqualValues(t, 51, c.PktsIn.At(1003))
	assert.EqualValues(t, 8000, c.Latency.At(1002))
	assert.Equal(t, 3, c.Seconds())

	// Drops get series only once they happen.
	for i := range c.Drops {
		assert.Zero(t, c.Drops[i].Len())
	}
	r := row(7, 261, 3, 1, 8*time.Millisecond)
	r.Stats.Drops.Auth = 4
	r.Throttled = 2
	cs.Add(snapshot(1004, r))
	assert.EqualValues(t, 4, c.Drops[DropAuth].At(1004))
	assert.EqualValues(t, 2, c.Drops[DropThrottled].At(1004))
	assert.Zero(t, c.Drops[DropStale].Len())
	assert.Equal(t, "auth", DropAuth.String())
}

// TestClientsBounded: series are kept for the clients present only, up
// to the limit, with a fixed number of bins each, so memory is bounded
// however many clients come and go.
func TestClientsBounded(t *testing.T) {
	const limit = 50
	cs := NewClients(ClientBins, limit)
	// 200 clients at once: only the limit get series.
	var peers []server.PeerSnapshot
	for i := uint32(1); i <= 200; i++ {
		peers = append(peers, row(i, 0, 0, 0, 0))
	}
	cs.Add(snapshot(1000, peers...))
	assert.Equal(t, limit, cs.Len())
	perClient := cs.Get(1).Bytes()
	assert.LessOrEqual(t, perClient, 7*4*ClientBins, "seven dense series of 4-byte bins")

	// An hour of clients coming and going, each second a new set: the
	// series never outgrow the limit and the free list.
	for s := int64(1); s <= 3600; s++ {
		peers = peers[:0]
		for i := range uint32(20) {
			peers = append(peers, row(uint32(s)*100+i, uint64(s), 0, 0, 0))
		}
		cs.Add(snapshot(1000+s, peers...))
		require.LessOrEqual(t, cs.Len(), limit)
	}
	assert.Equal(t, 20, cs.Len(), "only the clients present")
	assert.LessOrEqual(t, cs.Bytes(), (limit+64)*perClient, "bounded memory")
	// A client's bins stay at ClientBins however long it stays.
	long := NewClients(ClientBins, limit)
	for s := int64(0); s < 1000; s++ {
		long.Add(snapshot(5000+s, row(9, uint64(s)*10, 0, 0, 0)))
	}
	assert.Equal(t, ClientBins, long.Get(9).Seconds())
	assert.Equal(t, ClientBins, long.Get(9).PktsIn.Len())
}

// TestClientsPin: the pinned client (the one shown up close) keeps its
// series when it leaves, and even over the limit.
func TestClientsPin(t *testing.T) {
	cs := NewClients(ClientBins, 1)
	cs.Add(snapshot(1000, row(1, 0, 0, 0, 0), row(2, 0, 0, 0, 0)))
	assert.Nil(t, cs.Get(2), "over the limit")
	cs.Pin(2)
	cs.Add(snapshot(1001, row(1, 10, 0, 0, 0), row(2, 10, 0, 0, 0)))
	require.NotNil(t, cs.Get(2), "pinned: followed over the limit")
	cs.Add(snapshot(1002, row(1, 20, 0, 0, 0)))
	require.NotNil(t, cs.Get(2), "pinned: kept after it left")
	assert.True(t, cs.Get(2).Gone)
	cs.Pin(0)
	assert.Nil(t, cs.Get(2), "unpinned and gone: forgotten")
	// A restarted server's clients start afresh.
	s := snapshot(1003, row(1, 5, 0, 0, 0))
	s.Started = time.Unix(1002, 0)
	cs.Add(s)
	assert.EqualValues(t, 0, cs.Get(1).PktsIn.At(1003), "no difference against the old server's counters")
	assert.Equal(t, 0, cs.Get(1).Seconds())
}

func TestTroublesPerSecond(t *testing.T) {
	h := New(300)
	s := snapshot(1000)
	s.Stats.Junk = 100
	h.Add(s)
	assert.EqualValues(t, 0, h.Trouble[Junk].At(1000), "no previous snapshot")
	s = snapshot(1001)
	s.Stats.Junk, s.Stats.LateTicks, s.Drops.Auth = 130, 2, 5
	h.Add(s)
	assert.EqualValues(t, 30, h.Trouble[Junk].At(1001))
	assert.EqualValues(t, 2, h.Trouble[LateTicks].At(1001))
	assert.EqualValues(t, 5, h.Trouble[ConnDrops].At(1001))
	assert.EqualValues(t, 130, h.Totals[Junk])
	// A restarted server: its counters start again, nothing negative.
	s = snapshot(1002)
	s.Started = time.Unix(1001, 0)
	s.Stats.Junk = 3
	h.Add(s)
	assert.EqualValues(t, 0, h.Trouble[Junk].At(1002))
	assert.Equal(t, "hello refused", HandshakeRejected.String())
}
