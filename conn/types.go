package conn

import (
	"errors"
	"fmt"
)

// Status is the state of a connection. The values are the reference's.
type Status uint8

// Connection states.
const (
	// Connecting: the handshake is under way.
	Connecting Status = 1
	// Connected: the session key is set and application messages flow.
	Connected Status = 2
	// Disconnecting: a graceful close is under way, started by either side.
	Disconnecting Status = 3
	// Disconnected: closed gracefully, refused, or the handshake failed.
	Disconnected Status = 4
	// Dropped: the peer went silent for longer than the connection timeout.
	Dropped Status = 5
)

// String returns the reference name, e.g. "CONNECTED".
func (s Status) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Connected:
		return "CONNECTED"
	case Disconnecting:
		return "DISCONNECTING"
	case Disconnected:
		return "DISCONNECTED"
	case Dropped:
		return "DROPPED"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Closed reports whether s is a final state (Disconnected or Dropped).
func (s Status) Closed() bool { return s == Disconnected || s == Dropped }

// RetryMode controls how a message is delivered. The values are the
// reference's.
type RetryMode int8

// Retry modes.
const (
	// RetryOnTimeout resends the message until the peer acknowledges it, for
	// as long as the connection lives. Its callback sees true once, or
	// false if the connection closes first.
	RetryOnTimeout RetryMode = -1
	// RetryNone sends the message once. Its callback sees true if the
	// packet was acknowledged, false if it timed out.
	RetryNone RetryMode = 0
	// RetryBestEffort sends the message, then resends it every resend delay
	// until one copy is acknowledged (callback true) or the first copy
	// times out (callback false).
	RetryBestEffort RetryMode = 1
)

// String returns the reference name, e.g. "RETRY_ON_TIMEOUT".
func (m RetryMode) String() string {
	switch m {
	case RetryOnTimeout:
		return "RETRY_ON_TIMEOUT"
	case RetryNone:
		return "NONE"
	case RetryBestEffort:
		return "BEST_EFFORT"
	}
	return fmt.Sprintf("RetryMode(%d)", int8(m))
}

// Valid reports whether m is one of the three modes.
func (m RetryMode) Valid() bool { return m >= RetryOnTimeout && m <= RetryBestEffort }

// Errors. A connection refuses a datagram with one of the first group,
// wrapping its cause, so that callers classify with errors.Is; the second
// group is what Send returns; the third is why a connection ended.
var (
	// ErrBadHeader: the datagram's header did not parse (short, bad magic,
	// wrong direction, unknown type) or its length exceeds the datagram.
	ErrBadHeader = errors.New("conn: bad packet header")
	// ErrAuth: the AES-GCM tag or the hello CRC did not match.
	ErrAuth = errors.New("conn: datagram failed authentication")
	// ErrBadPayload: the decrypted payload's message records are malformed.
	ErrBadPayload = errors.New("conn: malformed payload")
	// ErrDuplicate: a packet seq already received.
	ErrDuplicate = errors.New("conn: duplicate packet")
	// ErrStale: a packet outside the anti-replay window: too old, too far
	// ahead, or a copy from before the sequence ring wrapped.
	ErrStale = errors.New("conn: stale packet")
	// ErrHandshake: a handshake message was malformed, unexpected, badly
	// signed or carried the wrong token.
	ErrHandshake = errors.New("conn: handshake failed")
	// ErrNoSession: an encrypted packet arrived before the session key.
	ErrNoSession = errors.New("conn: no session key yet")
	// ErrClosed: the connection is closed.
	ErrClosed = errors.New("conn: connection closed")
	// ErrBadMessage: the packet was accepted but one of its messages was
	// rejected (a bad fragment, an unexpected type).
	ErrBadMessage = errors.New("conn: message rejected")

	// ErrNotConnected: Send before the handshake finished or after close.
	ErrNotConnected = errors.New("conn: not connected")
	// ErrQueueFull: the messages alive reached MaxQueuedBytes or
	// MaxQueuedMessages, or the shared Budget is spent.
	ErrQueueFull = errors.New("conn: send queue full")
	// ErrOverBudget: the connection held more than its share of the
	// shared Budget while memory was short, and was closed.
	ErrOverBudget = errors.New("conn: the peer took more than its share of memory")
	// ErrOutOfWindow: the peer kept sending message numbers too far ahead
	// to place, and the connection was closed.
	ErrOutOfWindow = errors.New("conn: the peer's message numbers are out of any window")
	// ErrMessageTooLarge: the message exceeds MaxMessageSize.
	ErrMessageTooLarge = errors.New("conn: message too large")
	// ErrRetryMode: not one of the three retry modes.
	ErrRetryMode = errors.New("conn: invalid retry mode")

	// ErrBadSignature: the SERVER_HELLO signature did not verify.
	ErrBadSignature = errors.New("conn: server hello signature does not verify")
	// ErrHandshakeTimeout: the handshake did not finish in time.
	ErrHandshakeTimeout = errors.New("conn: handshake timed out")
	// ErrTimeout: the peer was silent for longer than the connection
	// timeout.
	ErrTimeout = errors.New("conn: connection timed out")
	// ErrReset: the server no longer knows the session (it restarted, or
	// forgot it) and said so with a stateless reset, which only the server
	// that holds the root key the session was made under can make.
	ErrReset = errors.New("conn: the server no longer knows this session (it restarted)")
	// ErrPeerClosed: the peer closed the connection.
	ErrPeerClosed = errors.New("conn: closed by peer")
	// ErrLocalClose: Disconnect was called.
	ErrLocalClose = errors.New("conn: closed locally")
	// ErrCloseTimeout: Disconnect was called and the peer never
	// acknowledged the DISCONNECT within the disconnect timeout.
	ErrCloseTimeout = fmt.Errorf("%w, unacknowledged", ErrLocalClose)
)

