//go:build linux

package udp

import (
	"net"

	"github.com/mpgs/mpgameserver/engine/internal/mmsg"
)

// SizeBuffers asks for n-byte receive and send buffers on uc and returns
// the sizes the system granted, as it reports them (Linux counts its
// bookkeeping too and reports twice what it was asked). Linux caps the
// request at net.core.rmem_max and wmem_max; a process allowed to
// (CAP_NET_ADMIN, root) is given the size anyway.
func SizeBuffers(uc *net.UDPConn, n int) (rcv, snd int, err error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		rcv, snd, serr = mmsg.SizeBuffers(int(fd), n)
	}); err != nil {
		return 0, 0, err
	}
	return rcv, snd, serr
}
