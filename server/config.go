package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Config is a server's configuration, fixed when the server is made (New
// copies it); a zero field means its default. What may change while the
// server runs has a method instead: Server.SetBlockList.
type Config struct {
	// Handler receives the server's events, all on one goroutine.
	// Required.
	Handler EventHandler
	// Recorder, when set, is told every event the handler is given, in
	// order, on the handler's goroutine: a flight recorder (`serve
	// --record`). Its methods must not block.
	Recorder Recorder
	// RootKey signs the handshake; clients pin its public key. Nil: a
	// new key is made, which clients cannot pin unless they get it from
	// Server.RootKey().Public().
	RootKey *conn.PrivateKey

	// Interval is the tick period, the server's frame time (1/60 s).
	Interval time.Duration
	// KeepAliveInterval: a connection silent this long sends a
	// keep-alive (100 ms).
	KeepAliveInterval time.Duration
	// IdleKeepAliveInterval: a connection with no message of the server's
	// waiting for its ack or to be sent sends a keep-alive after this much
	// silence instead (500 ms, never less than KeepAliveInterval): an idle
	// client costs two datagrams a second. The reference's clients hear
	// from the server well within their 5 s timeout.
	IdleKeepAliveInterval time.Duration
	// MessageTimeout is how long a datagram waits for its ack (1 s).
	MessageTimeout time.Duration
	// CoalesceReplies holds what HandleMessage sends until the tick's
	// network phase, where it leaves after Update, in one datagram with
	// what Update sends the same client, as the reference does. By default
	// a client's connection is polled as soon as its datagram has been
	// handled, while its state is in the CPU's caches: a reply leaves
	// before the rest of the tick's datagrams and Update are done, and
	// costs the server less (an echo: 7% fewer instructions, a third fewer
	// cache lines from memory), but what Update sends the same client in
	// that tick goes in a datagram of its own. A connection with nothing to
	// send then sends nothing: a game that answers in Update sends as
	// before.
	CoalesceReplies bool
	// ConnectionTimeout drops a connected client silent this long (5 s).
	ConnectionTimeout time.Duration
	// HandshakeTimeout drops a client that did not complete the
	// handshake in this long (2 s; the reference's temporary connection
	// timeout).
	HandshakeTimeout time.Duration
	// MaxMessageSize caps a message a client may send, fragments
	// reassembled (conn.MaxMessageSize, 8 MiB, the most).
	MaxMessageSize int

	// MaxPendingHandshakes bounds the handshakes under way (4096).
	MaxPendingHandshakes int
	// MaxSessionsPerHost bounds the sessions one host holds at a time
	// (32): an IPv4 address, or an IPv6 /64 (transport.HostKey). Its
	// hellos beyond them are refused (Stats.HostLimited), and so are its
	// handshakes in progress beyond as many again, so that one host cannot
	// take the server's places or its tick. Players behind one NAT share
	// it: raise it for a LAN party behind one address, or -1 for no bound.
	MaxSessionsPerHost int
	// DisableMigration keeps every session at the address it connected
	// from. By default a client of ours (not the reference, which keeps
	// today's behaviour) is given a path ID with which a datagram from a
	// new address finds its session: the server challenges the address
	// and moves the session there once it answers, sending an unproven
	// address at most three times what came from it (see Migrator).
	DisableMigration bool
	// HandshakeBudget is the time each tick may spend answering new
	// clients' hellos (4 ms); the rest wait for later ticks.
	HandshakeBudget time.Duration
	// MemoryBudget bounds the bytes all clients together may make the
	// server hold (128 MiB): messages queued for them or waiting for their
	// acks, and their partly received messages. While memory is short, a
	// client holding more than its share is disconnected (session.Budget).
	MemoryBudget int
	// ClientDatagrams and ClientMessages are one client's share of a tick
	// (320 datagrams, 1,024 messages), besides an eighth of the tick's
	// time: its messages over the share wait for the next ticks, its
	// further datagrams are dropped (and what must arrive is resent). A
	// client of ours keeps at most 256 packets in flight.
	ClientDatagrams, ClientMessages int

	// Logger receives the server's log lines (slog.Default()); each
	// client's logger adds its address and token.
	Logger *slog.Logger
	// AccessLog, when set, receives the lines that carry client
	// addresses (connects, disconnects, dropped datagrams) instead of
	// Logger, which then names clients by token only.
	AccessLog *slog.Logger
	// BlockList is the addresses whose datagrams are dropped unread at
	// the start; Server.SetBlockList changes it while the server runs.
	BlockList []netip.Addr
	// SocketBuffer is the size asked for the UDP socket's buffers (4 MiB;
	// New only).
	SocketBuffer int
}

