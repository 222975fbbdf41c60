// Package dgram moves datagrams between a transport.Conn and the
// goroutine that owns the connections (the server's tick loop) without
// making it wait on the socket and without allocating per datagram: a
// Reader packs what arrived into pooled chunks and hands it over in
// batches, a Writer collects the datagrams built during a tick and sends
// them many per system call.
package dgram

import (
	"errors"
	"net/netip"
	"sync"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// chunkSize is the size of the chunks received datagrams are packed into.
const chunkSize = 32 << 10

// maxFreeChunks bounds the chunks kept for reuse (2 MiB).
const maxFreeChunks = 64

// Datagram is a received datagram. Data stays valid until the batch it
// came in is given back with Recycle; copy it to keep it longer.
type Datagram struct {
	Data []byte
	From netip.AddrPort
}

// A Filter looks at a datagram before the reader copies it anywhere: it
// returns Pass to queue it, or the reason it is dropped. It runs once per
// datagram, so it must be cheap.
type Filter func(from netip.AddrPort, b []byte) Verdict

// Verdict is a Filter's answer.
type Verdict uint8

// Verdicts.
const (
	Pass    Verdict = iota
	Blocked         // from a blocked address
	Junk            // not a datagram of the protocol
)

// Stats counts what the reader did not hand over, and how it read.
type Stats struct {
	Filtered uint64 // refused by the filter as Blocked
	Junk     uint64 // refused by the filter as Junk
	Overflow uint64 // dropped because the queue was full
	Errors   uint64 // read errors other than the socket closing
	Received uint64 // datagrams read
}

// A Reader reads a Conn for its owner: Drain reads what waits, Take hands
// it over. Drain, Take and Recycle belong to one goroutine; Stats may be
// called from any.
type Reader struct {
	c        transport.Conn
	maxQueue int
	maxBytes int
	filter   Filter
	scratch  []transport.Datagram
	pass     []int

	mu     sync.Mutex
	q      []Datagram
	spare  []Datagram
	bytes  int      // queued
	cur    []byte   // chunk being filled
	filled [][]byte // chunks holding queued datagrams
	taken  [][]byte // chunks of the batch handed out by Take
	free   [][]byte
	stats  Stats
}

// NewReader returns a reader of c that holds at most maxQueued datagrams
// and maxBytes bytes between two Takes (more wait in the socket). filter,
// when not nil, is asked about every datagram before it is queued.
func NewReader(c transport.Conn, maxQueued, maxBytes int, filter Filter) *Reader {
	r := &Reader{c: c, maxQueue: maxQueued, maxBytes: maxBytes, filter: filter}
	r.scratch = make([]transport.Datagram, transport.BatchSize)
	for i := range r.scratch {
		r.scratch[i].Data = make([]byte, 0, transport.RecvSize)
	}
	r.pass = make([]int, 0, transport.BatchSize)
	return r
}

// Drain reads, without waiting, the datagrams the socket holds and queues
// them for Take, stopping when the socket is empty or the queue full (the
// rest waits in the socket). It returns how many it read, those the filter
// dropped included.
func (r *Reader) Drain() int {
	total := 0
	for {
		r.mu.Lock()
		full := len(r.q)+len(r.scratch) > r.maxQueue || r.bytes+len(r.scratch)*transport.RecvSize > r.maxBytes
		r.mu.Unlock()
		if full {
			return total
		}
		n, err := r.c.ReadBatch(r.scratch)
		if err != nil {
			if !errors.Is(err, transport.ErrClosed) {
				r.mu.Lock()
				r.stats.Errors++
				r.mu.Unlock()
			}
			return total
		}
		if n == 0 {
			return total
		}
		r.queue(n)
		total += n
		if n < len(r.scratch) {
			return total // the socket is empty: no need for a system call to say so
		}
	}
}

// queue packs the n datagrams just read into the chunks.
func (r *Reader) queue(n int) {
	pass := r.pass[:0]
	var blocked, junk uint64
	for i := 0; i < n; i++ {
		v := Pass
		if r.filter != nil {
			v = r.filter(r.scratch[i].Addr, r.scratch[i].Data)
		}
		switch v {
		case Pass:
			pass = append(pass, i)
		case Blocked:
			blocked++
		default:
			junk++
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Received += uint64(n)
	r.stats.Filtered += blocked
	r.stats.Junk += junk
	for k, i := range pass {
		d := &r.scratch[i]
		size := len(d.Data)
		if len(r.q) >= r.maxQueue || r.bytes+size > r.maxBytes {
			r.stats.Overflow += uint64(len(pass) - k)
			break
		}
		if cap(r.cur)-len(r.cur) < size {
			r.cur = r.chunk()
			r.filled = append(r.filled, r.cur)
		}
		off := len(r.cur)
		r.cur = append(r.cur, d.Data...)
		r.q = append(r.q, Datagram{Data: r.cur[off:len(r.cur):len(r.cur)], From: d.Addr})
		r.bytes += size
	}
}

// chunk returns an empty chunk from the pool, or a new one.
func (r *Reader) chunk() []byte {
	if n := len(r.free); n > 0 {
		c := r.free[n-1]
		r.free[n-1] = nil
		r.free = r.free[:n-1]
		return c[:0]
	}
	return make([]byte, 0, chunkSize)
}

// Take returns every datagram queued since the last Take, oldest first.
// Give the slice back with Recycle before the next Take.
func (r *Reader) Take() []Datagram {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.q) == 0 {
		return nil
	}
	q := r.q
	r.q, r.spare = r.spare[:0], nil
	r.taken = append(r.taken, r.filled...)
	clear(r.filled)
	r.filled = r.filled[:0]
	r.cur = nil
	r.bytes = 0
	return q
}

// Recycle gives back a batch from Take: its memory is reused, so none of
// its datagrams may be used afterwards.
func (r *Reader) Recycle(batch []Datagram) {
	if batch == nil {
		return
	}
	clear(batch)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.taken {
		if len(r.free) < maxFreeChunks {
			r.free = append(r.free, c)
		}
	}
	clear(r.taken)
	r.taken = r.taken[:0]
	r.spare = batch[:0]
}

// Stats returns the reader's counters.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}
