//go:build linux

package transport

import (
	"os"

	"golang.org/x/sys/unix"
)

// epoll is a Poller's kernel watch list of Linux sockets.
type epoll struct {
	fd     int
	events []unix.EpollEvent
	conns  map[*mmsgConn]bool
}

func newEpoll() (epoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return epoll{}, os.NewSyscallError("epoll_create1", err)
	}
	return epoll{fd: fd, conns: make(map[*mmsgConn]bool)}, nil
}

// add watches c if it is a Linux socket; ok reports whether it is.
func (e *epoll) add(c Conn, token int) (ok bool, err error) {
	mc, ok := c.(*mmsgConn)
	if !ok {
		return false, nil
	}
	mc.ops.RLock()
	defer mc.ops.RUnlock()
	if mc.closed.Load() {
		return true, ErrClosed
	}
	// Level-triggered: a socket stays ready until it is read empty.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(token)} // Fd carries the token
	if err := unix.EpollCtl(e.fd, unix.EPOLL_CTL_ADD, mc.fd, &ev); err != nil {
		return true, os.NewSyscallError("epoll_ctl", err)
	}
	e.conns[mc] = true
	return true, nil
}

func (e *epoll) remove(c Conn) (ok bool, err error) {
	mc, ok := c.(*mmsgConn)
	if !ok {
		return false, nil
	}
	if !e.conns[mc] {
		return true, ErrNotPolled
	}
	delete(e.conns, mc)
	mc.ops.RLock()
	defer mc.ops.RUnlock()
	if mc.closed.Load() {
		return true, nil // closing the socket took it off the list
	}
	if err := unix.EpollCtl(e.fd, unix.EPOLL_CTL_DEL, mc.fd, nil); err != nil {
		return true, os.NewSyscallError("epoll_ctl", err)
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
