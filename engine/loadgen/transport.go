package loadgen

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

// A transport carries the datagrams of one worker's clients, each on its
// own UDP socket connected to the server. Only the worker calls it.
type transport interface {
	// open creates the socket of client idx.
	open(idx int, server netip.AddrPort) error
	// buffer returns a buffer to build the next datagram in.
	buffer() []byte
	// write sends a datagram from client idx, or queues it until flush.
	write(idx int, b []byte) error
	// flush sends the queued datagrams.
	flush()
	// shut closes the socket of client idx.
	shut(idx int)
	// wait calls fn for the datagrams that arrived, waiting for some
	// until deadline when there are none. b is only valid during fn; now
	// is when the datagram was read.
	wait(deadline time.Time, fn func(idx int, b []byte, now time.Time))
	// receiveErrors counts failed reads (ICMP errors, mostly).
	receiveErrors() uint64
	// sendErrors counts queued datagrams that could not be sent.
	sendErrors() uint64
	// kernelDrops counts datagrams the system dropped because a socket's
	// receive buffer was full (0 where the transport cannot tell).
	kernelDrops() uint64
	// close closes every socket.
	close()
}

// netTransport reads each socket on its own goroutine, which queues the
// datagrams for the worker: the portable path.
type netTransport struct {
	conns []*net.UDPConn
	out   []byte
	wg    sync.WaitGroup
	wake  chan struct{}
	timer *time.Timer
	errs  atomic.Uint64

	mu    sync.Mutex
	q     []inbound
	spare []inbound
	free  []*[protocol.RecvBufferSize]byte
}

type inbound struct {
	idx int
	n   int
	at  time.Time
	buf *[protocol.RecvBufferSize]byte
}

// maxQueuedInbound bounds the datagrams waiting for the worker.
const maxQueuedInbound = 1 << 14

func newNetTransport(n int) *netTransport {
	t := &netTransport{conns: make([]*net.UDPConn, n), out: make([]byte, 0, protocol.RecvBufferSize), wake: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	t.timer.Stop()
	return t
}

func (t *netTransport) open(idx int, server netip.AddrPort) error {
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return err
	}
	t.conns[idx] = uc
	t.wg.Add(1)
	go t.read(idx, uc)
	return nil
}

func (t *netTransport) read(idx int, uc *net.UDPConn) {
	defer t.wg.Done()
	for {
		b := t.get()
		n, err := uc.Read(b[:])
		if err != nil {
			t.put(b)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			t.errs.Add(1)
			time.Sleep(time.Millisecond) // an ICMP error: do not spin
			continue
		}
		now := time.Now()
		t.mu.Lock()
		if len(t.q) < maxQueuedInbound {
			t.q = append(t.q, inbound{idx, n, now, b})
			b = nil
		}
		t.mu.Unlock()
		if b != nil {
			t.put(b)
			continue
		}
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

func (t *netTransport) get() *[protocol.RecvBufferSize]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.free); n > 0 {
		b := t.free[n-1]
		t.free = t.free[:n-1]
		return b
	}
	return new([protocol.RecvBufferSize]byte)
}

func (t *netTransport) put(b *[protocol.RecvBufferSize]byte) {
	t.mu.Lock()
	t.free = append(t.free, b)
	t.mu.Unlock()
}

func (t *netTransport) write(idx int, b []byte) error {
	_, err := t.conns[idx].Write(b)
	return err
}

func (t *netTransport) buffer() []byte { return t.out[:0] }

func (t *netTransport) flush() {}

func (t *netTransport) sendErrors() uint64 { return 0 }

func (t *netTransport) kernelDrops() uint64 { return 0 }

func (t *netTransport) shut(idx int) {
	if uc := t.conns[idx]; uc != nil {
		uc.Close()
		t.conns[idx] = nil
	}
}

func (t *netTransport) take() []inbound {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.q
	t.q, t.spare = t.spare[:0], nil
	return q
}

func (t *netTransport) wait(deadline time.Time, fn func(idx int, b []byte, now time.Time)) {
	q := t.take()
	if len(q) == 0 {
		d := time.Until(deadline)
		if d <= 0 {
			t.give(q)
			return
		}
		t.timer.Reset(d)
		select {
		case <-t.wake:
		case <-t.timer.C:
		}
		t.timer.Stop()
		t.give(q)
		q = t.take()
	}
	for _, in := range q {
		fn(in.idx, in.buf[:in.n], in.at)
	}
	t.give(q)
}

// give returns a batch's buffers and slice for reuse.
func (t *netTransport) give(q []inbound) {
	t.mu.Lock()
	for i := range q {
		t.free = append(t.free, q[i].buf)
		q[i] = inbound{}
	}
	if q != nil {
		t.spare = q[:0]
	}
	t.mu.Unlock()
}

func (t *netTransport) receiveErrors() uint64 { return t.errs.Load() }

func (t *netTransport) close() {
	for i := range t.conns {
		t.shut(i)
	}
	t.wg.Wait()
}
