package transport

import (
	"net/netip"
	"sync"
	"time"
)

// An inbox holds datagrams that arrived until they are read, at most
// limit of them; it drops and counts the rest. The in-memory network and
// the portable socket (whose goroutine reads the socket) deliver into one.
type inbox struct {
	limit int

	mu      sync.Mutex
	q       []Datagram // owns its Data
	free    [][]byte
	drops   uint64
	reads   uint64
	closed  bool
	arrived chan struct{} // a token when datagrams came since the queue was last empty
	done    chan struct{}
}

func (b *inbox) init(limit int) {
	b.limit = limit
	b.arrived = make(chan struct{}, 1)
	b.done = make(chan struct{})
}

// push queues a copy of d from from, to local.
func (b *inbox) push(from netip.AddrPort, local netip.Addr, d []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if len(b.q) >= b.limit {
		b.drops++
		return
	}
	var buf []byte
	if k := len(b.free); k > 0 {
		buf, b.free = b.free[k-1][:0], b.free[:k-1]
	}
	b.q = append(b.q, Datagram{Data: append(buf, d...), Addr: from, Local: local})
	select {
	case b.arrived <- struct{}{}:
	default:
	}
}

// read moves queued datagrams into ds.
func (b *inbox) read(ds []Datagram) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	n := min(len(ds), len(b.q))
	for i := 0; i < n; i++ {
		ds[i].Data = append(ds[i].Data[:0], b.q[i].Data...)
		ds[i].Addr, ds[i].Local = b.q[i].Addr, b.q[i].Local
		if len(b.free) < BatchSize {
			b.free = append(b.free, b.q[i].Data)
		}
	}
	k := copy(b.q, b.q[n:])
	clear(b.q[k:])
	b.q = b.q[:k]
	if n > 0 {
		b.reads++
	}
	if k == 0 {
		select { // nothing waits: no token
		case <-b.arrived:
		default:
		}
	}
	return n, nil
}

// wait blocks until datagrams wait, the deadline passes or the inbox
// closes.
func (b *inbox) wait(deadline time.Time) error {
	b.mu.Lock()
	waiting, closed := len(b.q), b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case waiting > 0:
		return nil
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(deadlineTimeout(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-b.arrived:
		return nil
	case <-b.done:
		return ErrClosed
	case <-timeout:
		return nil
	}
}

// close empties the inbox and wakes its waiters; it reports false when it
// was closed already.
func (b *inbox) close() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.closed = true
	b.q = nil
	close(b.done)
	return true
}

// Pending reports whether datagrams wait, without a system call: a
// poller watching many Conns asks it of those the kernel cannot watch.
func (b *inbox) Pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.q) > 0
}

func (b *inbox) counts() (drops, reads uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drops, b.reads
}

// Readable reports, without waiting, whether a datagram waits to be read.
func (b *inbox) Readable() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.q) > 0
}
