// Package client is the mpgameserver client: a non-blocking connection to
// a server, made to live inside a game's frame loop (the reference's
// UdpClient).
//
// Call Update once per frame. It reads every datagram that arrived since
// the last frame, runs the connection's timers and sends what is due,
// never blocking. Messages that arrived are read with Messages; callbacks
// (Connect's, Send's) run inside Update, on the game's goroutine.
//
//	c := client.New(client.Config{ServerKey: key})
//	c.Connect("game.example.com:1474", func(ok bool) { ... })
//	for each frame {
//		c.Update()
//		for _, m := range c.Messages() { ... }
//		c.Send(input, conn.RetryNone, nil)
//	}
//
// A Client is not safe for concurrent use: call it from the game's
// goroutine only.
package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
)

// ErrNoMessage is returned by Message when no message is waiting.
var ErrNoMessage = errors.New("client: no message waiting")

// ErrNotConnected is returned by Send before Connect or after a close.
var ErrNotConnected = errors.New("client: not connected")

// ErrNoUDP is what Connect returns where the platform has no UDP sockets
// (GOOS=js: a browser) and it was given host:port rather than the
// server's URL, with no Config.Dial.
var ErrNoUDP = errors.New("client: this platform has no UDP sockets (a browser cannot send UDP datagrams): connect to the server's https:// URL (WebRTC) or give Config.Dial a transport that reaches it")

// ErrNoWebRTC is what Connect returns for a server's http:// or https://
// URL in a native build with no Config.Dial: the browser carrier (WebRTC,
// with its DTLS, SCTP and ICE) is linked only where a game asks for it.
var ErrNoWebRTC = errors.New("client: this build does not link WebRTC: to reach a server's URL from a native game, " +
	"set Config.Dial to rtc.Dialer(nil) (github.com/mpgs/mpgameserver/carrier/rtc), or connect to its UDP host:port")

// isURL reports whether addr is a server's signaling URL rather than
// host:port.
func isURL(addr string) bool {
	return strings.HasPrefix(addr, "https://") || strings.HasPrefix(addr, "http://")
}

// dialFor returns the default Dial on the platform goos: for host:port a
// portable UDP socket, or ErrNoUDP where there is none; for an http:// or
// https:// URL, dialURL (WebRTC data channels to the server's signaling
// in a browser build, ErrNoWebRTC elsewhere).
func dialFor(goos string) func(addr string) (transport.Conn, error) {
	return func(addr string) (transport.Conn, error) {
		switch {
		case isURL(addr):
			return dialURL(addr)
		case goos == "js" || goos == "wasip1":
			return nil, ErrNoUDP
		}
		return transport.Dial(addr, transport.Config{Portable: true})
	}
}

// Message is a message from the server.
type Message struct {
	Seq  conn.Seq
	Data []byte
}

// Config is a client's configuration, fixed when it is made; a zero field
// means its default.
type Config struct {
	// ServerKey is the server's root public key, pinned: a server whose
	// handshake it did not sign is refused. Nil trusts whatever key the
	// server presents, which does not protect against a man in the middle.
	ServerKey *conn.PublicKey
	// HandshakeTimeout is how long Connect waits for the server's signed
	// answer before it reports failure (2 s).
	HandshakeTimeout time.Duration
	// ConnectionTimeout drops the connection when the server is silent
	// this long (5 s).
	ConnectionTimeout time.Duration
	// KeepAliveInterval: a silent connection sends a keep-alive this often
	// (100 ms).
	KeepAliveInterval time.Duration
	// IdleKeepAliveInterval: while no message of the client waits for its
	// ack or to be sent, a keep-alive goes out after this much silence
	// instead (500 ms, never less than KeepAliveInterval): an idle client
	// costs two datagrams a second.
	IdleKeepAliveInterval time.Duration
	// MessageTimeout is how long a datagram waits for its ack (1 s).
	MessageTimeout time.Duration
	// Logger receives the connection's events (discarded when nil).
	Logger *slog.Logger
	// Reconnect, when set, makes the client connect again by itself when
	// a session it had is lost for good: the server restarted (it says so
	// with a stateless reset, conn.ErrReset), went silent (conn.ErrTimeout)
	// or closed it (conn.ErrPeerClosed), or the browser carrier broke
	// (transport.ErrBroken). Nil: a lost session stays lost. Disconnect,
	// WaitForDisconnect and ForceDisconnect stop it.
	Reconnect *Reconnect
	// Dial opens the socket of each connection attempt to addr. When nil:
	// transport.Dial of a portable socket, which a goroutine in Go's
	// network poller reads, so that a frame with nothing to read makes no
	// system call (~0.1 µs, against ~0.7 µs for a recvmmsg finding
	// nothing). Tests give an in-memory network's.
	Dial func(addr string) (transport.Conn, error)
}

