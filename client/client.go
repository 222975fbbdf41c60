// Package client is the mpgameserver client: a non-blocking UDP
// connection to a server, made to live inside a game's frame loop (the
// reference's UdpClient).
//
// Call Update once per frame. It reads every datagram that arrived since
// the last frame, runs the connection's timers and sends at most one
// datagram, never blocking. Messages that arrived are read with
// GetMessages; callbacks (Connect's, Send's) run inside Update, on the
// game's goroutine.
//
//	c := client.New(serverKey)
//	c.Connect("game.example.com:1474", func(ok bool) { ... })
//	for each frame {
//		c.Update()
//		for _, m := range c.GetMessages() { ... }
//		c.Send(input, conn.RetryNone, nil)
//	}
//
// A Client is not safe for concurrent use: call it from the game's
// goroutine only. (A background goroutine only reads the socket.)
package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/udp"
)

// ErrNoMessage is returned by GetMessage when no message is waiting.
var ErrNoMessage = errors.New("client: no message waiting")

// ErrNotConnected is returned by Send before Connect or after a close.
var ErrNotConnected = errors.New("client: not connected")

// maxQueued bounds the datagrams held between two Updates; a game that
// stops calling Update does not grow memory.
const maxQueued = 4096

// maxQueuedBytes bounds the bytes of those datagrams.
const maxQueuedBytes = maxQueued * conn.MaxDatagramSize / 2

// Message is a message from the server.
type Message struct {
	Seq  conn.Seq
	Data []byte
}

// Client is a connection to an mpgameserver server.
type Client struct {
	serverKey *conn.PublicKey
	cfg       conn.Config
	log       *slog.Logger

	sock      *net.UDPConn
	remote    netip.AddrPort
	c         *conn.Conn
	onConnect func(bool)
	reported  bool // the connect callback ran
	rx        *udp.Reader
	inbox     []Message
	sendBuf   []byte
	sendErrs  uint64
}

// New returns a client that will only accept a server whose handshake is
// signed by serverKey's private key. With a nil key the client trusts
// whatever key the server presents, which does not protect against a man
// in the middle.
func New(serverKey *conn.PublicKey) *Client {
	return &Client{
		serverKey: serverKey,
		log:       slog.New(slog.DiscardHandler),
		sendBuf:   make([]byte, 0, conn.RecvBufferSize),
	}
}

// SetLogger sets the logger for the client's connection events (discarded
// by default).
func (c *Client) SetLogger(l *slog.Logger) {
	if l != nil {
		c.log = l
	}
}

// SetConnectionTimeout sets how long the server may stay silent before the
// connection is dropped (default 5 s). It applies now and to later
// connections.
func (c *Client) SetConnectionTimeout(d time.Duration) {
	c.cfg.ConnectionTimeout = d
	if c.c != nil {
		c.c.SetConnectionTimeout(d)
	}
}

// SetHandshakeTimeout sets how long Connect waits for the server's answer
// before it reports failure (default 2 s). It applies to later Connects.
func (c *Client) SetHandshakeTimeout(d time.Duration) { c.cfg.HandshakeTimeout = d }

// SetKeepAliveInterval sets how long the connection may be silent before a
// keep-alive is sent (default 100 ms). It applies now and to later
// connections.
func (c *Client) SetKeepAliveInterval(d time.Duration) {
	c.cfg.KeepAliveInterval = d
	if c.c != nil {
		c.c.SetKeepAliveInterval(d)
	}
}

// SetMessageTimeout sets how long a datagram waits for its ack (default
// 1 s). It applies now and to later connections.
func (c *Client) SetMessageTimeout(d time.Duration) {
	c.cfg.MessageTimeout = d
	if c.c != nil {
		c.c.SetMessageTimeout(d)
	}
}

// Connect starts connecting to addr ("host:port"; "[::1]:1474" for IPv6)
// and returns at once. callback, when not nil, is called from a later
// Update with true once the server's signed answer arrived, or with false
// if none did within the handshake timeout. Each Connect uses a new UDP
// socket (a new source port), closing any previous connection without
// notice.
func (c *Client) Connect(addr string, callback func(ok bool)) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("client: resolve %q: %w", addr, err)
	}
	c.ForceDisconnect()
	sock, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return fmt.Errorf("client: dial %s: %w", addr, err)
	}
	cfg := c.cfg
	cfg.ServerKey = c.serverKey
	cfg.Logger = c.log
	cc, err := conn.NewClient(&cfg, time.Now())
	if err != nil {
		sock.Close()
		return err
	}
	cc.SetHandler(c.receive)
	c.sock, c.remote, c.c = sock, ua.AddrPort(), cc
	c.onConnect, c.reported = callback, false
	c.inbox = c.inbox[:0]
	c.rx = udp.NewReader(sock, maxQueued, maxQueuedBytes, nil)
	c.rx.Start()
	c.log.Debug("connecting", "server", c.remote.String())
	c.Update() // the CLIENT_HELLO goes out now
	return nil
}

// receive copies a message into the inbox.
func (c *Client) receive(seq conn.Seq, msg []byte) {
	c.inbox = append(c.inbox, Message{Seq: seq, Data: append([]byte(nil), msg...)})
}

