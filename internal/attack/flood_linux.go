//go:build linux

package attack

import (
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/internal/mmsg"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// floodSupported: Linux can forge source addresses on the loopback.
const floodSupported = true

// floodSocket is one unconnected IPv4 socket that sends each datagram
// from the source address given with it (IP_PKTINFO's ipi_spec_dst), 64
// per sendmmsg, and reads what comes back to those addresses only to
// count it.
type floodSocket struct {
	fd     int
	server mmsg.Sockaddr
	hdrs   []mmsg.Hdr
	iovs   []unix.Iovec
	ctl    [][pktinfoSpace]byte

	in     [][]byte
	inHdrs []mmsg.Hdr
	inIovs []unix.Iovec
}

// pktinfoSpace holds one IP_PKTINFO control message.
const pktinfoSpace = 32

func newFloodSocket(server netip.AddrPort) (*floodSocket, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(what string, err error) (*floodSocket, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(what, err)
	}
	if _, _, err := mmsg.SizeBuffers(fd, 4<<20); err != nil {
		return fail("setsockopt SO_SNDBUF", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{}); err != nil {
		return fail("bind", err)
	}
	s := &floodSocket{
		fd:     fd,
		hdrs:   make([]mmsg.Hdr, floodBatch),
		iovs:   make([]unix.Iovec, floodBatch),
		ctl:    make([][pktinfoSpace]byte, floodBatch),
		in:     make([][]byte, floodBatch),
		inHdrs: make([]mmsg.Hdr, floodBatch),
		inIovs: make([]unix.Iovec, floodBatch),
	}
	for i := range s.in {
		s.in[i] = make([]byte, protocol.RecvBufferSize)
	}
	mmsg.Encode(&s.server, server, false)
	return s, nil
}

// send sends dgs[i] from srcs[i] and returns how many went out and how
// many the system refused.
func (s *floodSocket) send(dgs [][]byte, srcs [][4]byte) (sent, errs int) {
	for i, d := range dgs {
		ctl := s.ctl[i][:unix.CmsgSpace(unix.SizeofInet4Pktinfo)]
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&ctl[unix.CmsgLen(0)]))
		*info = unix.Inet4Pktinfo{Spec_dst: srcs[i]}
		s.hdrs[i].Set(d, &s.iovs[i], &s.server, unix.SizeofSockaddrInet4, ctl)
	}
	for done := 0; done < len(dgs); {
		n, e := mmsg.Send(uintptr(s.fd), s.hdrs[done:len(dgs)], 0)
		switch {
		case e == unix.EAGAIN:
			// The send buffer is full: wait for room, briefly.
			pfd := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(pfd, 10)
		case e != 0:
			errs++ // the first datagram failed: skip it
			done++
		default:
			sent += n
			done += max(n, 1)
		}
	}
	return sent, errs
}

// drain reads whatever came back without waiting and returns how many
// datagrams that was.
func (s *floodSocket) drain() uint64 {
	var total uint64
	for {
		for i := range s.inHdrs {
			s.inHdrs[i].Set(s.in[i], &s.inIovs[i], nil, 0, nil)
		}
		n, e := mmsg.Recv(uintptr(s.fd), s.inHdrs, unix.MSG_DONTWAIT)
		if e != 0 || n <= 0 {
			return total
		}
		total += uint64(n)
		if n < len(s.inHdrs) {
			return total
		}
	}
}

func (s *floodSocket) close() { unix.Close(s.fd) }
