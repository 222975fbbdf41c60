package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

// WriterStats counts what a Writer sent.
type WriterStats struct {
	Datagrams uint64 // sent
	Bytes     uint64 // sent
	Errors    uint64 // datagrams that could not be sent
	Writes    uint64 // system calls (or batches) made
}

// A Writer collects datagrams and sends them BatchSize at a time, into
// buffers it owns so that building a datagram allocates nothing:
//
//	d := conn.Poll(now, w.Buffer())
//	if d != nil {
//		w.Queue(d, addr)
//	}
//	...
//	w.Flush()
//
// Buffer, Queue and Flush belong to one goroutine. After Start, full
// batches are sent by a goroutine of the writer's own, so that the owner
// goes on building while the system sends; Close stops it.
type Writer struct {
	pc    net.PacketConn
	udp   *net.UDPConn
	batch batchWriter
	cur   *writeBatch

	datagrams, bytes, errors, writes atomic.Uint64

	// OnError, when set, is told about each datagram that could not be
	// sent (they are counted either way). After Start it is called from
	// the writer's goroutine.
	OnError func(to netip.AddrPort, err error)

	// after Start
	out       chan *writeBatch
	free      chan *writeBatch
	done      chan struct{}
	closeOnce sync.Once
}

// asyncBatches is how many batches a started Writer has: one being
// filled, the others queued or being sent.
const asyncBatches = 8

// writeBatch is up to BatchSize datagrams and the buffers they are built
// in.
type writeBatch struct {
	bufs [][]byte
	ds   [][]byte
	tos  []netip.AddrPort
	fail func(i int, err error)

	nFailed, bytesFailed int // while it is sent
}

// NewWriter returns a writer to pc.
func NewWriter(pc net.PacketConn) *Writer {
	w := &Writer{pc: pc}
	w.udp, _ = pc.(*net.UDPConn)
	if w.udp != nil {
		if rc, v6, err := udpRaw(w.udp); err == nil {
			w.batch = newBatchWriter(rc, v6, BatchSize)
		}
	}
	w.cur = w.newBatch()
	return w
}

// NewSocketWriter returns a writer to s.
func NewSocketWriter(s *Socket) *Writer {
	w := &Writer{}
	if rc, v6 := s.raw(); rc != nil {
		w.batch = newBatchWriter(rc, v6, BatchSize)
	}
	w.cur = w.newBatch()
	return w
}

func (w *Writer) newBatch() *writeBatch {
	b := &writeBatch{
		bufs: make([][]byte, BatchSize),
		ds:   make([][]byte, 0, BatchSize),
		tos:  make([]netip.AddrPort, 0, BatchSize),
	}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, 0, protocol.RecvBufferSize)
	}
	b.fail = func(i int, err error) {
		b.nFailed++
		b.bytesFailed += len(b.ds[i])
		if w.OnError != nil && !errors.Is(err, net.ErrClosed) {
			w.OnError(b.tos[i], err)
		}
	}
	return b
}

// Batched reports whether the writer sends many datagrams per system
// call.
func (w *Writer) Batched() bool { return w.batch != nil }

// Start makes a goroutine send the batches from now on. Call Close when
// done with the writer, before closing its socket.
func (w *Writer) Start() {
	if w.out != nil {
		return
	}
	w.out = make(chan *writeBatch, asyncBatches)
	w.free = make(chan *writeBatch, asyncBatches)
	w.done = make(chan struct{})
	for i := 1; i < asyncBatches; i++ {
		w.free <- w.newBatch()
	}
	go func() {
		defer close(w.done)
		for b := range w.out {
			w.send(b)
			w.free <- b
		}
	}()
}

// Close sends what is queued and, after Start, waits for the writer's
// goroutine to finish. The writer must not be used afterwards.
func (w *Writer) Close() {
	w.Flush()
	if w.out == nil {
		return
	}
	w.closeOnce.Do(func() {
		close(w.out)
		<-w.done
	})
}

// Buffer returns an empty buffer with room for the largest datagram, to
// build the next datagram in.
func (w *Writer) Buffer() []byte { return w.cur.bufs[len(w.cur.ds)][:0] }

// Queue adds a datagram for to, sending the batch when it is full. d is
// normally built in the last Buffer; any other slice must stay untouched
// until the next Flush.
func (w *Writer) Queue(d []byte, to netip.AddrPort) {
	w.cur.ds = append(w.cur.ds, d)
	w.cur.tos = append(w.cur.tos, to)
	if len(w.cur.ds) == cap(w.cur.ds) {
		w.Flush()
	}
}

// Flush sends the queued datagrams (after Start: hands them to the
// writer's goroutine, waiting only when every batch is in flight).
func (w *Writer) Flush() {
	if len(w.cur.ds) == 0 {
		return
	}
	if w.out == nil {
		w.send(w.cur)
		return
	}
	w.out <- w.cur
	w.cur = <-w.free
}

// send sends a batch and empties it.
func (w *Writer) send(b *writeBatch) {
	b.nFailed, b.bytesFailed = 0, 0
	switch {
	case w.batch != nil:
		w.writes.Add(1)
		if err := w.batch.write(b.ds, b.tos, b.fail); err != nil {
			// The socket closed: count what was not sent yet as failed.
			b.nFailed, b.bytesFailed = 0, 0
			for i := range b.ds {
				b.fail(i, err)
			}
		}
	default:
		for i, d := range b.ds {
			w.writes.Add(1)
			var err error
			switch {
			case w.udp != nil:
				_, err = w.udp.WriteToUDPAddrPort(d, b.tos[i])
			case w.pc != nil:
				_, err = w.pc.WriteTo(d, net.UDPAddrFromAddrPort(b.tos[i]))
			default:
				err = errors.ErrUnsupported
			}
			if err != nil {
				b.fail(i, err)
			}
		}
	}
	var bytes int
	for _, d := range b.ds {
		bytes += len(d)
	}
	w.datagrams.Add(uint64(len(b.ds) - b.nFailed))
	w.bytes.Add(uint64(bytes - b.bytesFailed))
	w.errors.Add(uint64(b.nFailed))
	clear(b.ds)
	b.ds = b.ds[:0]
	b.tos = b.tos[:0]
}

// Stats returns the writer's counters. It may be called from any
// goroutine.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Datagrams: w.datagrams.Load(), Bytes: w.bytes.Load(), Errors: w.errors.Load(), Writes: w.writes.Load()}
}
