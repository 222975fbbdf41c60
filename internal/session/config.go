package session

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Defaults, equal to the reference's where it has one.
const (
	DefaultSendInterval      = time.Second / 60
	DefaultKeepAliveInterval = 100 * time.Millisecond
	// DefaultIdleKeepAliveInterval: an idle connection's keep-alives (two
	// a second); the reference has none.
	DefaultIdleKeepAliveInterval = 500 * time.Millisecond
	DefaultMessageTimeout        = time.Second
	DefaultHandshakeTimeout      = 2 * time.Second
	DefaultConnectionTimeout     = 5 * time.Second
	DefaultDisconnectTimeout     = time.Second
	DefaultHelloResend           = 500 * time.Millisecond
	DefaultAckDelay              = 25 * time.Millisecond
	// DefaultMaxQueuedBytes leaves room for one message of the largest
	// size (8 MiB in 8192 fragments, each charged its real cost) and more.
	DefaultMaxQueuedBytes    = 16 << 20
	DefaultMaxQueuedMessages = 16384
	DefaultMessageWindow     = protocol.DefaultFilterWidth
)

// Config holds the settings of a connection. The zero value gives the
// defaults; a Config may be shared by many connections and is copied when
// one is created.
type Config struct {
	// SendInterval is the least time between two datagrams (1/60 s).
	SendInterval time.Duration
	// KeepAliveInterval: a KEEP_ALIVE goes out after this much silence
	// (100 ms). Keep-alives carry the acks the peer waits for.
	KeepAliveInterval time.Duration
	// IdleKeepAliveInterval: while no message of this end waits for its
	// ack and none is queued, a KEEP_ALIVE goes out after this much
	// silence instead (500 ms, and never less than KeepAliveInterval): an
	// idle connection costs two datagrams a second each way, and the pace
	// of KeepAliveInterval comes back with the first message. Acks owed
	// go within AckDelay whatever the pace. The peer still hears from this
	// end well within any connection timeout (the reference's is 5 s).
	IdleKeepAliveInterval time.Duration
	// AckDelay: a packet carrying messages is acknowledged within this
	// time even when there is nothing to send (25 ms); a KEEP_ALIVE goes out
	// to carry the ack. The reference acks only with its 100 ms keep-alives.
	AckDelay time.Duration
	// ResendDelay is how long a BEST_EFFORT or RETRY_ON_TIMEOUT message
	// waits after it was last sent before it is sent again. Zero means
	// KeepAliveInterval, as in the reference; the delay also grows with the
	// measured round trip so slow links are not flooded.
	ResendDelay time.Duration
	// PacketsPerInterval caps the datagrams sent per send interval; 0
	// leaves it to the congestion window. 1 sends as the reference does:
	// one datagram an interval, which caps a connection near 84 KB/s at
	// 60 Hz.
	PacketsPerInterval int
	// MessageTimeout is how long a packet waits for its ack (1 s).
	MessageTimeout time.Duration
	// HandshakeTimeout bounds the handshake (2 s): a client that got no
	// valid SERVER_HELLO and a server that got no CHALLENGE_RESP give up.
	HandshakeTimeout time.Duration
	// ConnectionTimeout drops a connection that heard nothing for this long
	// (5 s).
	ConnectionTimeout time.Duration
	// DisconnectTimeout is how long a graceful close waits for the peer to
	// acknowledge the DISCONNECT (1 s).
	DisconnectTimeout time.Duration
	// HelloResend is how often a client repeats its CLIENT_HELLO while it
	// waits for the SERVER_HELLO (500 ms).
	HelloResend time.Duration
	// MaxQueuedBytes caps the memory held by the messages alive (queued,
	// waiting for a resend or for their ack), each charged its body plus
	// its bookkeeping; Send fails with ErrQueueFull beyond it (16 MiB).
	MaxQueuedBytes int
	// MaxQueuedMessages caps the messages alive, fragments counted one
	// by one (16384); Send fails with ErrQueueFull beyond it.
	MaxQueuedMessages int
	// MaxMessageSize caps a message sent or reassembled (8 MiB, the
	// protocol's limit).
	MaxMessageSize int
	// MaxReassemblyBytes caps the memory held in partly received
	// fragmented messages, bookkeeping included
	// (protocol.DefaultReassemblyLimit: one message of the largest size).
	MaxReassemblyBytes int
	// MaxPartialMessages caps the fragmented messages partly received at
	// a time; fragments of further ones are dropped
	// (protocol.DefaultMaxPartial).
	MaxPartialMessages int
	// Budget, when set, is memory shared with other connections (a
	// server's): see Budget.
	Budget *Budget
	// MessageWindow is the width in bits of the received-message duplicate
	// filter (960; the reference uses 256). Messages older than it are
	// dropped.
	MessageWindow int

	// ServerKey is the client's pinned server root public key. When nil,
	// the client trusts the key the server sends, which gives no
	// protection against a man in the middle.
	ServerKey *conn.PublicKey
	// RootKey is the server's root private key that signs its handshake.
	RootKey *conn.PrivateKey
	// PlainHello makes a client send its CLIENT_HELLO exactly as the
	// reference does, without the extension in its padding that lets a
	// server under a flood of forged hellos ask for a cookie.
	PlainHello bool

	// Rand is the source of ephemeral keys, salts, tokens and padding
	// (crypto/rand when nil).
	Rand io.Reader
	// Logger receives the connection's log lines (discarded when nil).
	Logger *slog.Logger

	shared bool // made by Resolve: connections keep it, not a copy
}