// Client is a connection to an mpgameserver server.
type Client struct {
	cfg  Config
	ccfg session.Config
	log  *slog.Logger

	sock      transport.Conn
	opening   transport.Opener // sock while it has not opened yet, else nil
	sess      *session.Conn
	onConnect func(bool)
	reported  bool // the connect callback ran
	in        []transport.Datagram
	out       [sendBatch]transport.Datagram
	inbox     []Message
	sendErrs  uint64

	addr string    // what Connect was given
	rc   reconnect // Config.Reconnect's state
}

// New returns a client of cfg.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.ccfg = session.Config{
		HandshakeTimeout:      cfg.HandshakeTimeout,
		ConnectionTimeout:     cfg.ConnectionTimeout,
		KeepAliveInterval:     cfg.KeepAliveInterval,
		IdleKeepAliveInterval: cfg.IdleKeepAliveInterval,
		MessageTimeout:        cfg.MessageTimeout,
		ServerKey:             cfg.ServerKey,
		Logger:                c.log,
	}
	c.in = make([]transport.Datagram, transport.BatchSize)
	for i := range c.in {
		c.in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	for i := range c.out {
		c.out[i].Data = make([]byte, 0, transport.RecvSize)
	}
	return c
}

// Bounds of what one Update sends.
const (
	// sendBatch is how many datagrams go to the socket at a time.
	sendBatch = 16
	// maxSends is the most datagrams one Update sends: the congestion
	// window decides below it.
	maxSends = 256
)

// Connect starts connecting to addr ("host:port"; "[::1]:1474" for IPv6;
// or a server's WebRTC signaling URL, such as "https://host:8080/rtc",
// which is how a browser connects: see carrier/rtc) and returns at once.
// callback, when not nil, is called from a later Update with true once
// the server's signed answer arrived, or with false if none did within
// the handshake timeout (which starts once a WebRTC data channel has
// opened) or the data channel failed to open. Each Connect uses a new socket
// (a new source port), closing any previous connection without notice.
func (c *Client) Connect(addr string, callback func(ok bool)) error {
	c.ForceDisconnect()
	c.addr, c.rc = addr, reconnect{}
	if err := c.connect(addr, callback); err != nil {
		return err
	}
	c.Update() // the CLIENT_HELLO goes out now
	return nil
}

// connect opens a new socket and session to addr.
func (c *Client) connect(addr string, callback func(ok bool)) error {
	dial := c.cfg.Dial
	if dial == nil {
		dial = dialFor(runtime.GOOS)
	}
	sock, err := dial(addr)
	if err != nil {
		return fmt.Errorf("client: connect to %s: %w", addr, err)
	}
	cc, err := session.NewClient(&c.ccfg, time.Now())
	if err != nil {
		sock.Close()
		return err
	}
	cc.SetHandler(c.receive)
	c.sock, c.sess, c.opening = sock, cc, nil
	if o, ok := sock.(transport.Opener); ok && !o.Opened() {
		c.opening = o
	}
	c.onConnect, c.reported = callback, false
	clear(c.inbox)
	c.inbox = c.inbox[:0]
	c.log.Debug("connecting", "server", addr)
	return nil
}

// receive copies a message into the inbox.
func (c *Client) receive(seq conn.Seq, msg []byte) {
	c.inbox = append(c.inbox, Message{Seq: seq, Data: append([]byte(nil), msg...)})
}

