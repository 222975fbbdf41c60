//go:build !linux

package udp

import "net"

// SizeBuffers asks for n-byte receive and send buffers on uc. This system
// does not tell what it granted: the sizes returned are 0.
func SizeBuffers(uc *net.UDPConn, n int) (rcv, snd int, err error) {
	if err := uc.SetReadBuffer(n); err != nil {
		return 0, 0, err
	}
	return 0, 0, uc.SetWriteBuffer(n)
}
