package dgram

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// WriterStats counts what a Writer sent.
type WriterStats struct {
	Datagrams uint64 // sent
	Bytes     uint64 // sent
	Errors    uint64 // datagrams that could not be sent
	Writes    uint64 // batches handed to the Conn
}

// A Writer collects datagrams and sends them a batch at a time, into
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
	c   transport.Conn
	cur *writeBatch

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
	ds   []transport.Datagram
}

// NewWriter returns a writer to c.
func NewWriter(c transport.Conn) *Writer {
	w := &Writer{c: c}
	w.cur = newBatch()
	return w
}

func newBatch() *writeBatch {
	b := &writeBatch{bufs: make([][]byte, transport.BatchSize), ds: make([]transport.Datagram, 0, transport.BatchSize)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, 0, transport.RecvSize)
	}
	return b
}

// Start makes a goroutine send the batches from now on. Call Close when
// done with the writer, before closing its Conn.
func (w *Writer) Start() {
	if w.out != nil {
		return
	}
	w.out = make(chan *writeBatch, asyncBatches)
	w.free = make(chan *writeBatch, asyncBatches)
	w.done = make(chan struct{})
	for i := 1; i < asyncBatches; i++ {
		w.free <- newBatch()
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
	w.cur.ds = append(w.cur.ds, transport.Datagram{Data: d, Addr: to})
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

// send sends a batch and empties it; a datagram the Conn refuses is
// counted and skipped.
func (w *Writer) send(b *writeBatch) {
	w.writes.Add(1)
	ds := b.ds
	for len(ds) > 0 {
		n, err := w.c.WriteBatch(ds)
		for _, d := range ds[:n] {
			w.datagrams.Add(1)
			w.bytes.Add(uint64(len(d.Data)))
		}
		if err == nil {
			break
		}
		if errors.Is(err, transport.ErrClosed) {
			w.errors.Add(uint64(len(ds) - n))
			break
		}
		w.errors.Add(1)
		if w.OnError != nil {
			w.OnError(ds[n].Addr, err)
		}
		ds = ds[n+1:]
	}
	clear(b.ds)
	b.ds = b.ds[:0]
}

// Stats returns the writer's counters. It may be called from any
// goroutine.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Datagrams: w.datagrams.Load(), Bytes: w.bytes.Load(), Errors: w.errors.Load(), Writes: w.writes.Load()}
}