// Update does one frame of network work: it processes every datagram that
// arrived, runs the timers (resends, keep-alives, timeouts), sends what is
// due and runs the callbacks that became due. It never blocks.
func (c *Client) Update() {
	now := time.Now()
	c.retry(now)
	if c.sess == nil || c.sock == nil {
		return
	}
	if c.opening != nil && !c.opened(now) {
		return
	}
	queued := 0
	for {
		n, err := c.sock.ReadBatch(c.in)
		for i := 0; i < n; i++ {
			_ = c.sess.Receive(now, c.in[i].Data) // bad datagrams are counted in Stats().Drops
			// Many datagrams in a row (a bulk download): ack before the ack
			// field can no longer report them all.
			queued = c.queue(queued, c.sess.PollAck(now, c.out[queued].Data[:0]))
		}
		if errors.Is(err, transport.ErrBroken) {
			// The carrier failed for good (a browser carrier the server
			// refused): say why now, not at the handshake's timeout.
			c.sess.Fail(err)
		}
		if err != nil || n < len(c.in) {
			break
		}
	}
	for i := 0; i < maxSends; i++ {
		d := c.sess.Poll(now, c.out[queued].Data[:0])
		if d == nil {
			break
		}
		queued = c.queue(queued, d)
	}
	c.flush(queued)
	c.report()
	c.lost(now)
}

// opened reports whether a socket that takes time to open
// (transport.Opener: a WebRTC data channel) has opened, and starts the
// handshake, its timeout included, when it just has: a slow setup (a
// browser on a busy machine) does not eat into the handshake's time. A
// socket that will never open ends the connection with its reason.
func (c *Client) opened(now time.Time) bool {
	if c.opening.Opened() {
		c.opening = nil
		c.sess.StartHandshake(now)
		return true
	}
	if _, err := c.sock.ReadBatch(c.in[:0]); errors.Is(err, transport.ErrBroken) {
		c.opening = nil
		c.sess.Fail(err)
		c.report()
		c.lost(now)
	}
	return false
}

// queue adds d, built in c.out[n], to the datagrams to send, sending them
// when the batch is full, and returns how many are queued.
func (c *Client) queue(n int, d []byte) int {
	if d == nil {
		return n
	}
	c.out[n].Data = d
	if n++; n == len(c.out) {
		c.flush(n)
		return 0
	}
	return n
}

// flush sends the first n datagrams of c.out.
func (c *Client) flush(n int) {
	if n == 0 {
		return
	}
	if _, err := c.sock.WriteBatch(c.out[:n]); err != nil {
		c.sendErrs++
		c.log.Debug("send failed", "err", err)
	}
}

// report runs the connect callback once the outcome is known.
func (c *Client) report() {
	if c.reported {
		return
	}
	switch st := c.sess.Status(); {
	case st == conn.Connecting:
		return
	case st == conn.Connected:
		c.reported = true
		c.rc.had = true
		c.log.Debug("connected", "token", c.sess.Token())
		if c.onConnect != nil {
			c.onConnect(true)
		}
	default:
		c.reported = true
		c.log.Debug("connect failed", "reason", c.sess.Err())
		if c.onConnect != nil {
			c.onConnect(false)
		}
	}
}

// Connected reports whether the client is connected.
func (c *Client) Connected() bool { return c.sess != nil && c.sess.Status() == conn.Connected }

// Status returns the connection state (Disconnected before Connect).
func (c *Client) Status() conn.Status {
	if c.sess == nil {
		return conn.Disconnected
	}
	return c.sess.Status()
}

// Err returns why the connection failed or closed, or nil.
func (c *Client) Err() error {
	if c.sess == nil {
		return nil
	}
	return c.sess.Err()
}

// Token returns the session token the server assigned (0 before the
// handshake).
func (c *Client) Token() uint32 {
	if c.sess == nil {
		return 0
	}
	return c.sess.Token()
}

// LocalAddr returns the socket's address, or the zero value.
func (c *Client) LocalAddr() netip.AddrPort {
	if c.sock == nil {
		return netip.AddrPort{}
	}
	return c.sock.LocalAddr()
}

