//go:build linux

package loadgen

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

func newTransport(cfg *Config, n int) (transport, error) {
	switch cfg.Sockets {
	case SocketsShared:
		return newSharedTransport(cfg.Server, n)
	case SocketsPortable:
		return newNetTransport(n), nil
	}
	return newEpollTransport(n)
}

// autoSockets is what SocketsAuto means for server.
func autoSockets(server netip.AddrPort) Sockets {
	if sharedPossible(server) {
		return SocketsShared
	}
	return SocketsPerClient
}

// epollTransport polls all of a worker's sockets with one epoll and reads
// them with plain non-blocking reads, on the worker's goroutine: no
// goroutine, channel, lock or wake-up per datagram.
type epollTransport struct {
	epfd   int
	fds    []int // by client; -1 when closed
	events []unix.EpollEvent
	buf    []byte
	out    []byte
	errs   uint64
}

func newEpollTransport(n int) (*epollTransport, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	t := &epollTransport{
		epfd:   epfd,
		fds:    make([]int, n),
		events: make([]unix.EpollEvent, 256),
		buf:    make([]byte, protocol.RecvBufferSize),
		out:    make([]byte, 0, protocol.RecvBufferSize),
	}
	for i := range t.fds {
		t.fds[i] = -1
	}
	return t, nil
}

func (t *epollTransport) open(idx int, server netip.AddrPort) error {
	family, sa := sockaddr(server)
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("connect", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(idx)} // Fd carries the client's index
	if err := unix.EpollCtl(t.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	t.fds[idx] = fd
	return nil
}

func sockaddr(ap netip.AddrPort) (int, unix.Sockaddr) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return unix.AF_INET6, sa
}

func (t *epollTransport) write(idx int, b []byte) error {
	fd := t.fds[idx]
	if fd < 0 {
		return os.ErrClosed
	}
	for {
		_, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

func (t *epollTransport) buffer() []byte { return t.out[:0] }

func (t *epollTransport) flush() {}

func (t *epollTransport) sendErrors() uint64 { return 0 }

func (t *epollTransport) kernelDrops() uint64 { return 0 }

func (t *epollTransport) shut(idx int) {
	if fd := t.fds[idx]; fd >= 0 {
		_ = unix.EpollCtl(t.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		unix.Close(fd)
		t.fds[idx] = -1
	}
}

// wait reads the sockets that are ready, then, if that was all of them,
// sleeps until deadline but at most pollEvery. The worker never blocks in
// epoll_wait: a datagram arriving for a sleeping reader costs its sender
// a wake-up, which on loopback doubles the cost of the send (and the
// sender is the server under test).
func (t *epollTransport) wait(deadline time.Time, fn func(idx int, b []byte, now time.Time)) {
	n, err := unix.EpollWait(t.epfd, t.events, 0)
	if err != nil {
		if !errors.Is(err, unix.EINTR) {
			t.errs++
		}
		return
	}
	if n > 0 {
		now := time.Now()
		for _, ev := range t.events[:n] {
			t.drain(int(ev.Fd), now, fn)
		}
		if n == len(t.events) {
			return // more may be ready
		}
	}
	if d := min(time.Until(deadline), pollEvery); d > 0 {
		time.Sleep(d)
	}
}

// drain reads one datagram from a ready socket. A client rarely has two
// waiting, and reading until EAGAIN would double the system calls; the
// epoll is level-triggered, so a second datagram is read on the next look.
func (t *epollTransport) drain(idx int, now time.Time, fn func(idx int, b []byte, now time.Time)) {
	fd := t.fds[idx]
	if fd < 0 {
		return
	}
	for {
		m, err := unix.Read(fd, t.buf)
		switch err {
		case nil:
			fn(idx, t.buf[:m], now)
			return
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return
		default:
			t.errs++ // ECONNREFUSED: the server's port is closed
			return
		}
	}
}

func (t *epollTransport) receiveErrors() uint64 { return t.errs }

func (t *epollTransport) close() {
	for i := range t.fds {
		t.shut(i)
	}
	unix.Close(t.epfd)
}
