package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// sockets carry the datagrams of one worker's clients (carrier/transport
// underneath). Only the worker calls them.
type sockets interface {
	// open makes client idx's socket.
	open(idx int) error
	// buffer returns a buffer to build the next datagram in.
	buffer() []byte
	// write sends a datagram from client idx, or queues it until flush.
	write(idx int, b []byte)
	// flush sends the queued datagrams.
	flush()
	// shut closes the socket of client idx.
	shut(idx int)
	// wait calls fn for the datagrams that arrived, then sleeps until
	// deadline but at most pollEvery. b is only valid during fn; now is
	// when the datagram was read. Where the datagrams come in batches,
	// ahead (if not nil) is told of the client of each datagram d calls
	// of fn before its own (1 ≤ d ≤ aheadDepth), for prefetching.
	wait(deadline time.Time, fn func(idx int, b []byte, now time.Time), ahead func(idx, d int))
	// sendErrors counts datagrams that could not be sent.
	sendErrors() uint64
	// kernelDrops counts datagrams dropped because a socket's receive
	// buffer (or queue) was full.
	kernelDrops() uint64
	// refused reports whether client idx's socket was told that nothing
	// listens at the server's port (an ICMP port unreachable: a connected
	// socket's ECONNREFUSED). Only per-client sockets on Linux can tell.
	refused(idx int) bool
	// close closes every socket.
	close()
}

func newSockets(cfg *Config, n int) (sockets, error) {
	if cfg.Sockets == SocketsShared {
		return newSharedSockets(cfg.Server, n, 0)
	}
	return newConnSockets(cfg.Server, n, cfg.Sockets == SocketsPortable)
}

// autoSockets is what SocketsAuto means for server.
func autoSockets(server netip.AddrPort) Sockets {
	if sharedPossible(server) {
		return SocketsShared
	}
	return SocketsPerClient
}

// pause sleeps until deadline, at most pollEvery.
func pause(deadline time.Time) {
	if d := min(time.Until(deadline), pollEvery); d > 0 {
		time.Sleep(d)
	}
}

// connSockets gives each client a socket of its own connected to the
// server, all watched by one poller: the worker reads only the
// sockets that have datagrams waiting, at one system call for all of them
// plus one per socket read (Linux; elsewhere portable sockets), and no
// datagram wakes a goroutine.
type connSockets struct {
	server  string
	cfg     transport.Config
	conns   []transport.Conn
	refusal []bool // by client: its socket reported ECONNREFUSED
	poll    *poller
	ready   []int
	in      []transport.Datagram
	out     []transport.Datagram
	errs    uint64
	dropped uint64 // by sockets already closed
}

func newConnSockets(server netip.AddrPort, n int, portable bool) (*connSockets, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	s := &connSockets{server: server.String(), cfg: transport.Config{Buffer: 256 << 10, Portable: portable}, conns: make([]transport.Conn, n), refusal: make([]bool, n), poll: p, ready: make([]int, 256),
		in: make([]transport.Datagram, 8), out: make([]transport.Datagram, 1)}
	for i := range s.in {
		s.in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	s.out[0].Data = make([]byte, 0, transport.RecvSize)
	return s, nil
}

func (s *connSockets) open(idx int) error {
	c, err := transport.Dial(s.server, s.cfg)
	if err != nil {
		return err
	}
	if err := s.poll.add(c, idx); err != nil {
		c.Close()
		return err
	}
	s.conns[idx] = c
	s.refusal[idx] = false
	return nil
}

func (s *connSockets) buffer() []byte { return s.out[0].Data[:0] }

func (s *connSockets) write(idx int, b []byte) {
	c := s.conns[idx]
	if c == nil {
		s.errs++
		return
	}
	s.out[0].Data = b
	if _, err := c.WriteBatch(s.out); err != nil {
		s.errs++
		s.noteErr(idx, err)
	}
}

// noteErr remembers a refusal: on a connected socket, the system reports
// an ICMP port unreachable as ECONNREFUSED on the next read or write.
func (s *connSockets) noteErr(idx int, err error) {
	if errors.Is(err, syscall.ECONNREFUSED) {
		s.refusal[idx] = true
	}
}

func (s *connSockets) refused(idx int) bool { return s.refusal[idx] }

func (s *connSockets) flush() {}

func (s *connSockets) shut(idx int) {
	if c := s.conns[idx]; c != nil {
		s.dropped += c.Stats().KernelDrops
		_ = s.poll.remove(c)
		c.Close()
		s.conns[idx] = nil
	}
}

func (s *connSockets) wait(deadline time.Time, fn func(idx int, b []byte, now time.Time), _ func(idx, d int)) {
	for {
		k, err := s.poll.ready(s.ready)
		if err != nil || k == 0 {
			break
		}
		now := time.Now()
		for _, idx := range s.ready[:k] {
			c := s.conns[idx]
			if c == nil {
				continue
			}
			n, err := c.ReadBatch(s.in)
			if err != nil {
				s.noteErr(idx, err)
			}
			for i := 0; i < n && s.conns[idx] != nil; i++ {
				fn(idx, s.in[i].Data, now)
			}
		}
		if k < len(s.ready) {
			break
		}
	}
	pause(deadline)
}

func (s *connSockets) sendErrors() uint64 { return s.errs }

func (s *connSockets) kernelDrops() uint64 {
	d := s.dropped
	for _, c := range s.conns {
		if c != nil {
			d += c.Stats().KernelDrops
		}
	}
	return d
}

func (s *connSockets) close() {
	for i := range s.conns {
		s.shut(i)
	}
	s.poll.close()
}

// sharedSockets carry all of a worker's clients on one socket, for a
// server on the IPv4 loopback: each client sends from its own address in
// 127.0.0.0/8 (transport.Config.PacketInfo), the server answers to that
// address, and a reply's destination tells which client it is for.
// Datagrams go out and come in 64 per system call. To the server, each
// client is a distinct address, as over a network.
type sharedSockets struct {
	c      transport.Conn
	server netip.AddrPort
	isOpen []bool
	out    []transport.Datagram // queued: out[:n]
	n      int
	in     []transport.Datagram
	errs   uint64
}

// sharedBase is the first client address: 127.1.0.1, 127.1.0.2, ...
var sharedBase = [4]byte{127, 1, 0, 0}

// maxSharedClients bounds the clients of one shared socket (the addresses
// must stay inside 127.0.0.0/8).
const maxSharedClients = 1 << 23

// clientAddr returns the loopback address of client idx.
func clientAddr(idx int) netip.Addr {
	k := binary.BigEndian.Uint32(sharedBase[:]) + uint32(idx) + 1
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], k)
	return netip.AddrFrom4(a)
}

