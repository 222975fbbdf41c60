package dtlsrec

import (
	"bytes"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// Bounds of a Pipe. A handshake needs a handful of datagrams each way;
// the bounds keep what a peer that floods during its handshake costs to
// a fixed number of datagrams.
const (
	maxQueued      = 16      // received datagrams waiting for pion
	maxFlight      = 8       // datagrams remembered as the last flight
	maxFlightBytes = 8 << 10 // bytes remembered as the last flight
)

// Pipe is the net.PacketConn over which pion runs the DTLS handshake of
// one peer, so that the caller keeps its one shared UDP socket: the
// caller feeds it the peer's datagrams (Push) and pion's datagrams go to
// the send function given to NewPipe, which sends them to the peer.
//
// It remembers the last flight pion sent (the datagrams written since
// pion last read one; see LastFlight), for the caller to re-send after
// the handoff when the peer retransmits. Close makes pion's reads fail
// and drops its later writes (its close_notify must not reach the peer,
// whose connection goes on in the record layer).
//
// Push, LastFlight and Drain may be called from any goroutine, and so may
// pion's calls.
type Pipe struct {
	send   func(b []byte)
	remote net.Addr

	// wmu is held across send, so that once Close returns no write of
	// pion's can still leave: the record layer's sequence numbers start
	// where pion's stopped, and a record of pion's sent later could reuse
	// a GCM nonce.
	wmu sync.Mutex

	mu     sync.Mutex
	wake   chan struct{} // closed (and replaced) when a reader should look again
	queue  [][]byte
	hold   bool // keep application data from pion (Handshake sets it)
	closed bool

	readDeadline  time.Time
	writeDeadline time.Time
	readTimer     *time.Timer

	flight      [][]byte
	flightBytes int
	newFlight   bool // pion read since its last write: its next write starts a flight
}

// NewPipe returns a Pipe for the peer at remote. send is called, from
// pion's goroutines and one call at a time, with each datagram pion
// writes; b is valid only during the call, and send must not call the
// Pipe's Close.
func NewPipe(remote net.Addr, send func(b []byte)) *Pipe {
	return &Pipe{send: send, remote: remote, wake: make(chan struct{})}
}

// Push queues a copy of a datagram received from the peer, for pion to
// read. It returns false, dropping the datagram, when maxQueued (16)
// datagrams are already waiting. It goes on queueing after Close, so that
// a caller that learns of the handoff a little late loses nothing: Drain
// returns what pion did not read.
func (p *Pipe) Push(datagram []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) >= maxQueued {
		return false
	}
	p.queue = append(p.queue, bytes.Clone(datagram))
	p.signal()
	return true
}

// Drain removes and returns the datagrams pion has not read. After the
// handoff the caller runs them through Conn.Open: they are the peer's
// first application data or its retransmissions. While Handshake runs,
// datagrams that begin with an application_data record are never given
// to pion (the peer sends data only once it has our Finished, when pion
// is done), so none of them is lost to pion between the end of the
// handshake and the handoff.
func (p *Pipe) Drain() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q
}

// LastFlight returns the datagrams of pion's last flight: those it wrote
// since it last read one, at most maxFlight (8) datagrams and
// maxFlightBytes (8 KiB), the first ones kept. At the handoff it is the
// server's final flight (ChangeCipherSpec and Finished), which the caller
// re-sends when the peer retransmits its own (see Conn.Open). Re-sending
// it is safe: the records are byte-for-byte pion's, so no nonce is used
// for two plaintexts. The caller must not modify them.
func (p *Pipe) LastFlight() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flight[:len(p.flight):len(p.flight)]
}

// Close makes pion's reads fail and drops its later writes. It waits for
// a write in progress, so that no write of pion's leaves after it
// returns. Pushed datagrams stay for Drain.
func (p *Pipe) Close() error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopReadTimer()
	p.signal()
	return nil
}

// ReadFrom implements net.PacketConn for pion: it returns the oldest
// pushed datagram (cut to len(b), as a UDP socket does), waiting for one
// until the read deadline or Close.
func (p *Pipe) ReadFrom(b []byte) (int, net.Addr, error) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return 0, nil, net.ErrClosed
		}
		if i := p.nextForPion(); i >= 0 {
			d := p.queue[i]
			p.queue = slices.Delete(p.queue, i, i+1)
			p.newFlight = true
			p.mu.Unlock()
			return copy(b, d), p.remote, nil
		}
		if !p.readDeadline.IsZero() && !time.Now().Before(p.readDeadline) {
			p.mu.Unlock()
			return 0, nil, os.ErrDeadlineExceeded
		}
		wake := p.wake
		p.mu.Unlock()
		<-wake
		p.mu.Lock()
	}
}

// nextForPion returns the index of the oldest datagram pion may read, or
// -1.
func (p *Pipe) nextForPion() int {
	for i, d := range p.queue {
		if !p.hold || len(d) == 0 || d[0] != TypeApplicationData {
			return i
		}
	}
	return -1
}

// WriteTo implements net.PacketConn for pion: it remembers the datagram
// as part of the last flight and passes it to send. addr is ignored: a
// Pipe has one peer.
func (p *Pipe) WriteTo(b []byte, _ net.Addr) (int, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, net.ErrClosed
	}
	if !p.writeDeadline.IsZero() && !time.Now().Before(p.writeDeadline) {
		p.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	p.remember(b)
	p.mu.Unlock()
	p.send(b)
	return len(b), nil
}

// remember adds b to the last flight, or starts a new flight with it when
// pion has read since its last write. Past the bounds, the flight keeps
// its first datagrams: later ones are most likely pion's timer-driven
// retransmissions of the same flight.
func (p *Pipe) remember(b []byte) {
	if p.newFlight {
		p.flight = nil // not [:0]: LastFlight's callers hold the old one
		p.flightBytes = 0
		p.newFlight = false
	}
	if len(p.flight) < maxFlight && p.flightBytes+len(b) <= maxFlightBytes {
		p.flight = append(p.flight, bytes.Clone(b))
		p.flightBytes += len(b)
	}
}

// SetDeadline implements net.PacketConn.
func (p *Pipe) SetDeadline(t time.Time) error {
	_ = p.SetReadDeadline(t)
	return p.SetWriteDeadline(t)
}

// SetReadDeadline implements net.PacketConn. pion's context-driven reads
// rely on it: to cancel a read they set a deadline in the past, which
// must wake a reader that is already waiting.
func (p *Pipe) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readDeadline = t
	p.stopReadTimer()
	if !t.IsZero() {
		if d := time.Until(t); d > 0 {
			p.readTimer = time.AfterFunc(d, p.wakeReaders)
		}
	}
	p.signal() // a waiting reader looks at the new deadline
	return nil
}

// SetWriteDeadline implements net.PacketConn. Writes never wait, so a
// deadline only refuses writes once it has passed.
func (p *Pipe) SetWriteDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeDeadline = t
	return nil
}

// LocalAddr implements net.PacketConn; a Pipe has no address of its own.
func (p *Pipe) LocalAddr() net.Addr { return pipeAddr{} }

func (p *Pipe) wakeReaders() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signal()
}

// signal wakes the readers waiting on p.wake. p.mu must be held.
func (p *Pipe) signal() {
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *Pipe) stopReadTimer() {
	if p.readTimer != nil {
		p.readTimer.Stop()
		p.readTimer = nil
	}
}

// holdData keeps datagrams that begin with application data from pion.
func (p *Pipe) holdData() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = true
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "dtlsrec" }
func (pipeAddr) String() string  { return "pipe" }
