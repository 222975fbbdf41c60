package udp

import "net/netip"

// rawConn runs system calls on a socket, waiting for it when f reports
// it would block (syscall.RawConn does this for a *net.UDPConn).
type rawConn interface {
	Control(f func(fd uintptr)) error
	Read(f func(fd uintptr) bool) error
	Write(f func(fd uintptr) bool) error
}

// batchReader reads many datagrams per system call into buffers given
// once with setBuffers.
type batchReader interface {
	setBuffers(bufs [][]byte)
	// read returns how many datagrams it read: the datagram in buffer i
	// is ns[i] bytes from froms[i]. With wait, it blocks until some
	// arrive; without, it returns 0 when there are none.
	read(ns []int, froms []netip.AddrPort, wait bool) (int, error)
	// kernelDrops counts the datagrams the system dropped for want of
	// buffer space, as of the latest datagram read. It belongs to the
	// goroutine that reads.
	kernelDrops() uint64
}

// batchWriter sends many datagrams per system call.
type batchWriter interface {
	// write sends ds[i] to tos[i] (at most BatchSize). A datagram that
	// cannot be sent is reported to fail and the others still go; the
	// error is for the socket itself (closed).
	write(ds [][]byte, tos []netip.AddrPort, fail func(i int, err error)) error
}
