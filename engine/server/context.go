// Package server is the mpgameserver UDP server: a Context holding the
// configuration and the game's EventHandler, and a Server that listens on a
// UDP socket, runs every connection's state machine (engine/conn) on one
// goroutine at a fixed tick, and calls the handler's events there, in
// order. It is the Go counterpart of the Python ServerContext,
// EventHandler and TwistedServer.
//
// A minimal server:
//
//	type Echo struct{ server.BaseHandler }
//
//	func (Echo) HandleMessage(c *server.Client, seq protocol.Seq, msg []byte) {
//		c.Send(msg, conn.RetryNone, nil)
//	}
//
//	ctx, _ := server.NewContext(Echo{}, rootKey)
//	srv, _ := server.New(ctx, ":1474")
//	srv.Run()
package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/internal/crypto"
)

// Defaults, equal to the reference's.
const (
	DefaultInterval              = time.Second / 60
	DefaultKeepAliveInterval     = conn.DefaultKeepAliveInterval
	DefaultMessageTimeout        = conn.DefaultMessageTimeout
	DefaultConnectionTimeout     = conn.DefaultConnectionTimeout
	DefaultTempConnectionTimeout = conn.DefaultHandshakeTimeout
	// DefaultMaxPendingHandshakes bounds the temporary pool of clients that
	// have not answered the challenge yet.
	DefaultMaxPendingHandshakes = 4096
	// DefaultHandshakeBudget is the time each tick may spend answering new
	// clients' hellos (a quarter of the default tick); further hellos wait
	// for the next ticks.
	DefaultHandshakeBudget = 4 * time.Millisecond
	// DefaultMemoryBudget bounds the memory all clients together may make
	// the server hold: messages queued for them or waiting for their
	// acks, and their partly received messages (see conn.Budget).
	DefaultMemoryBudget = 128 << 20
	// DefaultClientDatagrams and DefaultClientMessages are one client's
	// share of a tick: datagrams handled, and messages handed to
	// HandleMessage. A client's datagrams beyond them are dropped (the
	// messages in them that must arrive are resent).
	DefaultClientDatagrams = 64
	DefaultClientMessages  = 1024
	// DefaultClientHistory is how many seconds of per-second statistics
	// (Client.Stats series) each connected client keeps. The reference
	// keeps 300 for every connection; a minute keeps a server with
	// thousands of clients small (4.8 KB a client less).
	DefaultClientHistory = 60
)

// A Context holds a server's configuration and its EventHandler. Configure
// it before Run; SetBlockList and Shutdown may be called at any time from
// any goroutine.
type Context struct {
	handler EventHandler
	rootKey *crypto.PrivateKey
	log     *slog.Logger

	interval              time.Duration
	keepAliveInterval     time.Duration
	messageTimeout        time.Duration
	connectionTimeout     time.Duration
	tempConnectionTimeout time.Duration
	maxPending            int
	handshakeBudget       time.Duration
	memoryBudget          int
	clientDatagrams       int
	clientMessages        int
	maxMessageSize        int
	clientHistory         int

	blocklist atomic.Pointer[map[netip.Addr]struct{}]

	accessMu   sync.Mutex
	accessLog  *slog.Logger
	accessFile io.Closer

	serverMu sync.Mutex
	server   *Server // the server running this context, if any
	stopped  bool    // Shutdown was called before a server ran
}