// Resolve returns a copy of c with every zero field set to its default,
// checked, for many connections to share: each keeps a pointer to it
// rather than a copy of its own, so that a server's connections read
// their settings from memory that stays in the CPU caches. Do not change
// it once a connection uses it. Its Logger is every connection's until
// Conn.SetLogger gives one its own.
func Resolve(c *Config) (*Config, error) {
	r, err := c.resolved()
	if err != nil {
		return nil, err
	}
	r.shared = true
	return &r, nil
}

func orDuration(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

func orInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// resolved returns a copy of c with every zero field set to its default.
func (c *Config) resolved() (Config, error) {
	r := Config{}
	if c != nil {
		r = *c
	}
	r.SendInterval = orDuration(r.SendInterval, DefaultSendInterval)
	r.KeepAliveInterval = orDuration(r.KeepAliveInterval, DefaultKeepAliveInterval)
	r.IdleKeepAliveInterval = max(orDuration(r.IdleKeepAliveInterval, DefaultIdleKeepAliveInterval), r.KeepAliveInterval)
	r.ResendDelay = orDuration(r.ResendDelay, r.KeepAliveInterval)
	r.AckDelay = orDuration(r.AckDelay, DefaultAckDelay)
	r.MessageTimeout = orDuration(r.MessageTimeout, DefaultMessageTimeout)
	r.HandshakeTimeout = orDuration(r.HandshakeTimeout, DefaultHandshakeTimeout)
	r.ConnectionTimeout = orDuration(r.ConnectionTimeout, DefaultConnectionTimeout)
	r.DisconnectTimeout = orDuration(r.DisconnectTimeout, DefaultDisconnectTimeout)
	r.HelloResend = orDuration(r.HelloResend, DefaultHelloResend)
	r.MaxQueuedBytes = orInt(r.MaxQueuedBytes, DefaultMaxQueuedBytes)
	r.MaxQueuedMessages = orInt(r.MaxQueuedMessages, DefaultMaxQueuedMessages)
	r.MaxPartialMessages = orInt(r.MaxPartialMessages, protocol.DefaultMaxPartial)
	r.MaxMessageSize = orInt(r.MaxMessageSize, protocol.MaxMessageSize)
	r.MaxReassemblyBytes = orInt(r.MaxReassemblyBytes, protocol.DefaultReassemblyLimit)
	r.MessageWindow = orInt(r.MessageWindow, DefaultMessageWindow)
	if r.MaxMessageSize > protocol.MaxMessageSize {
		return r, fmt.Errorf("conn: MaxMessageSize %d exceeds the protocol limit %d", r.MaxMessageSize, protocol.MaxMessageSize)
	}
	if r.MessageWindow%32 != 0 || r.MessageWindow < 256 || r.MessageWindow > 16384 {
		return r, fmt.Errorf("conn: MessageWindow %d must be a multiple of 32 in 256..16384", r.MessageWindow)
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Rand == nil {
		r.Rand = rand.Reader
	}
	return r, nil
}
