package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/mpgs/mpgameserver/engine/protocol"
)

// maxQueued bounds the datagrams waiting for the next tick; beyond it,
// datagrams are dropped and counted (a flood must not grow memory).
const maxQueued = 1 << 16

// maxFreeBuffers bounds the pool of receive buffers kept for reuse.
const maxFreeBuffers = 4096

// datagram is a received datagram in a pooled buffer.
type datagram struct {
	buf  *[protocol.RecvBufferSize]byte
	n    int
	from netip.AddrPort
}

func (d *datagram) bytes() []byte { return d.buf[:d.n] }

// inbox passes datagrams from the reading goroutine to the event
// goroutine, which takes them all at the start of a tick.
type inbox struct {
	mu       sync.Mutex
	q        []datagram
	spare    []datagram
	free     []*[protocol.RecvBufferSize]byte
	overflow uint64
	blocked  uint64
}

func (in *inbox) get() *[protocol.RecvBufferSize]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	if n := len(in.free); n > 0 {
		b := in.free[n-1]
		in.free = in.free[:n-1]
		return b
	}
	return new([protocol.RecvBufferSize]byte)
}

func (in *inbox) put(b *[protocol.RecvBufferSize]byte) {
	if b == nil {
		return
	}
	in.mu.Lock()
	if len(in.free) < maxFreeBuffers {
		in.free = append(in.free, b)
	}
	in.mu.Unlock()
}

// push queues d, or reports false when the queue is full.
func (in *inbox) push(d datagram) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.q) >= maxQueued {
		in.overflow++
		return false
	}
	in.q = append(in.q, d)
	return true
}

// take returns every queued datagram.
func (in *inbox) take() []datagram {
	in.mu.Lock()
	defer in.mu.Unlock()
	q := in.q
	in.q, in.spare = in.spare[:0], nil
	return q
}

// recycle returns a batch's buffers to the pool and keeps its slice.
func (in *inbox) recycle(batch []datagram) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range batch {
		if b := batch[i].buf; b != nil && len(in.free) < maxFreeBuffers {
			in.free = append(in.free, b)
		}
		batch[i] = datagram{}
	}
	in.spare = batch[:0]
}

// counters returns the overflow and blocked counts.
func (in *inbox) counters() (overflow, blocked uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.overflow, in.blocked
}

// drain drops whatever is still queued.
func (in *inbox) drain() { in.recycle(in.take()) }

// readLoop reads datagrams until the socket closes. Datagrams from blocked
// addresses are dropped here, before any parsing.
func (s *Server) readLoop() {
	for {
		buf := s.in.get()
		n, from, err := s.read(buf[:])
		if err != nil {
			s.in.put(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.stopCh:
				return
			default:
			}
			s.log.Debug("udp read", "err", err)
			continue
		}
		if s.ctx.Blocked(from.Addr()) {
			s.in.put(buf)
			s.in.mu.Lock()
			s.in.blocked++
			s.in.mu.Unlock()
			continue
		}
		if !s.in.push(datagram{buf: buf, n: n, from: from}) {
			s.in.put(buf)
		}
	}
}

func (s *Server) read(b []byte) (int, netip.AddrPort, error) {
	if s.udp != nil {
		return s.udp.ReadFromUDPAddrPort(b)
	}
	n, a, err := s.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if ua, ok := a.(*net.UDPAddr); ok {
		return n, ua.AddrPort(), nil
	}
	ap, err := netip.ParseAddrPort(a.String())
	return n, ap, err
}
