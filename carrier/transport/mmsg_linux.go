//go:build linux

package transport

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/internal/mmsg"
)

// Listen opens a UDP socket bound to addr ("host:port"; "[::]:port"
// listens on IPv6 and, where the system allows, IPv4 too).
func Listen(addr string, cfg Config) (Conn, error) {
	if cfg.Portable {
		return listenPortable(addr, cfg)
	}
	uc, err := listenUDP(addr)
	if err != nil {
		return nil, err
	}
	return newMmsgConn(uc, false, cfg)
}

// Dial opens a UDP socket connected to addr, on a port of its own: it
// reads only datagrams from addr, and writes go there whatever their
// Addr.
func Dial(addr string, cfg Config) (Conn, error) {
	if cfg.Portable {
		return dialPortable(addr, cfg)
	}
	uc, err := dialUDP(addr)
	if err != nil {
		return nil, err
	}
	return newMmsgConn(uc, true, cfg)
}

func listenUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	network := "udp"
	if ua.IP.To4() != nil {
		network = "udp4" // an IPv4 socket, even for 0.0.0.0
	}
	return net.ListenUDP(network, ua)
}

// ctrlSpace is the control data read with each datagram: SO_RXQ_OVFL's
// drop count and IP_PKTINFO, with room to spare.
const ctrlSpace = 64

// mmsgConn is a UDP socket taken out of Go's network poller and moved 64
// datagrams per system call (recvmmsg, sendmmsg). Go's poller watches its
// sockets edge-triggered: a datagram arriving while the runtime sleeps in
// it wakes the runtime even when no goroutine waits on that socket, and
// on the loopback the sender pays for the wake-up. This socket wakes
// nothing: its owner reads it when it chooses, and Wait sleeps in poll(2)
// beside an eventfd that Close signals.
type mmsgConn struct {
	fd, efd   int
	v6        bool
	connected bool
	info      bool
	local     netip.AddrPort
	rcv, snd  int

	ops    sync.RWMutex // read-held by every call on fd; Close takes it
	closed atomic.Bool

	rmu   sync.Mutex
	rhdrs []mmsg.Hdr
	riovs []unix.Iovec
	rname []mmsg.Sockaddr
	rctrl [][ctrlSpace]byte
	drops mmsg.Drops
	ndrop atomic.Uint64

	wmu   sync.Mutex
	whdrs []mmsg.Hdr
	wiovs []unix.Iovec
	wname []mmsg.Sockaddr
	wctrl [][ctrlSpace]byte

	reads, writes atomic.Uint64
}

// Control calls f with the socket's file descriptor, which stays open
// until f returns (as syscall.RawConn's Control does): a poller watching
// many sockets with one epoll registers it. It returns ErrClosed on a
// closed socket.
func (c *mmsgConn) Control(f func(fd uintptr)) error {
	c.ops.RLock()
	defer c.ops.RUnlock()
	if c.closed.Load() {
		return ErrClosed
	}
	f(uintptr(c.fd))
	return nil
}

func newMmsgConn(uc *net.UDPConn, connected bool, cfg Config) (Conn, error) {
	defer uc.Close() // the duplicate descriptor keeps the socket open
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &mmsgConn{fd: -1, efd: -1, connected: connected, info: cfg.PacketInfo}
	var derr error
	if err := rc.Control(func(fd uintptr) { c.fd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	fail := func(what string, err error) (Conn, error) {
		unix.Close(c.fd)
		if c.efd >= 0 {
			unix.Close(c.efd)
		}
		return nil, os.NewSyscallError(what, err)
	}
	if err := unix.SetNonblock(c.fd, true); err != nil {
		return fail("fcntl", err)
	}
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		return fail("getsockname", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		c.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		c.v6 = true
		c.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	if c.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fail("eventfd", err)
	}
	// The kernel reports, with each datagram that follows a drop, how many
	// the socket dropped for want of buffer space (none on old kernels).
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	if c.info {
		if c.v6 {
			return fail("setsockopt", fmt.Errorf("packet info is for IPv4 sockets: %s", c.local))
		}
		if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1); err != nil {
			return fail("setsockopt IP_PKTINFO", err)
		}
	}
	c.rcv, c.snd, _ = mmsg.SizeBuffers(c.fd, cfg.buffer()) // a socket with small buffers still works
	return c, nil
}

func (c *mmsgConn) ReadBatch(ds []Datagram) (int, error) {
	c.ops.RLock()
	defer c.ops.RUnlock()
	if c.closed.Load() {
		return 0, ErrClosed
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n := min(len(ds), BatchSize)
	if len(c.rhdrs) < n {
		// Sized by the largest batch asked for: a client's socket that
		// reads a few at a time does not carry a server's 64.
		c.rhdrs, c.riovs, c.rname, c.rctrl = make([]mmsg.Hdr, n), make([]unix.Iovec, n), make([]mmsg.Sockaddr, n), make([][ctrlSpace]byte, n)
	}
	for i := 0; i < n; i++ {
		c.rhdrs[i].Set(ds[i].Data[:cap(ds[i].Data)], &c.riovs[i], &c.rname[i], unix.SizeofSockaddrInet6, c.rctrl[i][:])
	}
	got, e := mmsg.Recv(uintptr(c.fd), c.rhdrs[:n], unix.MSG_DONTWAIT)
	switch {
	case e == unix.EAGAIN:
		return 0, nil
	case e != 0:
		return 0, os.NewSyscallError("recvmmsg", e)
	}
	c.reads.Add(1)
	for i := 0; i < got; i++ {
		h := &c.rhdrs[i]
		ds[i].Data = ds[i].Data[:h.Len]
		ds[i].Addr = mmsg.Decode(&c.rname[i], h.Msg.Namelen)
		ctrl := c.rctrl[i][:min(int(h.Msg.Controllen), ctrlSpace)]
		if len(ctrl) > 0 {
			c.drops.See(ctrl)
			if c.info {
				ds[i].Local = pktinfoAddr(ctrl)
			}
		}
	}
	c.ndrop.Store(c.drops.Total)
	return got, nil
}

// pktinfoAddr returns the destination address an IP_PKTINFO control
// message names.
func pktinfoAddr(ctrl []byte) netip.Addr {
	d := mmsg.Cmsg(ctrl, unix.IPPROTO_IP, unix.IP_PKTINFO)
	if len(d) < unix.SizeofInet4Pktinfo {
		return netip.Addr{}
	}
	info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&d[0]))
	return netip.AddrFrom4(info.Addr)
}

