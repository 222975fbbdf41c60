// Package transport moves datagrams in batches: the one socket layer of
// the server, the client and the load generator.
//
// A Conn is read and written many datagrams at a time and never makes its
// owner wait unless asked to: ReadBatch returns at once with what has
// arrived, and Wait blocks until something has. There are three kinds:
//
//   - on Linux, Listen and Dial return a UDP socket read with recvmmsg and
//     written with sendmmsg, 64 datagrams per system call, outside Go's
//     network poller, so that no datagram wakes a goroutine: an owner
//     that reads on a schedule (a server's tick, a game's frame) pays one
//     system call per batch and nothing per arrival;
//   - elsewhere (or with Config.Portable) they return a socket read by a
//     goroutine of its own into a bounded queue, through Go's network
//     poller;
//   - NewNetwork makes an in-memory network for tests: no sockets, no
//     system calls, and under testing/synctest its waits follow the
//     bubble's fake clock.
//
// netsim wraps any Conn in a lossy, delaying link.
package transport

import (
	"errors"
	"net/netip"
	"time"
)

// A Datagram is one datagram read or to write.
type Datagram struct {
	// Data is the datagram. ReadBatch reads into Data's capacity (give
	// it RecvSize) and sets its length.
	Data []byte
	// Addr is the peer: where a datagram read came from, where one
	// written goes.
	Addr netip.AddrPort
	// Local is our address for the datagram on a Conn with
	// Config.PacketInfo: the address one read was sent to, the address
	// one written is sent from. It is left alone otherwise.
	Local netip.Addr
}

// RecvSize is the capacity a datagram must be read into: the largest
// datagram the protocol tolerates (the Python original's receive
// buffer).
const RecvSize = 2048

// BatchSize is the most datagrams a system call reads or writes.
const BatchSize = 64

// ErrClosed is returned by a closed Conn.
var ErrClosed = errors.New("transport: closed")

// ErrBroken is matched (errors.Is) by the errors of a Conn whose carrier
// failed for good: a WebRTC connection that could not be set up (the
// server refused the signaling, say) or that failed. Nothing will come
// through it again; a client gives up its connection with that reason
// instead of waiting for its handshake to time out.
var ErrBroken = errors.New("transport: the carrier failed")

// Broken returns err as an error that matches ErrBroken, with err's
// message.
func Broken(err error) error { return broken{err} }

type broken struct{ error }

func (b broken) Is(target error) bool { return target == ErrBroken }
func (b broken) Unwrap() error        { return b.error }

// A Conn is a datagram socket read and written in batches. ReadBatch and
// WriteBatch may be called from different goroutines, each by one at a
// time; Wait by the reader; Stats and Close from any goroutine.
type Conn interface {
	// ReadBatch fills ds with datagrams that have arrived, without
	// waiting, and returns how many (0 when none has).
	ReadBatch(ds []Datagram) (int, error)
	// WriteBatch sends ds in order and returns how many were sent. When
	// ds[n] cannot be sent it returns n and why; the caller may skip it
	// and go on with the rest.
	WriteBatch(ds []Datagram) (int, error)
	// Wait blocks until a datagram may be read, the deadline passes (a
	// zero deadline never passes), or the Conn is closed (ErrClosed).
	Wait(deadline time.Time) error
	// LocalAddr returns the address the Conn is bound to.
	LocalAddr() netip.AddrPort
	// Stats returns the Conn's counters.
	Stats() Stats
	// Close closes the Conn; a Wait under way returns ErrClosed.
	Close() error
}

// An Opener is a Conn that carries nothing until it has opened: a WebRTC
// data channel, which a dial sets up (signaling, ICE, DTLS, SCTP) in the
// background. A Conn that is not an Opener is open from the start.
// Until Opened reports true, writes are dropped, and a ReadBatch reports
// why, wrapped as ErrBroken, if the Conn will never open; the Conn bounds
// its own setup. A client starts its handshake, and the handshake's
// timeout, when its Conn opens.
type Opener interface {
	Conn
	// Opened reports whether the Conn carries datagrams yet.
	Opened() bool
}

// Stats describe a Conn.
type Stats struct {
	// KernelDrops counts datagrams the system dropped before they were
	// read because the receive buffer was full (Linux sockets; a
	// portable socket counts those its own queue dropped).
	KernelDrops uint64
	// RecvBuffer and SendBuffer are the socket buffers as the system
	// reports them (0 where it does not tell).
	RecvBuffer, SendBuffer int
	// Reads and Writes count the system calls (or batches) that moved
	// datagrams.
	Reads, Writes uint64
}

// Config sets up a socket.
type Config struct {
	// Buffer is the size asked for the socket's receive and send buffers
	// (4 MiB). The system may cap it (Linux: net.core.rmem_max, unless
	// the process may pass it).
	Buffer int
	// PacketInfo makes Datagram.Local meaningful (Linux, IPv4): a socket
	// bound to many addresses (0.0.0.0, or 127.0.0.0/8 on the loopback)
	// tells which one a datagram came to, and sends each from the address
	// it names.
	PacketInfo bool
	// Portable uses Go's network poller and a goroutine reading the
	// socket, as off Linux.
	Portable bool
}

func (c Config) buffer() int {
	if c.Buffer > 0 {
		return c.Buffer
	}
	return 4 << 20
}

// deadlineTimeout returns how long to wait for deadline: -1 for none.
func deadlineTimeout(deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return -1
	}
	return max(0, time.Until(deadline))
}
