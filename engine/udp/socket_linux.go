//go:build linux

package udp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A Socket is a UDP socket taken out of Go's network poller, for an owner
// that reads and writes it on its own schedule from one goroutine (the
// server's tick loop). Go's poller watches its sockets edge-triggered: a
// datagram arriving while the runtime sleeps in the poller wakes it, even
// when no goroutine waits on that socket, and on loopback the sender pays
// for that wake-up. A Socket is read with Reader.Drain and written with a
// Writer, many datagrams per system call, and never wakes anything.
type Socket struct {
	fd     int
	v6     bool
	local  netip.AddrPort
	closed bool
	pfd    [1]unix.PollFd
}

// pollWait is how long a blocked read or write sleeps before looking again
// (only Reader.Start on a Socket blocks for reading; writes block when the
// send buffer is full).
const pollWait = 10 * time.Millisecond

// Detach takes uc's socket out of Go's network poller: it returns a
// Socket on a duplicate of the socket and closes uc. Only one goroutine
// may use the Socket at a time.
func Detach(uc *net.UDPConn) (*Socket, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &Socket{fd: -1}
	var derr error
	if err := rc.Control(func(fd uintptr) {
		s.fd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		unix.Close(s.fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		s.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		s.v6 = true
		s.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	default:
		unix.Close(s.fd)
		return nil, fmt.Errorf("udp: not an IP socket: %T", sa)
	}
	uc.Close() // the duplicate keeps the socket open
	if err := unix.SetNonblock(s.fd, true); err != nil {
		unix.Close(s.fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return s, nil
}

// LocalAddr returns the address the socket is bound to.
func (s *Socket) LocalAddr() netip.AddrPort { return s.local }

// Close closes the socket. It must not race with a read or a write.
func (s *Socket) Close() error {
	if s.closed {
		return net.ErrClosed
	}
	s.closed = true
	return unix.Close(s.fd)
}

// Control runs f with the socket's descriptor (as syscall.RawConn does).
func (s *Socket) Control(f func(fd uintptr)) error {
	if s.closed {
		return net.ErrClosed
	}
	f(uintptr(s.fd))
	return nil
}

// Read and Write run f with the socket's descriptor until it reports it
// is done, waiting for the socket in between (as syscall.RawConn does).

func (s *Socket) Read(f func(fd uintptr) bool) error { return s.wait(f, unix.POLLIN) }

func (s *Socket) Write(f func(fd uintptr) bool) error { return s.wait(f, unix.POLLOUT) }

func (s *Socket) wait(f func(fd uintptr) bool, events int16) error {
	for {
		if s.closed {
			return net.ErrClosed
		}
		if f(uintptr(s.fd)) {
			return nil
		}
		s.pfd[0] = unix.PollFd{Fd: int32(s.fd), Events: events}
		if _, err := unix.Poll(s.pfd[:], int(pollWait/time.Millisecond)); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
	}
}

func (s *Socket) raw() (rawConn, bool) { return s, s.v6 }
