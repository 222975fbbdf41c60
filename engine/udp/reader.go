// Package udp moves datagrams between a UDP socket and the goroutine that
// owns the connections (the server's tick loop, a client's Update)
// without making it wait on the socket and without allocating per
// datagram.
//
// A Reader reads the socket on its own goroutine, many datagrams per
// system call where the system has one (recvmmsg on Linux), packs them
// into pooled chunks and hands them over in batches: the owner takes
// everything that arrived since its last look in one call. A Writer
// collects the datagrams the owner builds during a tick and sends them
// many per system call (sendmmsg on Linux). Elsewhere, and on packet
// connections that are not a *net.UDPConn (a simulated link), both fall
// back to one call per datagram.
package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

// BatchSize is the most datagrams read or written per system call.
const BatchSize = 64

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

// Bytes returns the datagram's contents.
func (d *Datagram) Bytes() []byte { return d.Data }

// A Filter looks at a datagram before the reader copies it anywhere: it
// returns Pass to queue it, or the reason it is dropped. It runs on the
// reading goroutine, once per datagram, so it must be cheap.
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
	Reads    uint64 // system calls that returned datagrams
	Received uint64 // datagrams read
	// KernelDrops counts datagrams the system dropped before they could
	// be read because the socket's receive buffer was full (Linux, as of
	// the latest datagram read; 0 where the system does not tell).
	KernelDrops uint64
}

// A Reader reads a packet connection until it is closed. Take and
// Recycle belong to one goroutine (the owner); Stats may be called from
// any.
type Reader struct {
	pc       net.PacketConn
	udp      *net.UDPConn
	batch    batchReader // nil: one datagram per call
	maxQueue int
	maxBytes int
	filter   Filter
	scratch  [][]byte // receive buffers of the reading goroutine
	ns       []int    // their datagram lengths
	froms    []netip.AddrPort
	pass     []int // scratch buffers that passed the filter

	mu     sync.Mutex
	q      []Datagram
	spare  []Datagram
	bytes  int      // queued
	cur    []byte   // chunk being filled
	filled [][]byte // chunks holding queued datagrams
	taken  [][]byte // chunks of the batch handed out by Take
	free   [][]byte
	stats  Stats
	done   chan struct{}
}

// NewReader returns a reader of pc that holds at most maxQueued datagrams
// and maxBytes bytes between two Takes (more are dropped and counted).
// filter, when not nil, is asked about every datagram before it is
// queued.
func NewReader(pc net.PacketConn, maxQueued, maxBytes int, filter Filter) *Reader {
	r := &Reader{pc: pc}
	r.udp, _ = pc.(*net.UDPConn)
	var rc rawConn
	if r.udp != nil {
		rc, _, _ = udpRaw(r.udp)
	}
	r.init(rc, maxQueued, maxBytes, filter)
	return r
}

// NewSocketReader returns a reader of s, with the limits of NewReader.
// Read it with Drain from the goroutine that owns s.
func NewSocketReader(s *Socket, maxQueued, maxBytes int, filter Filter) *Reader {
	r := &Reader{}
	rc, _ := s.raw()
	r.init(rc, maxQueued, maxBytes, filter)
	return r
}

func (r *Reader) init(rc rawConn, maxQueued, maxBytes int, filter Filter) {
	r.maxQueue, r.maxBytes, r.filter, r.done = maxQueued, maxBytes, filter, make(chan struct{})
	n := 1
	if rc != nil {
		if b := newBatchReader(rc, BatchSize); b != nil {
			r.batch = b
			n = BatchSize
		}
	}
	r.scratch = make([][]byte, n)
	for i := range r.scratch {
		r.scratch[i] = make([]byte, protocol.RecvBufferSize)
	}
	r.ns = make([]int, n)
	r.froms = make([]netip.AddrPort, n)
	r.pass = make([]int, 0, n)
	if r.batch != nil {
		r.batch.setBuffers(r.scratch)
	}
}

// Batched reports whether the reader reads many datagrams per system
// call.
func (r *Reader) Batched() bool { return r.batch != nil }

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
		n, err := r.read()
		if err != nil {
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
		r.queue(n)
	}
}

// read fills the first n scratch buffers.
func (r *Reader) read() (int, error) {
	if r.batch != nil {
		return r.batch.read(r.ns, r.froms, true)
	}
	var (
		n    int
		from netip.AddrPort
		err  error
	)
	switch {
	case r.udp != nil:
		n, from, err = r.udp.ReadFromUDPAddrPort(r.scratch[0])
	case r.pc == nil:
		return 0, net.ErrClosed // a Socket where there are none
	default:
		var a net.Addr
		n, a, err = r.pc.ReadFrom(r.scratch[0])
		if err == nil {
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			} else {
				from, err = netip.ParseAddrPort(a.String())
			}
		}
	}
	if err != nil {
		return 0, err
	}
	r.ns[0], r.froms[0] = n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	return 1, nil
}

// queue packs the n datagrams just read into the chunks.
func (r *Reader) queue(n int) {
	// The filter runs outside the lock.
	pass := r.pass[:0]
	var blocked, junk uint64
	for i := 0; i < n; i++ {
		v := Pass
		if r.filter != nil {
			v = r.filter(r.froms[i], r.scratch[i][:r.ns[i]])
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
	r.stats.Reads++
	r.stats.Received += uint64(n)
	if r.batch != nil {
		r.stats.KernelDrops = r.batch.kernelDrops() // queue runs on the reading goroutine
	}
	r.stats.Filtered += blocked
	r.stats.Junk += junk
	for k, i := range pass {
		size := r.ns[i]
		if len(r.q) >= r.maxQueue || r.bytes+size > r.maxBytes {
			r.stats.Overflow += uint64(len(pass) - k)
			break
		}
		if cap(r.cur)-len(r.cur) < size {
			r.cur = r.chunk()
			r.filled = append(r.filled, r.cur)
		}
		off := len(r.cur)
		r.cur = append(r.cur, r.scratch[i][:size]...)
		r.q = append(r.q, Datagram{Data: r.cur[off:len(r.cur):len(r.cur)], From: r.froms[i]})
		r.bytes += size
	}
}

// Drain reads, without waiting, the datagrams the socket holds and queues
// them for Take, stopping when the socket is empty or the queue full (the
// rest waits in the socket). It is the alternative to Start for an owner
// that looks at the socket on a schedule, as the server does every tick:
// no goroutine is woken per datagram. It returns how many datagrams it
// read (those a filter dropped included). Where the system cannot read
// without waiting (see Batched) it does nothing; use Start there.
func (r *Reader) Drain() int {
	if r.batch == nil {
		return 0
	}
	total := 0
	for {
		r.mu.Lock()
		full := len(r.q)+len(r.scratch) > r.maxQueue || r.bytes+len(r.scratch)*protocol.RecvBufferSize > r.maxBytes
		r.mu.Unlock()
		if full {
			return total
		}
		n, err := r.batch.read(r.ns, r.froms, false)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
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
