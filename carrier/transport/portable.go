package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// portableQueue is how many unread datagrams a portable socket holds.
const portableQueue = 8192

// portableConn is a UDP socket in Go's network poller, read by a goroutine
// of its own into an inbox: the portable way, one system call per
// datagram.
type portableConn struct {
	inbox
	uc        *net.UDPConn
	connected bool
	local     netip.AddrPort
	rcv, snd  int
	writes    atomic.Uint64
	wg        sync.WaitGroup
}

func listenPortable(addr string, cfg Config) (Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	return newPortable(uc, false, cfg), nil
}

func dialPortable(addr string, cfg Config) (Conn, error) {
	uc, err := dialUDP(addr)
	if err != nil {
		return nil, err
	}
	return newPortable(uc, true, cfg), nil
}

// dialUDP opens a UDP socket connected to addr.
func dialUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.DialUDP("udp", nil, ua)
}

func newPortable(uc *net.UDPConn, connected bool, cfg Config) *portableConn {
	c := &portableConn{uc: uc, connected: connected}
	c.init(portableQueue)
	if ua, ok := uc.LocalAddr().(*net.UDPAddr); ok {
		c.local = ua.AddrPort()
	}
	// The system may refuse or cap the sizes; the socket works anyway.
	_ = uc.SetReadBuffer(cfg.buffer())
	_ = uc.SetWriteBuffer(cfg.buffer())
	c.rcv, c.snd = bufferSizes(uc)
	c.wg.Add(1)
	go c.run()
	return c
}

// run reads the socket until it is closed.
func (c *portableConn) run() {
	defer c.wg.Done()
	buf := make([]byte, RecvSize)
	for {
		n, from, err := c.uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// An ICMP error on a connected socket (the peer is not there
			// yet) or a transient failure: go on, without spinning.
			time.Sleep(time.Millisecond)
			continue
		}
		c.push(netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), netip.Addr{}, buf[:n])
	}
}

func (c *portableConn) ReadBatch(ds []Datagram) (int, error) { return c.read(ds) }

func (c *portableConn) WriteBatch(ds []Datagram) (int, error) {
	for i, d := range ds {
		c.writes.Add(1)
		var err error
		if c.connected {
			_, err = c.uc.Write(d.Data)
		} else {
			_, err = c.uc.WriteToUDPAddrPort(d.Data, d.Addr)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = ErrClosed
			}
			return i, err
		}
	}
	return len(ds), nil
}

func (c *portableConn) Wait(deadline time.Time) error { return c.wait(deadline) }

func (c *portableConn) LocalAddr() netip.AddrPort { return c.local }

func (c *portableConn) Stats() Stats {
	drops, reads := c.counts()
	return Stats{KernelDrops: drops, Reads: reads, Writes: c.writes.Load(), RecvBuffer: c.rcv, SendBuffer: c.snd}
}

func (c *portableConn) Close() error {
	if !c.close() {
		return ErrClosed
	}
	err := c.uc.Close()
	c.wg.Wait()
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	return nil
}
