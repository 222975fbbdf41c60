//go:build linux

package loadgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/engine/internal/mmsg"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

// sharedTransport carries all of a worker's clients on one socket, for a
// server on the IPv4 loopback: each client sends from its own address in
// 127.0.0.0/8 (set per datagram with IP_PKTINFO), the server answers to
// that address, and the reply's destination (IP_PKTINFO again) tells which
// client it is for. Datagrams go out and come in 64 per system call. To
// the server, each client is a distinct address, as over a network.
type sharedTransport struct {
	fd     int
	server mmsg.Sockaddr
	isOpen []bool

	// datagrams waiting to be sent
	out     [][]byte
	outHdrs []mmsg.Hdr
	outIovs []unix.Iovec
	outCtl  [][pktinfoSpace]byte
	n       int

	in     [][]byte
	inHdrs []mmsg.Hdr
	inIovs []unix.Iovec
	inCtl  [][pktinfoSpace]byte
	names  []mmsg.Sockaddr

	recvErrs, sendErrs uint64
	drops              mmsg.Drops // datagrams the system dropped (SO_RXQ_OVFL)
}

// pktinfoSpace is room for the control messages received with a
// datagram: IP_PKTINFO (32 bytes on 64-bit systems) and SO_RXQ_OVFL (24).
const pktinfoSpace = 64

const sharedBatch = 64

// sharedBase is the first client address: 127.1.0.1, 127.1.0.2, ...
var sharedBase = [4]byte{127, 1, 0, 0}

// clientAddr returns the loopback address of client idx.
func clientAddr(idx int) [4]byte {
	k := binary.BigEndian.Uint32(sharedBase[:]) + uint32(idx) + 1
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], k)
	return a
}

// clientIndex is the inverse of clientAddr; ok is false for an address
// that is not a client's.
func clientIndex(a [4]byte, n int) (int, bool) {
	k := int64(binary.BigEndian.Uint32(a[:])) - int64(binary.BigEndian.Uint32(sharedBase[:])) - 1
	return int(k), k >= 0 && k < int64(n)
}

// maxSharedClients bounds the clients of one shared socket (the addresses
// must stay inside 127.0.0.0/8).
const maxSharedClients = 1 << 23

// sharedPossible reports whether the shared transport can reach server.
func sharedPossible(server netip.AddrPort) bool {
	a := server.Addr().Unmap()
	return a.Is4() && a.IsLoopback()
}

func newSharedTransport(server netip.AddrPort, n int) (*sharedTransport, error) {
	if !sharedPossible(server) {
		return nil, fmt.Errorf("loadgen: shared sockets need a server on the IPv4 loopback, not %s", server)
	}
	if n > maxSharedClients {
		return nil, fmt.Errorf("loadgen: at most %d clients per worker share a socket", maxSharedClients)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(what string, err error) (*sharedTransport, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1); err != nil {
		return fail("setsockopt IP_PKTINFO", err)
	}
	// Drops in the generator's own socket are counted apart from the
	// server's losses.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1); err != nil {
		return fail("setsockopt SO_RXQ_OVFL", err)
	}
	if _, _, err := mmsg.SizeBuffers(fd, 4<<20); err != nil {
		return fail("setsockopt SO_RCVBUF", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{}); err != nil {
		return fail("bind", err)
	}
	t := &sharedTransport{
		fd:      fd,
		isOpen:  make([]bool, n),
		out:     make([][]byte, sharedBatch),
		outHdrs: make([]mmsg.Hdr, sharedBatch),
		outIovs: make([]unix.Iovec, sharedBatch),
		outCtl:  make([][pktinfoSpace]byte, sharedBatch),
		in:      make([][]byte, sharedBatch),
		inHdrs:  make([]mmsg.Hdr, sharedBatch),
		inIovs:  make([]unix.Iovec, sharedBatch),
		inCtl:   make([][pktinfoSpace]byte, sharedBatch),
		names:   make([]mmsg.Sockaddr, sharedBatch),
	}
	mmsg.Encode(&t.server, server, false)
	for i := range t.out {
		t.out[i] = make([]byte, 0, protocol.RecvBufferSize)
		t.in[i] = make([]byte, protocol.RecvBufferSize)
	}
	return t, nil
}

func (t *sharedTransport) open(idx int, _ netip.AddrPort) error {
	t.isOpen[idx] = true
	return nil
}

func (t *sharedTransport) shut(idx int) { t.isOpen[idx] = false }

func (t *sharedTransport) buffer() []byte { return t.out[t.n][:0] }

// write queues d, which must be the last buffer(), from client idx.
func (t *sharedTransport) write(idx int, d []byte) error {
	ctl := t.outCtl[t.n][:unix.CmsgSpace(unix.SizeofInet4Pktinfo)]
	h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&ctl[unix.CmsgLen(0)]))
	*info = unix.Inet4Pktinfo{Spec_dst: clientAddr(idx)}
	t.outHdrs[t.n].Set(d, &t.outIovs[t.n], &t.server, unix.SizeofSockaddrInet4, ctl)
	t.n++
	if t.n == sharedBatch {
		t.flush()
	}
	return nil
}

func (t *sharedTransport) flush() {
	sent := 0
	for sent < t.n {
		n, e := mmsg.Send(uintptr(t.fd), t.outHdrs[sent:t.n], 0)
		switch {
		case e == unix.EAGAIN:
			// The send buffer is full: wait for room, briefly.
			pfd := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(pfd, 10)
		case e != 0:
			t.sendErrs++ // the first datagram failed: skip it
			sent++
		default:
			sent += max(n, 1)
		}
	}
	t.n = 0
}

func (t *sharedTransport) wait(deadline time.Time, fn func(idx int, b []byte, now time.Time)) {
	t.flush()
	for {
		for i := range t.inHdrs {
			t.inHdrs[i].Set(t.in[i], &t.inIovs[i], &t.names[i], unix.SizeofSockaddrInet6, t.inCtl[i][:])
		}
		n, e := mmsg.Recv(uintptr(t.fd), t.inHdrs, unix.MSG_DONTWAIT)
		if e != 0 {
			if e != unix.EAGAIN {
				t.recvErrs++
			}
			break
		}
		now := time.Now()
		for i := 0; i < n; i++ {
			t.drops.See(t.control(i))
			idx, ok := t.destination(i)
			if !ok || !t.isOpen[idx] {
				continue
			}
			fn(idx, t.in[i][:t.inHdrs[i].Len], now)
		}
		if n < len(t.inHdrs) {
			break
		}
	}
	if d := min(time.Until(deadline), pollEvery); d > 0 {
		time.Sleep(d)
	}
}

// destination finds the client a received datagram is addressed to.
func (t *sharedTransport) destination(i int) (int, bool) {
	d := mmsg.Cmsg(t.control(i), unix.IPPROTO_IP, unix.IP_PKTINFO)
	if len(d) < unix.SizeofInet4Pktinfo {
		return 0, false
	}
	info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&d[0]))
	return clientIndex(info.Addr, len(t.isOpen))
}

// control returns the control data received with datagram i.
func (t *sharedTransport) control(i int) []byte {
	return t.inCtl[i][:min(int(t.inHdrs[i].Msg.Controllen), pktinfoSpace)]
}

func (t *sharedTransport) kernelDrops() uint64 { return t.drops.Total }

func (t *sharedTransport) receiveErrors() uint64 { return t.recvErrs }

func (t *sharedTransport) sendErrors() uint64 { return t.sendErrs }

func (t *sharedTransport) close() {
	t.flush()
	unix.Close(t.fd)
}
