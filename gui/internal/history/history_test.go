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

func snapshot(sec int64, peers ...server.PeerSnapshot) *server.Snapshot {
	return &server.Snapshot{
		Taken:       time.Unix(sec+1, 0),
		Connections: len(peers),
		LastSecond: server.Second{Unix: sec, Ticks: 60, DatagramsIn: 100, DatagramsOut: 90, BytesIn: 1000, BytesOut: 900,
			Phase: server.Phases{Messages: 10 * time.Millisecond, Update: 5 * time.Millisecond, Network: 20 * time.Millisecond, Idle: 965 * time.Millisecond}},
		Peers: peers,
	}
}

func peer(tok uint32, recv, assembled uint64) server.PeerSnapshot {
	return server.PeerSnapshot{Token: tok, Addr: netip.MustParseAddrPort("192.0.2.1:1"),
		Stats: conn.Stats{Received: recv, Assembled: assembled, BytesRecv: 10 * recv, BytesSent: 10 * assembled}}
}

func TestHistorySamplesSnapshots(t *testing.T) {
	h := New(300)
	assert.Zero(t, h.Seconds())
	h.Add(snapshot(1000, peer(1, 30, 20)))
	require.Len(t, h.Rows, 1)
	assert.EqualValues(t, 30, h.Rows[0].PktsIn, "a new client's rate is its counters over the interval")
	h.Add(snapshot(1001, peer(1, 90, 50), peer(2, 5, 5)))
	assert.Equal(t, 2, h.Seconds())
	assert.EqualValues(t, 1001, h.Last())
	require.Len(t, h.Rows, 2)
	assert.EqualValues(t, 60, h.Rows[0].PktsIn)
	assert.EqualValues(t, 30, h.Rows[0].PktsOut)
	assert.EqualValues(t, 600, h.Rows[0].BytesIn)
	assert.EqualValues(t, 300, h.Rows[0].BytesOut)
	assert.EqualValues(t, 5, h.Rows[1].PktsIn)

	// The same snapshot again changes nothing.
	h.Add(snapshot(1001, peer(1, 90, 50), peer(2, 5, 5)))
	assert.EqualValues(t, 60, h.Rows[0].PktsIn)

	// A snapshot two seconds later (one was missed): rates per second;
	// the missed second reads zero.
	h.Add(snapshot(1003, peer(1, 190, 50)))
	assert.EqualValues(t, 50, h.Rows[0].PktsIn)
	assert.Equal(t, 4, h.Seconds())
	assert.EqualValues(t, 0, h.Ticks.At(1002))
	assert.EqualValues(t, 60, h.Ticks.At(1003))
	assert.EqualValues(t, 965_000, h.Idle.At(1003))
	assert.EqualValues(t, 100, h.PktsIn.At(1001))
	assert.EqualValues(t, 1, h.Clients.At(1003))
}

func TestHistoryCapsSeconds(t *testing.T) {
	h := New(5)
	for s := int64(1); s <= 20; s++ {
		h.Add(snapshot(s))
	}
	assert.Equal(t, 5, h.Seconds())
}