// Defaults, equal to the reference's where it has one.
const (
	DefaultInterval              = time.Second / 60
	DefaultKeepAliveInterval     = session.DefaultKeepAliveInterval
	DefaultIdleKeepAliveInterval = session.DefaultIdleKeepAliveInterval
	DefaultMessageTimeout        = session.DefaultMessageTimeout
	DefaultConnectionTimeout     = session.DefaultConnectionTimeout
	DefaultHandshakeTimeout      = session.DefaultHandshakeTimeout
	DefaultMaxPendingHandshakes  = 4096
	DefaultMaxSessionsPerHost    = 32
	DefaultHandshakeBudget       = 4 * time.Millisecond
	DefaultMemoryBudget          = 128 << 20
	DefaultClientDatagrams       = 320
	DefaultClientMessages        = 1024
	DefaultSocketBuffer          = 4 << 20
)

// resolved returns c with every zero field set to its default, or why it
// cannot serve.
func (c Config) resolved() (Config, error) {
	if c.Handler == nil {
		return c, errors.New("server: Config.Handler is required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Interval", &c.Interval, DefaultInterval},
		{"KeepAliveInterval", &c.KeepAliveInterval, DefaultKeepAliveInterval},
		{"IdleKeepAliveInterval", &c.IdleKeepAliveInterval, max(DefaultIdleKeepAliveInterval, c.KeepAliveInterval)},
		{"MessageTimeout", &c.MessageTimeout, DefaultMessageTimeout},
		{"ConnectionTimeout", &c.ConnectionTimeout, DefaultConnectionTimeout},
		{"HandshakeTimeout", &c.HandshakeTimeout, DefaultHandshakeTimeout},
		{"HandshakeBudget", &c.HandshakeBudget, DefaultHandshakeBudget},
	} {
		switch {
		case *d.v < 0:
			return c, fmt.Errorf("server: Config.%s %v is negative", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case c.MaxSessionsPerHost == 0:
		c.MaxSessionsPerHost = DefaultMaxSessionsPerHost
	case c.MaxSessionsPerHost < -1:
		return c, fmt.Errorf("server: Config.MaxSessionsPerHost %d: want 1 or more, or -1 for no bound", c.MaxSessionsPerHost)
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxMessageSize", &c.MaxMessageSize, conn.MaxMessageSize},
		{"MaxPendingHandshakes", &c.MaxPendingHandshakes, DefaultMaxPendingHandshakes},
		{"MemoryBudget", &c.MemoryBudget, DefaultMemoryBudget},
		{"ClientDatagrams", &c.ClientDatagrams, DefaultClientDatagrams},
		{"ClientMessages", &c.ClientMessages, DefaultClientMessages},
		{"SocketBuffer", &c.SocketBuffer, DefaultSocketBuffer},
	} {
		switch {
		case *n.v < 0:
			return c, fmt.Errorf("server: Config.%s %d is negative", n.name, *n.v)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	if c.MaxMessageSize > conn.MaxMessageSize {
		return c, fmt.Errorf("server: Config.MaxMessageSize %d exceeds the protocol's %d", c.MaxMessageSize, conn.MaxMessageSize)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RootKey == nil {
		k, err := conn.GenerateKey(nil)
		if err != nil {
			return c, fmt.Errorf("server: making a root key: %w", err)
		}
		c.RootKey = k
	}
	c.BlockList = append([]netip.Addr(nil), c.BlockList...)
	return c, nil
}

// connConfig is the configuration of the server's connections.
func (c *Config) connConfig(budget *session.Budget) *session.Config {
	return &session.Config{
		SendInterval:          c.Interval,
		KeepAliveInterval:     c.KeepAliveInterval,
		IdleKeepAliveInterval: c.IdleKeepAliveInterval,
		MessageTimeout:        c.MessageTimeout,
		HandshakeTimeout:      c.HandshakeTimeout,
		ConnectionTimeout:     c.ConnectionTimeout,
		MaxMessageSize:        c.MaxMessageSize,
		RootKey:               c.RootKey,
		Budget:                budget,
	}
}
