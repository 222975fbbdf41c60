//go:build linux

package loadgen

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientAddresses(t *testing.T) {
	seen := map[[4]byte]bool{}
	for _, idx := range []int{0, 1, 254, 255, 256, 65535, 65536, maxSharedClients - 1} {
		a := clientAddr(idx)
		assert.Equal(t, byte(127), a[0], "on the loopback")
		assert.False(t, seen[a])
		seen[a] = true
		got, ok := clientIndex(a, maxSharedClients)
		assert.True(t, ok)
		assert.Equal(t, idx, got)
	}
	_, ok := clientIndex([4]byte{127, 0, 0, 1}, 10)
	assert.False(t, ok, "the server's own address is nobody's")
	_, ok = clientIndex(clientAddr(10), 10)
	assert.False(t, ok, "beyond the clients")
	assert.True(t, sharedPossible(netip.MustParseAddrPort("127.0.0.1:1")))
	assert.True(t, sharedPossible(netip.MustParseAddrPort("[::ffff:127.0.0.1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("[::1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("192.0.2.1:1")))
}