func (c *mmsgConn) WriteBatch(ds []Datagram) (int, error) {
	c.ops.RLock()
	defer c.ops.RUnlock()
	if c.closed.Load() {
		return 0, ErrClosed
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	sent := 0
	for sent < len(ds) {
		n, err := c.writeSome(ds[sent:min(len(ds), sent+BatchSize)])
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// writeSome sends up to BatchSize datagrams.
func (c *mmsgConn) writeSome(ds []Datagram) (int, error) {
	if len(ds) == 1 && c.connected {
		return c.writeOne(ds[0].Data)
	}
	if len(c.whdrs) < len(ds) {
		n := len(ds)
		c.whdrs, c.wiovs, c.wname, c.wctrl = make([]mmsg.Hdr, n), make([]unix.Iovec, n), make([]mmsg.Sockaddr, n), make([][ctrlSpace]byte, n)
	}
	for i := range ds {
		var name *mmsg.Sockaddr
		var nl uint32
		if !c.connected {
			nl = mmsg.Encode(&c.wname[i], ds[i].Addr, c.v6)
			if nl == 0 {
				if i == 0 {
					return 0, &net.AddrError{Err: "address family not supported by the socket", Addr: ds[i].Addr.String()}
				}
				ds = ds[:i] // send those before it; the caller meets it next
				break
			}
			name = &c.wname[i]
		}
		var ctrl []byte
		if c.info && ds[i].Local.Is4() {
			ctrl = c.wctrl[i][:unix.CmsgSpace(unix.SizeofInet4Pktinfo)]
			h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
			h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
			info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&ctrl[unix.CmsgLen(0)]))
			*info = unix.Inet4Pktinfo{Spec_dst: ds[i].Local.As4()}
		}
		c.whdrs[i].Set(ds[i].Data, &c.wiovs[i], name, nl, ctrl)
	}
	sent := 0
	for sent < len(ds) {
		n, e := mmsg.Send(uintptr(c.fd), c.whdrs[sent:len(ds)], 0)
		switch {
		case e == unix.EAGAIN:
			// The send buffer is full: wait for room (or Close).
			if err := c.poll(unix.POLLOUT, -1); err != nil {
				return sent, err
			}
		case e != 0:
			return sent, os.NewSyscallError("sendmmsg", e) // about ds[sent]
		default:
			c.writes.Add(1)
			sent += n
		}
	}
	return sent, nil
}

// writeOne sends one datagram on a connected socket with write(2),
// cheaper than sendmmsg for one (a client sends one a frame).
func (c *mmsgConn) writeOne(d []byte) (int, error) {
	for {
		_, err := unix.Write(c.fd, d)
		switch err {
		case nil:
			c.writes.Add(1)
			return 1, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := c.poll(unix.POLLOUT, -1); err != nil {
				return 0, err
			}
		default:
			return 0, os.NewSyscallError("write", err)
		}
	}
}

func (c *mmsgConn) Wait(deadline time.Time) error {
	c.ops.RLock()
	defer c.ops.RUnlock()
	if c.closed.Load() {
		return ErrClosed
	}
	return c.poll(unix.POLLIN, deadlineTimeout(deadline))
}

// Readable reports, without waiting, whether a datagram waits to be read
// (for a caller that waits on another socket and looks at this one).
func (c *mmsgConn) Readable() bool {
	c.ops.RLock()
	defer c.ops.RUnlock()
	if c.closed.Load() {
		return false
	}
	pfd := [1]unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd[:], 0)
	return err == nil && n > 0 && pfd[0].Revents&unix.POLLIN != 0
}

// poll waits for events on the socket, the timeout (-1: none) or Close.
func (c *mmsgConn) poll(events int16, timeout time.Duration) error {
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	pfd := [2]unix.PollFd{{Fd: int32(c.fd), Events: events}, {Fd: int32(c.efd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd[:], ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if pfd[1].Revents != 0 || c.closed.Load() {
			return ErrClosed
		}
		return nil
	}
}

func (c *mmsgConn) LocalAddr() netip.AddrPort { return c.local }

func (c *mmsgConn) Stats() Stats {
	return Stats{KernelDrops: c.ndrop.Load(), RecvBuffer: c.rcv, SendBuffer: c.snd, Reads: c.reads.Load(), Writes: c.writes.Load()}
}

func (c *mmsgConn) Close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(c.efd, one[:]) // wakes a Wait or a blocked write
	c.ops.Lock()                     // no call on the descriptors any more
	defer c.ops.Unlock()
	unix.Close(c.efd)
	if err := unix.Close(c.fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