// clientIndex is the inverse of clientAddr; ok is false for an address
// that is not a client's.
func clientIndex(a netip.Addr, n int) (int, bool) {
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	k := int64(binary.BigEndian.Uint32(b[:])) - int64(binary.BigEndian.Uint32(sharedBase[:])) - 1
	return int(k), k >= 0 && k < int64(n)
}

// sharedPossible reports whether shared sockets can reach server.
func sharedPossible(server netip.AddrPort) bool {
	a := server.Addr().Unmap()
	return runtime.GOOS == "linux" && a.Is4() && a.IsLoopback()
}

// newSharedSockets opens the socket; buffer is its buffers' size (0: the
// transport's default).
func newSharedSockets(server netip.AddrPort, n, buffer int) (*sharedSockets, error) {
	if !sharedPossible(server) {
		return nil, fmt.Errorf("loadgen: shared sockets need Linux and a server on the IPv4 loopback, not %s", server)
	}
	if n > maxSharedClients {
		return nil, fmt.Errorf("loadgen: at most %d clients per worker share a socket", maxSharedClients)
	}
	c, err := transport.Listen("0.0.0.0:0", transport.Config{PacketInfo: true, Buffer: buffer})
	if err != nil {
		return nil, err
	}
	s := &sharedSockets{c: c, server: netip.AddrPortFrom(server.Addr().Unmap(), server.Port()), isOpen: make([]bool, n),
		out: make([]transport.Datagram, transport.BatchSize), in: make([]transport.Datagram, transport.BatchSize)}
	for i := range s.out {
		s.out[i].Data = make([]byte, 0, transport.RecvSize)
		s.in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	return s, nil
}

func (s *sharedSockets) open(idx int) error {
	s.isOpen[idx] = true
	return nil
}

func (s *sharedSockets) shut(idx int) { s.isOpen[idx] = false }

func (s *sharedSockets) buffer() []byte { return s.out[s.n].Data[:0] }

// write queues d, which must be the last buffer(), from client idx.
func (s *sharedSockets) write(idx int, d []byte) {
	s.out[s.n] = transport.Datagram{Data: d, Addr: s.server, Local: clientAddr(idx)}
	s.n++
	if s.n == len(s.out) {
		s.flush()
	}
}

func (s *sharedSockets) flush() {
	sent := 0
	for sent < s.n {
		k, err := s.c.WriteBatch(s.out[sent:s.n])
		sent += k
		if err != nil {
			if errors.Is(err, transport.ErrClosed) {
				break
			}
			s.errs++ // out[sent] failed: skip it
			sent++
		}
	}
	s.n = 0
}

func (s *sharedSockets) wait(deadline time.Time, fn func(idx int, b []byte, now time.Time), ahead func(idx, d int)) {
	s.flush()
	for {
		n, err := s.c.ReadBatch(s.in)
		now := time.Now()
		for i := 0; i < n; i++ {
			if ahead != nil {
				for d := 1; d <= aheadDepth && i+d < n; d++ {
					if idx, ok := clientIndex(s.in[i+d].Local, len(s.isOpen)); ok && s.isOpen[idx] {
						ahead(idx, d)
					}
				}
			}
			idx, ok := clientIndex(s.in[i].Local, len(s.isOpen))
			if ok && s.isOpen[idx] {
				fn(idx, s.in[i].Data, now)
			}
		}
		if err != nil || n < len(s.in) {
			break
		}
	}
	pause(deadline)
}

func (s *sharedSockets) kernelDrops() uint64 { return s.c.Stats().KernelDrops }

// refused is false: an unconnected socket is not told of ICMP errors.
func (s *sharedSockets) refused(int) bool { return false }

func (s *sharedSockets) sendErrors() uint64 { return s.errs }

func (s *sharedSockets) close() {
	s.flush()
	s.c.Close()
}