// NewContext returns a context for handler. rootKey signs the handshake;
// clients pin its public key. When rootKey is nil a new key is generated:
// clients then cannot pin it unless they get it from RootKey().Public().
func NewContext(handler EventHandler, rootKey *crypto.PrivateKey) (*Context, error) {
	if handler == nil {
		return nil, fmt.Errorf("server: NewContext needs an EventHandler")
	}
	if rootKey == nil {
		var err error
		if rootKey, err = crypto.GenerateKey(nil); err != nil {
			return nil, fmt.Errorf("server: generating a root key: %w", err)
		}
	}
	return &Context{
		handler:               handler,
		rootKey:               rootKey,
		log:                   slog.Default(),
		interval:              DefaultInterval,
		keepAliveInterval:     DefaultKeepAliveInterval,
		messageTimeout:        DefaultMessageTimeout,
		connectionTimeout:     DefaultConnectionTimeout,
		tempConnectionTimeout: DefaultTempConnectionTimeout,
		maxPending:            DefaultMaxPendingHandshakes,
		handshakeBudget:       DefaultHandshakeBudget,
		memoryBudget:          DefaultMemoryBudget,
		clientDatagrams:       DefaultClientDatagrams,
		clientMessages:        DefaultClientMessages,
		clientHistory:         DefaultClientHistory,
	}, nil
}

// Handler returns the event handler.
func (c *Context) Handler() EventHandler { return c.handler }

// RootKey returns the root key that signs the handshake.
func (c *Context) RootKey() *crypto.PrivateKey { return c.rootKey }

// SetLogger sets the server's logger (slog.Default() otherwise). Each
// client's logger is derived from it with the client's address and token.
func (c *Context) SetLogger(l *slog.Logger) {
	if l != nil {
		c.log = l
	}
}

// Logger returns the server's logger.
func (c *Context) Logger() *slog.Logger { return c.log }

// EnableAccessLogs sends the lines that carry client IP addresses (connect,
// disconnect, dropped datagrams) to the file at path, appending, instead of
// the main log. An empty path turns access logging off.
func (c *Context) EnableAccessLogs(path string) error {
	var (
		l *slog.Logger
		f *os.File
	)
	if path != "" {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("server: access log: %w", err)
		}
		l = slog.New(slog.NewTextHandler(f, nil))
	}
	c.accessMu.Lock()
	old := c.accessFile
	c.accessLog, c.accessFile = l, nil
	if f != nil {
		c.accessFile = f
	}
	c.accessMu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// access returns the logger for lines with IP addresses and whether it is
// the separate access log.
func (c *Context) access() (*slog.Logger, bool) {
	c.accessMu.Lock()
	defer c.accessMu.Unlock()
	if c.accessLog != nil {
		return c.accessLog, true
	}
	return c.log, false
}

func (c *Context) closeAccessLog() {
	c.accessMu.Lock()
	f := c.accessFile
	c.accessLog, c.accessFile = nil, nil
	c.accessMu.Unlock()
	if f != nil {
		f.Close()
	}
}

// SetBlockList replaces the set of blocked IP addresses: datagrams from them
// are dropped before any parsing. IPv4 addresses also match their
// IPv4-mapped IPv6 form.
func (c *Context) SetBlockList(addrs []netip.Addr) {
	m := make(map[netip.Addr]struct{}, len(addrs))
	for _, a := range addrs {
		m[a.Unmap()] = struct{}{}
	}
	c.blocklist.Store(&m)
}

// Blocked reports whether datagrams from a are dropped.
func (c *Context) Blocked(a netip.Addr) bool {
	m := c.blocklist.Load()
	if m == nil || len(*m) == 0 {
		return false
	}
	_, ok := (*m)[a.Unmap()]
	return ok
}

// SetConnectionTimeout sets how long a connected client may stay silent
// before it is dropped (default 5 s).
func (c *Context) SetConnectionTimeout(d time.Duration) {
	c.connectionTimeout = positive(d, c.connectionTimeout)
}

// SetInterval sets the tick period, the server's frame time (default 1/60 s).
func (c *Context) SetInterval(d time.Duration) { c.interval = positive(d, c.interval) }

// Interval returns the tick period.
func (c *Context) Interval() time.Duration { return c.interval }

// SetKeepAliveInterval sets how long a connection may be silent before a
// keep-alive is sent (default 100 ms).
func (c *Context) SetKeepAliveInterval(d time.Duration) {
	c.keepAliveInterval = positive(d, c.keepAliveInterval)
}

