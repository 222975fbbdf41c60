package udp

import (
	"errors"
	"net"
	"net/netip"

	"github.com/mpgs/mpgameserver/engine/protocol"
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
// A Writer belongs to one goroutine.
type Writer struct {
	pc    net.PacketConn
	udp   *net.UDPConn
	batch batchWriter
	bufs  [][]byte
	ds    [][]byte
	tos   []netip.AddrPort
	stats WriterStats
	fail  func(i int, err error)

	nFailed, bytesFailed int // of the batch being flushed

	// OnError, when set, is told about each datagram that could not be
	// sent (they are counted either way).
	OnError func(to netip.AddrPort, err error)
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
	w.init()
	return w
}

// NewSocketWriter returns a writer to s, for the goroutine that owns s.
func NewSocketWriter(s *Socket) *Writer {
	w := &Writer{}
	if rc, v6 := s.raw(); rc != nil {
		w.batch = newBatchWriter(rc, v6, BatchSize)
	}
	w.init()
	return w
}

func (w *Writer) init() {
	w.bufs = make([][]byte, BatchSize)
	for i := range w.bufs {
		w.bufs[i] = make([]byte, 0, protocol.RecvBufferSize)
	}
	w.ds = make([][]byte, 0, BatchSize)
	w.tos = make([]netip.AddrPort, 0, BatchSize)
	w.fail = w.failed
}

// Batched reports whether the writer sends many datagrams per system
// call.
func (w *Writer) Batched() bool { return w.batch != nil }

// Buffer returns an empty buffer with room for the largest datagram, to
// build the next datagram in.
func (w *Writer) Buffer() []byte { return w.bufs[len(w.ds)][:0] }

// Queue adds a datagram for to, sending the batch when it is full. d is
// normally built in the last Buffer; any other slice must stay untouched
// until the next Flush.
func (w *Writer) Queue(d []byte, to netip.AddrPort) {
	w.ds = append(w.ds, d)
	w.tos = append(w.tos, to)
	if len(w.ds) == cap(w.ds) {
		w.Flush()
	}
}

// Flush sends the queued datagrams.
func (w *Writer) Flush() {
	if len(w.ds) == 0 {
		return
	}
	w.nFailed, w.bytesFailed = 0, 0
	switch {
	case w.batch != nil:
		w.stats.Writes++
		if err := w.batch.write(w.ds, w.tos, w.fail); err != nil {
			// The socket closed: count what was not sent yet as failed.
			w.nFailed, w.bytesFailed = 0, 0
			for i := range w.ds {
				w.fail(i, err)
			}
		}
	default:
		for i, d := range w.ds {
			w.stats.Writes++
			var err error
			switch {
			case w.udp != nil:
				_, err = w.udp.WriteToUDPAddrPort(d, w.tos[i])
			case w.pc != nil:
				_, err = w.pc.WriteTo(d, net.UDPAddrFromAddrPort(w.tos[i]))
			default:
				err = errors.ErrUnsupported
			}
			if err != nil {
				w.fail(i, err)
			}
		}
	}
	var bytes int
	for _, d := range w.ds {
		bytes += len(d)
	}
	w.stats.Datagrams += uint64(len(w.ds) - w.nFailed)
	w.stats.Bytes += uint64(bytes - w.bytesFailed)
	w.stats.Errors += uint64(w.nFailed)
	clear(w.ds)
	w.ds = w.ds[:0]
	w.tos = w.tos[:0]
}

// failed counts datagram i of the batch as not sent.
func (w *Writer) failed(i int, err error) {
	w.nFailed++
	w.bytesFailed += len(w.ds[i])
	if w.OnError != nil && !errors.Is(err, net.ErrClosed) {
		w.OnError(w.tos[i], err)
	}
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats { return w.stats }
