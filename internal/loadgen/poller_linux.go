//go:build linux

package loadgen

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// epoll is a poller's kernel watch list of Linux sockets.
type epoll struct {
	fd     int
	events []unix.EpollEvent
	conns  map[transport.Conn]bool
}

// controller is a Conn with a file descriptor the kernel can watch (a
// Linux socket of transport's).
type controller interface {
	Control(f func(fd uintptr)) error
}

func newEpoll() (epoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return epoll{}, os.NewSyscallError("epoll_create1", err)
	}
	return epoll{fd: fd, conns: make(map[transport.Conn]bool)}, nil
}

// add watches c if it is a Linux socket; ok reports whether it is.
func (e *epoll) add(c transport.Conn, token int) (ok bool, err error) {
	cc, ok := c.(controller)
	if !ok {
		return false, nil
	}
	// Level-triggered: a socket stays ready until it is read empty.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(token)} // Fd carries the token
	var cerr error
	if err := cc.Control(func(fd uintptr) { cerr = unix.EpollCtl(e.fd, unix.EPOLL_CTL_ADD, int(fd), &ev) }); err != nil {
		return true, err
	}
	if cerr != nil {
		return true, os.NewSyscallError("epoll_ctl", cerr)
	}
	e.conns[c] = true
	return true, nil
}

func (e *epoll) remove(c transport.Conn) (ok bool, err error) {
	cc, ok := c.(controller)
	if !ok {
		return false, nil
	}
	if !e.conns[c] {
		return true, errNotPolled
	}
	delete(e.conns, c)
	var cerr error
	err = cc.Control(func(fd uintptr) { cerr = unix.EpollCtl(e.fd, unix.EPOLL_CTL_DEL, int(fd), nil) })
	if err != nil {
		return true, nil // closing the socket took it off the list
	}
	if cerr != nil {
		return true, os.NewSyscallError("epoll_ctl", cerr)
	}
	return true, nil
}

func (e *epoll) ready(tokens []int) (int, error) {
	if len(e.conns) == 0 || len(tokens) == 0 {
		return 0, nil
	}
	if cap(e.events) < len(tokens) {
		e.events = make([]unix.EpollEvent, len(tokens))
	}
	for {
		n, err := unix.EpollWait(e.fd, e.events[:len(tokens)], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("epoll_wait", err)
		}
		for i, ev := range e.events[:n] {
			tokens[i] = int(ev.Fd)
		}
		return n, nil
	}
}

func (e *epoll) close() error {
	if err := unix.Close(e.fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
