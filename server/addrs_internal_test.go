package server

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
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
