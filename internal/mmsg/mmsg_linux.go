//go:build linux

package mmsg

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hdr is the kernel's struct mmsghdr; Go pads it to the kernel's size on
// every architecture (64 bytes on 64-bit, 32 on 32-bit).
type Hdr struct {
	Msg unix.Msghdr
	Len uint32 // bytes received or sent
}

// Sockaddr holds a sockaddr_in or a sockaddr_in6.
type Sockaddr [unix.SizeofSockaddrInet6]byte

// Set points h at one buffer, a name and a control buffer (either may be
// nil).
func (h *Hdr) Set(buf []byte, iov *unix.Iovec, name *Sockaddr, nameLen uint32, control []byte) {
	iov.Base = nil
	if len(buf) > 0 {
		iov.Base = &buf[0]
	}
	iov.SetLen(len(buf))
	h.Msg = unix.Msghdr{Iov: iov, Namelen: nameLen}
	h.Msg.SetIovlen(1)
	if name != nil {
		h.Msg.Name = &name[0]
	}
	if len(control) > 0 {
		h.Msg.Control = &control[0]
		h.Msg.SetControllen(len(control))
	}
	h.Len = 0
}

// Recv calls recvmmsg on fd without blocking (MSG_DONTWAIT is added to
// flags); EINTR is retried.
//
// Recv and Send enter the kernel without telling Go's scheduler (a raw
// system call): they never block, and a batch of 64 takes longer than the
// 20 µs after which the scheduler hands a thread's processor to another
// thread, which with one processor (GOMAXPROCS=1: a container with one
// CPU, a pinned server) meant two thread switches for every batch.
func Recv(fd uintptr, hdrs []Hdr, flags int) (int, syscall.Errno) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
		if e == unix.EINTR {
			continue
		}
		return int(n), e
	}
}

// Send calls sendmmsg on fd without blocking (MSG_DONTWAIT is added to
// flags: a full send buffer is EAGAIN); EINTR is retried. It reports an
// error only when it sent nothing; the datagram at hdrs[0] is then the one
// that failed.
func Send(fd uintptr, hdrs []Hdr, flags int) (int, syscall.Errno) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
		if e == unix.EINTR {
			continue
		}
		return int(n), e
	}
}

// Cmsg returns the data of the first control message of the given level
// and type in control data received with a datagram, or nil. Malformed
// data yields nil.
func Cmsg(control []byte, level, typ int32) []byte {
	for len(control) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&control[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(control) {
			return nil
		}
		if h.Level == level && h.Type == typ {
			return control[unix.CmsgLen(0):l]
		}
		next := unix.CmsgSpace(l - unix.CmsgLen(0))
		if next > len(control) {
			return nil
		}
		control = control[next:]
	}
	return nil
}

// DropCount reads the SO_RXQ_OVFL control message in control data
// received with a datagram: how many datagrams the socket had dropped
// for want of buffer space when this one was queued.
func DropCount(control []byte) (uint32, bool) {
	d := Cmsg(control, unix.SOL_SOCKET, unix.SO_RXQ_OVFL)
	if len(d) < 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(d), true
}

// Drops totals a socket's drops from the SO_RXQ_OVFL control messages of
// the datagrams read from it. The kernel's count is cumulative and wraps
// at 2^32; Total does not.
type Drops struct {
	Total uint64
	last  uint32
}

// See takes the control data received with one datagram.
func (d *Drops) See(control []byte) {
	if v, ok := DropCount(control); ok {
		d.Total += uint64(v - d.last)
		d.last = v
	}
}

// SizeBuffers asks for n-byte receive and send buffers on the socket fd
// and returns the sizes the system granted, as it reports them (Linux
// counts its bookkeeping too and reports twice what it was asked). Linux
// caps the request at net.core.rmem_max and wmem_max; a process allowed
// to (CAP_NET_ADMIN, root) is given the size anyway.
func SizeBuffers(fd, n int) (rcv, snd int, err error) {
	if rcv, err = sizeBuffer(fd, unix.SO_RCVBUF, unix.SO_RCVBUFFORCE, n); err != nil {
		return 0, 0, err
	}
	snd, err = sizeBuffer(fd, unix.SO_SNDBUF, unix.SO_SNDBUFFORCE, n)
	return rcv, snd, err
}

func sizeBuffer(fd, opt, force, n int) (int, error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, n); err != nil {
		return 0, os.NewSyscallError("setsockopt", err)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	if got < n && unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, n) == nil { // capped: past the cap if allowed
		if g, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt); err == nil {
			got = g
		}
	}
	return got, nil
}

// Decode reads a sockaddr_in or sockaddr_in6 of n bytes; an IPv4 address
// received on an IPv6 socket comes back as plain IPv4.
func Decode(b *Sockaddr, n uint32) netip.AddrPort {
	port := binary.BigEndian.Uint16(b[2:4])
	switch binary.NativeEndian.Uint16(b[0:2]) {
	case unix.AF_INET:
		if n >= unix.SizeofSockaddrInet4 {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
		}
	case unix.AF_INET6:
		if n >= unix.SizeofSockaddrInet6 {
			a := netip.AddrFrom16([16]byte(b[8:24]))
			if a.Is4In6() {
				return netip.AddrPortFrom(a.Unmap(), port)
			}
			if zone := binary.NativeEndian.Uint32(b[24:28]); zone != 0 {
				a = a.WithZone(strconv.FormatUint(uint64(zone), 10))
			}
			return netip.AddrPortFrom(a, port)
		}
	}
	return netip.AddrPort{}
}

// Encode writes ap for a socket of family AF_INET6 (v6) or AF_INET and
// returns the sockaddr's length, or 0 when that socket cannot reach the
// address.
func Encode(b *Sockaddr, ap netip.AddrPort, v6 bool) uint32 {
	*b = Sockaddr{}
	a := ap.Addr()
	if !v6 {
		a = a.Unmap()
		if !a.Is4() {
			return 0
		}
		binary.NativeEndian.PutUint16(b[0:2], unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:4], ap.Port())
		a4 := a.As4()
		copy(b[4:8], a4[:])
		return unix.SizeofSockaddrInet4
	}
	if !a.IsValid() {
		return 0
	}
	binary.NativeEndian.PutUint16(b[0:2], unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:4], ap.Port())
	a16 := a.As16() // IPv4 as an IPv4-mapped address
	copy(b[8:24], a16[:])
	if z := a.Zone(); z != "" {
		if id, err := strconv.ParseUint(z, 10, 32); err == nil {
			binary.NativeEndian.PutUint32(b[24:28], uint32(id))
		} else if ifi, err := net.InterfaceByName(z); err == nil {
			binary.NativeEndian.PutUint32(b[24:28], uint32(ifi.Index))
		}
	}
	return unix.SizeofSockaddrInet6
}