// SetMessageTimeout sets how long a datagram waits for its ack (default 1 s).
func (c *Context) SetMessageTimeout(d time.Duration) {
	c.messageTimeout = positive(d, c.messageTimeout)
}

// SetTempConnectionTimeout sets how long a client may take to complete the
// handshake (default 2 s).
func (c *Context) SetTempConnectionTimeout(d time.Duration) {
	c.tempConnectionTimeout = positive(d, c.tempConnectionTimeout)
}

// SetMaxPendingHandshakes bounds the temporary pool (default 4096); hellos
// beyond it are dropped.
func (c *Context) SetMaxPendingHandshakes(n int) {
	if n > 0 {
		c.maxPending = n
	}
}

// SetHandshakeBudget sets the time each tick may spend answering new
// clients' hellos (default 4 ms); the rest wait for later ticks.
func (c *Context) SetHandshakeBudget(d time.Duration) {
	c.handshakeBudget = positive(d, c.handshakeBudget)
}

// SetMemoryBudget bounds the bytes all clients together may make the
// server hold (default 128 MiB): messages queued for them or waiting for
// their acks, and their partly received messages. While memory is short,
// a client holding more than its share is disconnected (conn.Budget).
func (c *Context) SetMemoryBudget(bytes int) {
	if bytes > 0 {
		c.memoryBudget = bytes
	}
}

// SetClientTickBudget sets one client's share of a tick: at most
// datagrams of its datagrams are handled in one tick, and no more once
// messages of its messages reached HandleMessage (defaults 64 and 1024).
// Its further datagrams in that tick are dropped and counted; the
// messages in them that must arrive are resent.
func (c *Context) SetClientTickBudget(datagrams, messages int) {
	if datagrams > 0 {
		c.clientDatagrams = datagrams
	}
	if messages > 0 {
		c.clientMessages = messages
	}
}

// SetMaxMessageSize caps the size of a message a client may send, fragments
// reassembled (default and maximum 8 MiB).
func (c *Context) SetMaxMessageSize(n int) {
	if n > 0 {
		c.maxMessageSize = n
	}
}

// SetClientHistory sets how many seconds of per-second statistics each
// client's Stats series keep (default DefaultClientHistory; the reference
// keeps 300). Each second costs 20 bytes per client.
func (c *Context) SetClientHistory(seconds int) {
	if seconds > 0 {
		c.clientHistory = seconds
	}
}

func positive(d, old time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return old
}

// connConfig is the configuration of the server's connections.
func (c *Context) connConfig() *conn.Config {
	return &conn.Config{
		SendInterval:      c.interval,
		KeepAliveInterval: c.keepAliveInterval,
		MessageTimeout:    c.messageTimeout,
		HandshakeTimeout:  c.tempConnectionTimeout,
		ConnectionTimeout: c.connectionTimeout,
		MaxMessageSize:    c.maxMessageSize,
		HistoryBins:       c.clientHistory,
		RootKey:           c.rootKey,
	}
}

// Shutdown stops the server running this context, gracefully: every client
// gets a DISCONNECT and a Disconnect event, then the handler gets Shutdown.
// It returns at once; the server's Run returns when the stop is complete.
func (c *Context) Shutdown() {
	c.serverMu.Lock()
	s := c.server
	if s == nil {
		c.stopped = true
	}
	c.serverMu.Unlock()
	if s != nil {
		s.Stop()
	}
}

func (c *Context) attach(s *Server) error {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	if c.server != nil && c.server != s {
		return fmt.Errorf("server: this Context already runs a server on %s", c.server.Addr())
	}
	c.server = s
	if c.stopped {
		c.stopped = false
		s.Stop()
	}
	return nil
}

func (c *Context) detach(s *Server) {
	c.serverMu.Lock()
	if c.server == s {
		c.server = nil
	}
	c.serverMu.Unlock()
}
