//go:build linux

package udp

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// grantable reports whether this process can get n-byte buffers of kind
// (rmem or wmem): under the system's cap, or past it with CAP_NET_ADMIN.
func grantable(t *testing.T, kind string, force, n int) bool {
	if b, err := os.ReadFile("/proc/sys/net/core/" + kind + "_max"); err == nil {
		if max, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && max >= n {
			return true
		}
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, n) == nil
}

func TestSizeBuffers(t *testing.T) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer uc.Close()
	const want = 1 << 20
	rcv, snd, err := SizeBuffers(uc, want)
	require.NoError(t, err)
	if grantable(t, "rmem", unix.SO_RCVBUFFORCE, want) {
		assert.GreaterOrEqual(t, rcv, want)
	} else {
		t.Logf("receive buffers are capped below %d bytes here and may not be forced: got %d", want, rcv)
		assert.Positive(t, rcv)
	}
	if grantable(t, "wmem", unix.SO_SNDBUFFORCE, want) {
		assert.GreaterOrEqual(t, snd, want)
	} else {
		assert.Positive(t, snd)
	}
	small, _, err := SizeBuffers(uc, 4096)
	require.NoError(t, err)
	assert.Less(t, small, rcv, "the size reported follows the request")
}
