//go:build linux

package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// bufferSizes returns the socket's buffer sizes as the system reports
// them (Linux counts its bookkeeping too: twice what was asked).
func bufferSizes(uc *net.UDPConn) (rcv, snd int) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = rc.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	return rcv, snd
}