// Drops counts rejected datagrams by reason.
type Drops struct {
	Header    uint64 // unparseable header, wrong direction, short datagram
	Auth      uint64 // bad GCM tag or CRC
	Payload   uint64 // malformed message records
	Duplicate uint64 // packet seq already received
	Stale     uint64 // outside the anti-replay window (a replay, or too old)
	Handshake uint64 // bad or unexpected handshake packet
	NoSession uint64 // encrypted before the key exists
	Closed    uint64 // arrived after the connection closed
}

// Add adds o's counts to d.
func (d *Drops) Add(o *Drops) {
	d.Header += o.Header
	d.Auth += o.Auth
	d.Payload += o.Payload
	d.Duplicate += o.Duplicate
	d.Stale += o.Stale
	d.Handshake += o.Handshake
	d.NoSession += o.NoSession
	d.Closed += o.Closed
}

// Total returns the sum of all drops.
func (d *Drops) Total() uint64 {
	return d.Header + d.Auth + d.Payload + d.Duplicate + d.Stale + d.Handshake + d.NoSession + d.Closed
}

// Stats are a connection's counters since it began: the reference's
// ConnectionStats and more. Per-second figures are the difference of two
// readings a second apart.
type Stats struct {
	// Assembled counts packets built and sent.
	Assembled uint64
	// Sent counts messages queued for sending (the reference's "sent").
	Sent uint64
	// Received counts packets accepted.
	Received uint64
	// BytesSent and BytesRecv count the bytes of the datagrams built and
	// accepted.
	BytesSent, BytesRecv uint64
	// Dropped counts datagrams rejected; Drops breaks it down.
	Dropped uint64
	// Acked counts sent packets the peer acknowledged.
	Acked uint64
	// Timeouts counts sent packets never acknowledged in time.
	Timeouts uint64
	// Lost counts sent packets found lost before their timeout: a packet
	// sent three or more after them was acknowledged first.
	Lost uint64
	// Delivered counts application messages handed to the application.
	Delivered uint64
	// DuplicateMessages counts messages dropped by the duplicate filter.
	DuplicateMessages uint64
	// BadMessages counts messages rejected inside accepted packets.
	BadMessages uint64
	// Resent counts messages sent again by a retry mode.
	Resent uint64
	// FarMessages counts messages dropped because their number was too
	// far ahead of the window to place.
	FarMessages uint64
	// Cookies counts cookie replies taken (a client's: the server was
	// under load and asked it to prove its address).
	Cookies uint64
	// Drops is the breakdown of Dropped.
	Drops Drops
}
