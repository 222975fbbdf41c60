package netsim

import (
	"net"
	"sync"
	"time"
)

// PacketConn wraps a real net.PacketConn so that what it sends goes
// through one simulated link and what it receives through another, in real
// time. Wrapping only a server's socket makes the whole path lossy.
type PacketConn struct {
	net.PacketConn
	mu     sync.Mutex
	out    *Link
	in     *Link
	ready  chan packet
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

type packet struct {
	data []byte
	addr net.Addr
}

// NewPacketConn wraps pc: datagrams written follow out, datagrams read
// follow in. The random choices follow seed.
func NewPacketConn(pc net.PacketConn, out, in Profile, seed uint64) *PacketConn {
	c := &PacketConn{
		PacketConn: pc,
		out:        NewLink(out, seed),
		in:         NewLink(in, seed+1),
		ready:      make(chan packet, 4096),
		wake:       make(chan struct{}, 1),
		closed:     make(chan struct{}),
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.schedule()
	return c
}

// SetProfiles changes how the links misbehave from now on (datagrams
// already in flight keep their fate).
func (c *PacketConn) SetProfiles(out, in Profile) {
	c.mu.Lock()
	c.out.p, c.in.p = out, in
	c.mu.Unlock()
}

// Stats returns the counters of the outgoing and incoming links.
func (c *PacketConn) Stats() (out, in LinkStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Stats(), c.in.Stats()
}

func (c *PacketConn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// WriteTo puts a copy of b on the outgoing link; it always succeeds.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	c.out.SendTo(time.Now(), b, addr)
	c.mu.Unlock()
	c.kick()
	return len(b), nil
}

// ReadFrom returns the next datagram the incoming link delivers.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.ready:
		return copy(b, p.data), p.addr, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

// Close closes the underlying connection; datagrams in flight are lost.
func (c *PacketConn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.PacketConn.Close()
		c.wg.Wait()
	})
	return err
}

func (c *PacketConn) readLoop() {
	defer c.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, addr, err := c.PacketConn.ReadFrom(buf)
		if err != nil {
			select {
			case <-c.closed:
				return
			default:
				continue
			}
		}
		c.mu.Lock()
		c.in.SendTo(time.Now(), buf[:n], addr)
		c.mu.Unlock()
		c.kick()
	}
}

// schedule moves datagrams off the links when they are due.
func (c *PacketConn) schedule() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		var sends, reads []packet
		c.mu.Lock()
		for d, a := c.out.NextFrom(now); d != nil; d, a = c.out.NextFrom(now) {
			sends = append(sends, packet{d, a})
		}
		for d, a := c.in.NextFrom(now); d != nil; d, a = c.in.NextFrom(now) {
			reads = append(reads, packet{d, a})
		}
		next := now.Add(time.Hour)
		for _, l := range []*Link{c.out, c.in} {
			if at, ok := l.NextAt(); ok && at.Before(next) {
				next = at
			}
		}
		c.mu.Unlock()
		for _, p := range sends {
			_, _ = c.PacketConn.WriteTo(p.data, p.addr)
		}
		for _, p := range reads {
			select {
			case c.ready <- p:
			default: // the reader is not keeping up: the datagram is lost
			}
		}
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
		case <-c.wake:
		case <-c.closed:
			return
		}
	}
}
