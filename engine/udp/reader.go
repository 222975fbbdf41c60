// Package udp reads a UDP socket on its own goroutine into pooled buffers
// and hands the datagrams over in batches, so that the owner of the
// connections (the server's tick loop, a client's Update) takes everything
// that arrived in one call and never blocks on the socket.
package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/engine/protocol"
)

// Buffer is a receive buffer, large enough for any datagram a peer may
// send (the reference's receive size).
type Buffer = [protocol.RecvBufferSize]byte

// Datagram is a received datagram in a pooled buffer.
type Datagram struct {
	Buf  *Buffer
	N    int
	From netip.AddrPort
}

// Bytes returns the datagram's contents.
func (d *Datagram) Bytes() []byte { return d.Buf[:d.N] }

// Stats counts what the reader did not hand over.
type Stats struct {
	Filtered uint64 // refused by the filter
	Overflow uint64 // dropped because the queue was full
	Errors   uint64 // read errors other than the socket closing
}

// A Reader reads a packet connection until it is closed. Its methods are
// safe for concurrent use.
type Reader struct {
	pc       net.PacketConn
	udp      *net.UDPConn
	maxQueue int
	maxFree  int
	filter   func(netip.AddrPort) bool

	mu    sync.Mutex
	q     []Datagram
	spare []Datagram
	free  []*Buffer
	stats Stats
	done  chan struct{}
}

// NewReader returns a reader of pc that holds at most maxQueued datagrams
// between two Takes (more are dropped and counted) and keeps up to maxFree
// buffers for reuse. filter, when not nil, is asked about every datagram's
// source before it is queued; false drops it.
func NewReader(pc net.PacketConn, maxQueued, maxFree int, filter func(netip.AddrPort) bool) *Reader {
	r := &Reader{pc: pc, maxQueue: maxQueued, maxFree: maxFree, filter: filter, done: make(chan struct{})}
	r.udp, _ = pc.(*net.UDPConn)
	return r
}

// Start runs the reading goroutine. It ends when the connection is
// closed; Wait waits for that.
func (r *Reader) Start() {
	go func() {
		defer close(r.done)
		r.run()
	}()
}

// Wait blocks until the reading goroutine has ended.
func (r *Reader) Wait() { <-r.done }

func (r *Reader) run() {
	for {
		buf := r.Get()
		n, from, err := r.read(buf[:])
		if err != nil {
			r.Put(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP errors on a connected socket (the peer is not there
			// yet), or a transient failure: count it and go on, without
			// spinning.
			r.mu.Lock()
			r.stats.Errors++
			r.mu.Unlock()
			time.Sleep(time.Millisecond)
			continue
		}
		if r.filter != nil && !r.filter(from) {
			r.Put(buf)
			r.mu.Lock()
			r.stats.Filtered++
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		if len(r.q) < r.maxQueue {
			r.q = append(r.q, Datagram{Buf: buf, N: n, From: from})
			buf = nil
		} else {
			r.stats.Overflow++
		}
		r.mu.Unlock()
		if buf != nil {
			r.Put(buf)
		}
	}
}

func (r *Reader) read(b []byte) (int, netip.AddrPort, error) {
	if r.udp != nil {
		return r.udp.ReadFromUDPAddrPort(b)
	}
	n, a, err := r.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if ua, ok := a.(*net.UDPAddr); ok {
		return n, ua.AddrPort(), nil
	}
	ap, err := netip.ParseAddrPort(a.String())
	return n, ap, err
}

// Get returns a buffer from the pool, or a new one.
func (r *Reader) Get() *Buffer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.free); n > 0 {
		b := r.free[n-1]
		r.free = r.free[:n-1]
		return b
	}
	return new(Buffer)
}

// Put returns a buffer to the pool. A nil buffer is ignored.
func (r *Reader) Put(b *Buffer) {
	if b == nil {
		return
	}
	r.mu.Lock()
	if len(r.free) < r.maxFree {
		r.free = append(r.free, b)
	}
	r.mu.Unlock()
}

// Take returns every datagram queued since the last Take, oldest first.
// Give the slice back with Recycle when done with it.
func (r *Reader) Take() []Datagram {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.q) == 0 {
		return nil
	}
	q := r.q
	r.q, r.spare = r.spare[:0], nil
	return q
}

// Recycle returns a batch from Take: its buffers go back to the pool
// (except those the owner kept, whose Buf it set to nil) and its slice is
// reused.
func (r *Reader) Recycle(batch []Datagram) {
	if batch == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range batch {
		if b := batch[i].Buf; b != nil && len(r.free) < r.maxFree {
			r.free = append(r.free, b)
		}
		batch[i] = Datagram{}
	}
	r.spare = batch[:0]
}

// Stats returns the reader's counters.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}