// Send queues msg for the server; the next Update sends it. Messages over
// conn.MaxSingleMessage bytes are fragmented. callback, when not nil, is
// called once from an Update: true when the server acknowledged the
// message, false when it timed out or the connection closed first.
// Messages queued while connecting go out after the handshake.
func (c *Client) Send(msg []byte, retry conn.RetryMode, callback func(ok bool)) error {
	if c.sess == nil {
		return ErrNotConnected
	}
	return c.sess.Send(msg, retry, callback)
}

// SendOrdered sends msg reliably and in order: the server's handler gets
// the messages given to SendOrdered in that order, each exactly once,
// whatever the network loses, duplicates or reorders. Messages sent with
// Send are not ordered with them and are never held back by them. This is
// a feature of this implementation: to a server of the Python original
// the messages go one per round trip, each once the one before it is
// acknowledged.
func (c *Client) SendOrdered(msg []byte, callback func(ok bool)) error {
	if c.sess == nil {
		return ErrNotConnected
	}
	return c.sess.SendOrdered(msg, callback)
}

// SendGuaranteed sends msg with conn.RetryOnTimeout: resent until the
// server acknowledges it.
func (c *Client) SendGuaranteed(msg []byte, callback func(ok bool)) error {
	return c.Send(msg, conn.RetryOnTimeout, callback)
}

// QueuedBytes returns the bytes of messages queued and not yet sent.
func (c *Client) QueuedBytes() int {
	if c.sess == nil {
		return 0
	}
	return c.sess.QueuedBytes()
}

// HasMessages reports whether messages are waiting.
func (c *Client) HasMessages() bool { return len(c.inbox) > 0 }

// Message removes and returns the oldest waiting message, or
// ErrNoMessage.
func (c *Client) Message() (Message, error) {
	if len(c.inbox) == 0 {
		return Message{}, ErrNoMessage
	}
	m := c.inbox[0]
	c.inbox[0] = Message{}
	c.inbox = c.inbox[1:]
	return m, nil
}

// Messages removes and returns every waiting message (nil if none).
func (c *Client) Messages() []Message {
	if len(c.inbox) == 0 {
		return nil
	}
	m := c.inbox
	c.inbox = nil
	return m
}

// Latency returns the smoothed one-way latency estimate (half the round
// trip).
func (c *Client) Latency() time.Duration {
	if c.sess == nil {
		return 0
	}
	return c.sess.Latency()
}

// Stats returns the connection's counters (zero before Connect).
func (c *Client) Stats() conn.Stats {
	if c.sess == nil {
		return conn.Stats{}
	}
	return c.sess.Stats()
}

// Disconnect starts a graceful close: the next Update sends a DISCONNECT.
// Keep calling Update until Status is Disconnected, or call
// WaitForDisconnect.
func (c *Client) Disconnect() {
	c.rc.stop()
	if c.sess != nil {
		c.sess.Disconnect(time.Now())
	}
}

// WaitForDisconnect closes gracefully and blocks until the server
// acknowledged the DISCONNECT, or at most about a second, then closes the
// socket.
func (c *Client) WaitForDisconnect() {
	c.rc.stop()
	if c.sess == nil {
		return
	}
	if st := c.sess.Status(); st == conn.Connected || st == conn.Connecting {
		c.Disconnect()
	}
	deadline := time.Now().Add(session.DefaultDisconnectTimeout + 100*time.Millisecond)
	for !c.sess.Status().Closed() && time.Now().Before(deadline) {
		c.Update()
		if c.sock != nil {
			_ = c.sock.Wait(time.Now().Add(5 * time.Millisecond))
		}
	}
	c.Update()
	c.closeSocket()
}

// ForceDisconnect closes the socket at once, without telling the server
// (which drops the connection after its timeout).
func (c *Client) ForceDisconnect() {
	c.rc.stop()
	if c.sess == nil {
		return
	}
	c.sess.Close() // pending callbacks get false
	c.closeSocket()
	c.report() // a connect still under way reports false
}

func (c *Client) closeSocket() {
	if c.sock != nil {
		c.sock.Close()
		c.sock = nil
	}
}