// Update does one frame of network work: it processes every datagram that
// arrived, runs the timers (resends, keep-alives, timeouts), sends at most
// one datagram and runs the callbacks that became due. It never blocks.
func (c *Client) Update() {
	if c.c == nil || c.sock == nil {
		return
	}
	now := time.Now()
	batch := c.rx.Take()
	for i := range batch {
		_ = c.c.Receive(now, batch[i].Bytes()) // bad datagrams are counted in Stats().Drops
	}
	c.rx.Recycle(batch)
	if d := c.c.Poll(now, c.sendBuf); d != nil {
		if _, err := c.sock.Write(d); err != nil {
			c.sendErrs++
			c.log.Debug("send failed", "err", err)
		}
	}
	c.report()
}

// report runs the connect callback once the outcome is known.
func (c *Client) report() {
	if c.reported {
		return
	}
	switch st := c.c.Status(); {
	case st == conn.Connecting:
		return
	case st == conn.Connected:
		c.reported = true
		c.log.Debug("connected", "token", c.c.Token())
		if c.onConnect != nil {
			c.onConnect(true)
		}
	default:
		c.reported = true
		c.log.Debug("connect failed", "reason", c.c.Err())
		if c.onConnect != nil {
			c.onConnect(false)
		}
	}
}

// Connected reports whether the client is connected.
func (c *Client) Connected() bool { return c.c != nil && c.c.Status() == conn.Connected }

// Status returns the connection state (Disconnected before Connect).
func (c *Client) Status() conn.Status {
	if c.c == nil {
		return conn.Disconnected
	}
	return c.c.Status()
}

// Err returns why the connection failed or closed, or nil.
func (c *Client) Err() error {
	if c.c == nil {
		return nil
	}
	return c.c.Err()
}

// Token returns the session token the server assigned (0 before the
// handshake).
func (c *Client) Token() uint32 {
	if c.c == nil {
		return 0
	}
	return c.c.Token()
}

// Server returns the server address of the current connection.
func (c *Client) Server() netip.AddrPort { return c.remote }

// LocalAddr returns the client socket's address, or the zero value.
func (c *Client) LocalAddr() netip.AddrPort {
	if c.sock == nil {
		return netip.AddrPort{}
	}
	return c.sock.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Send queues msg for the server; the next Update sends it. Messages over
// conn.MaxSingleMessage bytes are fragmented. callback, when not nil,
// is called once from an Update: true when the server acknowledged the
// message, false when it timed out or the connection closed first.
// Messages queued while connecting go out after the handshake.
func (c *Client) Send(msg []byte, retry conn.RetryMode, callback func(ok bool)) error {
	if c.c == nil {
		return ErrNotConnected
	}
	return c.c.Send(msg, retry, callback)
}

// SendGuaranteed sends msg with conn.RetryOnTimeout: resent until the
// server acknowledges it.
func (c *Client) SendGuaranteed(msg []byte, callback func(ok bool)) error {
	return c.Send(msg, conn.RetryOnTimeout, callback)
}

// QueuedBytes returns the bytes of messages queued and not yet sent.
func (c *Client) QueuedBytes() int {
	if c.c == nil {
		return 0
	}
	return c.c.QueuedBytes()
}

// HasMessages reports whether messages are waiting.
func (c *Client) HasMessages() bool { return len(c.inbox) > 0 }

// GetMessage removes and returns the oldest waiting message, or
// ErrNoMessage.
func (c *Client) GetMessage() (Message, error) {
	if len(c.inbox) == 0 {
		return Message{}, ErrNoMessage
	}
	m := c.inbox[0]
	c.inbox[0] = Message{}
	c.inbox = c.inbox[1:]
	return m, nil
}

// GetMessages removes and returns every waiting message (nil if none).
func (c *Client) GetMessages() []Message {
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
	if c.c == nil {
		return 0
	}
	return c.c.Latency()
}

// Stats returns the connection's statistics, or nil before Connect.
func (c *Client) Stats() *conn.Stats {
	if c.c == nil {
		return nil
	}
	return c.c.Stats()
}

// Disconnect starts a graceful close: the next Update sends a DISCONNECT.
// Keep calling Update until Status is Disconnected, or call
// WaitForDisconnect.
func (c *Client) Disconnect() {
	if c.c != nil {
		c.c.Disconnect(time.Now())
	}
}

// WaitForDisconnect closes gracefully and blocks until the server
// acknowledged the DISCONNECT, or at most about a second, then closes the
// socket.
func (c *Client) WaitForDisconnect() {
	if c.c == nil {
		return
	}
	if st := c.c.Status(); st == conn.Connected || st == conn.Connecting {
		c.Disconnect()
	}
	deadline := time.Now().Add(conn.DefaultDisconnectTimeout + 100*time.Millisecond)
	for !c.c.Status().Closed() && time.Now().Before(deadline) {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	c.Update()
	c.closeSocket()
}

// ForceDisconnect closes the socket at once, without telling the server
// (which drops the connection after its timeout).
func (c *Client) ForceDisconnect() {
	if c.c == nil {
		return
	}
	c.c.Close() // pending callbacks get false
	c.closeSocket()
	c.report() // a connect still under way reports false
}

func (c *Client) closeSocket() {
	if c.sock != nil {
		c.sock.Close()
		c.rx.Wait()
		c.sock = nil
	}
}
