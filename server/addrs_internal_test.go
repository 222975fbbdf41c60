package server

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/dgram"
	"github.com/mpgs/mpgameserver/internal/session"
)

func TestAddrIndex(t *testing.T) {
	x := newAddrIndex()
	v4 := netip.MustParseAddrPort("127.1.2.3:1474")
	v4port := netip.MustParseAddrPort("127.1.2.3:1475")
	mapped := netip.MustParseAddrPort("[::ffff:127.1.2.3]:1474")
	v6 := netip.MustParseAddrPort("[::1]:1474")
	a, b, c, d := &Peer{}, &Peer{}, &Peer{}, &Peer{}
	x.set(v4, a)
	x.set(v4port, b)
	x.set(mapped, c)
	x.set(v6, d)
	assert.Same(t, a, x.get(v4))
	assert.Same(t, b, x.get(v4port), "the port is part of the key")
	assert.Same(t, c, x.get(mapped), "an IPv4-mapped address is another address, as netip.AddrPort says")
	assert.Same(t, d, x.get(v6))
	x.delete(v4)
	x.delete(v6)
	assert.Nil(t, x.get(v4))
	assert.Nil(t, x.get(v6))
	assert.Same(t, b, x.get(v4port))
	assert.Same(t, c, x.get(mapped))
}

// The lookahead hands route the peer it found for a datagram only while
// the address index has not changed since the lookup: a client that left,
// came back or moved in between is looked up again.
func TestRouteAheadFollowsTheIndex(t *testing.T) {
	key, err := conn.LoadPrivateKey("../internal/vectors/testdata/server_root.key.pem")
	require.NoError(t, err)
	newPeer := func() *Peer {
		c, err := session.NewClient(&session.Config{ServerKey: key.Public(), Logger: slog.New(slog.DiscardHandler)}, time.Now())
		require.NoError(t, err)
		return &Peer{conn: c}
	}
	s := &Server{byAddr: newAddrIndex()}
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:1000"),
		netip.MustParseAddrPort("127.0.0.1:1001"),
		netip.MustParseAddrPort("[::1]:1002"),
	}
	peers := map[netip.AddrPort]*Peer{}
	for _, a := range addrs {
		peers[a] = newPeer()
		s.byAddr.set(a, peers[a])
	}
	unknown := netip.MustParseAddrPort("127.0.0.1:2000")
	batch := make([]dgram.Datagram, 12)
	for i := range batch {
		batch[i] = dgram.Datagram{From: addrs[i%len(addrs)], Data: make([]byte, 32)}
	}
	batch[7].From = unknown

	for i := range batch {
		got := s.routeAhead(batch, i)
		switch {
		case i < aheadDepth || batch[i].From == unknown:
			assert.Nil(t, got, "datagram %d: not looked up ahead", i)
		default:
			assert.Same(t, peers[batch[i].From], got, "datagram %d", i)
		}
	}
	s.ahead = lookahead{}

	// The first client leaves and another takes its address while the
	// lookahead holds lookups made before.
	changeAt := aheadDepth + 2
	var moved *Peer
	for i := range batch {
		if i == changeAt {
			s.byAddr.delete(addrs[0])
			moved = newPeer()
			s.byAddr.set(addrs[0], moved)
		}
		got := s.routeAhead(batch, i)
		lookedUp := i - aheadDepth // the lookup for i ran when routeAhead(i-aheadDepth) did
		switch {
		case i < aheadDepth || batch[i].From == unknown:
			assert.Nil(t, got, "datagram %d", i)
		case lookedUp < changeAt && changeAt <= i:
			assert.Nil(t, got, "datagram %d: found before the change, looked up again", i)
		case batch[i].From == addrs[0] && i >= changeAt:
			assert.Same(t, moved, got, "datagram %d", i)
		default:
			assert.Same(t, peers[batch[i].From], got, "datagram %d", i)
		}
	}
}
