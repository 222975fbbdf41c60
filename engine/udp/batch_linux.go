//go:build linux

package udp

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mpgs/mpgameserver/engine/internal/mmsg"
)

// The batch path calls recvmmsg and sendmmsg itself, through the socket's
// RawConn (or a Socket) so that waiting stays in Go's network poller.
// (x/net/ipv4's ReadBatch allocates a *net.UDPAddr and its IP for every
// datagram read; here the source address goes straight into a
// netip.AddrPort.)

type mmsgReader struct {
	rc     rawConn
	hdrs   []mmsg.Hdr
	iovs   []unix.Iovec
	names  []mmsg.Sockaddr
	ctrl   []byte // ctrlSize bytes of control data per header
	bufs   [][]byte
	n      int
	errno  syscall.Errno
	nowait bool // return at once when nothing is waiting
	fn     func(fd uintptr) bool
	drops  mmsg.Drops
}

// ctrlSize holds one control message with a 4-byte value (SO_RXQ_OVFL's
// drop count), with room to spare.
var ctrlSize = unix.CmsgSpace(8)

type mmsgWriter struct {
	rc    rawConn
	v6    bool // the socket is AF_INET6: IPv4 peers are written as mapped addresses
	hdrs  []mmsg.Hdr
	iovs  []unix.Iovec
	names []mmsg.Sockaddr
	idx   []int // the datagram of each header
	from  int   // first header to send
	to    int   // one past the last
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// udpRaw returns uc's RawConn and whether its socket is IPv6.
func udpRaw(uc *net.UDPConn) (rawConn, bool, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, false, err
	}
	var v6 bool
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		sa, serr = unix.Getsockname(int(fd))
		_, v6 = sa.(*unix.SockaddrInet6)
	}); err != nil {
		return nil, false, err
	}
	if serr != nil {
		return nil, false, os.NewSyscallError("getsockname", serr)
	}
	return rc, v6, nil
}

func newBatchReader(rc rawConn, n int) batchReader {
	r := &mmsgReader{rc: rc, hdrs: make([]mmsg.Hdr, n), iovs: make([]unix.Iovec, n), names: make([]mmsg.Sockaddr, n)}
	r.fn = r.recv
	// Ask the kernel to report, with each datagram that follows a drop,
	// how many datagrams the socket has dropped because its receive
	// buffer was full. Without it (an old kernel) there is no count.
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	}); err == nil && serr == nil {
		r.ctrl = make([]byte, n*ctrlSize)
	}
	return r
}

func (r *mmsgReader) kernelDrops() uint64 { return r.drops.Total }

func (r *mmsgReader) setBuffers(bufs [][]byte) { r.bufs = bufs }

func (r *mmsgReader) recv(fd uintptr) bool {
	for i := range r.hdrs {
		var ctrl []byte
		if r.ctrl != nil {
			ctrl = r.ctrl[i*ctrlSize : (i+1)*ctrlSize]
		}
		r.hdrs[i].Set(r.bufs[i], &r.iovs[i], &r.names[i], unix.SizeofSockaddrInet6, ctrl)
	}
	n, e := mmsg.Recv(fd, r.hdrs, 0)
	if e == unix.EAGAIN {
		if !r.nowait {
			return false // wait until the socket is readable
		}
		n, e = 0, 0
	}
	r.n, r.errno = n, e
	return true
}

func (r *mmsgReader) read(ns []int, froms []netip.AddrPort, wait bool) (int, error) {
	r.nowait = !wait
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err // the socket closed
	}
	if r.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	for i := 0; i < r.n; i++ {
		ns[i] = int(r.hdrs[i].Len)
		froms[i] = mmsg.Decode(&r.names[i], r.hdrs[i].Msg.Namelen)
		if l := int(r.hdrs[i].Msg.Controllen); l > 0 && r.ctrl != nil {
			r.drops.See(r.ctrl[i*ctrlSize : i*ctrlSize+min(l, ctrlSize)])
		}
	}
	return r.n, nil
}

func newBatchWriter(rc rawConn, v6 bool, n int) batchWriter {
	w := &mmsgWriter{rc: rc, v6: v6, hdrs: make([]mmsg.Hdr, n), iovs: make([]unix.Iovec, n), names: make([]mmsg.Sockaddr, n), idx: make([]int, n)}
	w.fn = w.send
	return w
}

func (w *mmsgWriter) send(fd uintptr) bool {
	n, e := mmsg.Send(fd, w.hdrs[w.from:w.to], 0)
	if e == unix.EAGAIN {
		return false // wait until the socket is writable
	}
	w.n, w.errno = n, e
	return true
}

// write sends ds[i] to tos[i]. A datagram that fails is reported to
// fail and skipped; the others are still sent.
func (w *mmsgWriter) write(ds [][]byte, tos []netip.AddrPort, fail func(i int, err error)) error {
	count := 0
	for i, d := range ds {
		nl := mmsg.Encode(&w.names[count], tos[i], w.v6)
		if nl == 0 {
			fail(i, &net.AddrError{Err: "address family not supported by the socket", Addr: tos[i].String()})
			continue
		}
		w.hdrs[count].Set(d, &w.iovs[count], &w.names[count], nl, nil)
		w.idx[count] = i
		count++
	}
	w.from, w.to = 0, count
	for w.from < w.to {
		if err := w.rc.Write(w.fn); err != nil {
			return err // the socket closed
		}
		if w.errno != 0 {
			// The datagram at w.from failed (sendmmsg reports an error
			// only when it sent nothing): skip it.
			fail(w.idx[w.from], os.NewSyscallError("sendmmsg", w.errno))
			w.from++
			continue
		}
		w.from += max(w.n, 1)
	}
	return nil
}
