package rtc

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// inbox holds the datagrams that arrived on a dialed connection's data
// channel (pion's callbacks push them) until a ReadBatch takes them, at
// most limit of them; Wait blocks until one is there.
type inbox struct {
	limit int

	mu     sync.Mutex
	q      []transport.Datagram
	err    error // why nothing more will come (a dialed connection that failed)
	closed bool
	ready  chan struct{}

	drops, reads, writes atomic.Uint64
}

func newInbox(limit int) *inbox { return &inbox{limit: limit, ready: make(chan struct{}, 1)} }

// wake ends a Wait.
func (b *inbox) wake() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// push keeps a copy of a datagram from addr, or drops it when the inbox
// is full.
func (b *inbox) push(from netip.AddrPort, d []byte) {
	b.mu.Lock()
	if len(b.q) >= b.limit || len(d) > transport.RecvSize || b.closed {
		b.mu.Unlock()
		b.drops.Add(1)
		return
	}
	b.q = append(b.q, transport.Datagram{Data: append([]byte(nil), d...), Addr: from})
	b.mu.Unlock()
	b.wake()
}

// fail records why nothing more will come, once.
func (b *inbox) fail(err error) {
	b.mu.Lock()
	if b.err == nil && !b.closed {
		b.err = transport.Broken(err)
	}
	b.mu.Unlock()
	b.wake()
}

// close makes reads and waits return ErrClosed; it reports whether the
// inbox was open.
func (b *inbox) close() bool {
	b.mu.Lock()
	was := !b.closed
	b.closed = true
	b.q = nil
	b.mu.Unlock()
	b.wake()
	return was
}

// isClosed reports whether close was called.
func (b *inbox) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// read moves the waiting datagrams into ds, copying into their buffers;
// with none waiting it returns the failure, if any.
func (b *inbox) read(ds []transport.Datagram) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, transport.ErrClosed
	}
	n := min(len(ds), len(b.q))
	for i := range n {
		ds[i].Data = append(ds[i].Data[:0], b.q[i].Data...)
		ds[i].Addr, ds[i].Local = b.q[i].Addr, netip.Addr{}
	}
	rest := copy(b.q, b.q[n:])
	clear(b.q[rest:])
	b.q = b.q[:rest]
	if n > 0 {
		b.reads.Add(1)
		return n, nil
	}
	return 0, b.err
}

// wait blocks until a datagram waits, the inbox failed, the deadline
// passes (a zero one never does) or it is closed (ErrClosed).
func (b *inbox) wait(deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	for {
		b.mu.Lock()
		closed, n, err := b.closed, len(b.q), b.err
		b.mu.Unlock()
		switch {
		case closed:
			return transport.ErrClosed
		case n > 0 || err != nil:
			return nil
		}
		select {
		case <-b.ready:
		case <-timeout:
			return nil
		}
	}
}

// stats returns the inbox's counters as a Conn's.
func (b *inbox) stats() transport.Stats {
	return transport.Stats{KernelDrops: b.drops.Load(), Reads: b.reads.Load(), Writes: b.writes.Load()}
}
