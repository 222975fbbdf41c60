package attack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// The sessions attack: many connected clients from one address.
const (
	// sessionsDialers bounds the handshakes under way at once.
	sessionsDialers = 256
	// sessionsDialTimeout bounds each handshake when Config.DialTimeout
	// is 0: about the server's own handshake timeout (2 s), so that a
	// server that refuses by silence costs the attack little time.
	sessionsDialTimeout = 3 * time.Second
	// sessionsInbox is how many datagrams a session keeps between two
	// polls (one a second; a server sends a silent client about ten
	// keep-alives a second). Dial's 4,096 would take 1.2 GB for 12,000
	// sessions.
	sessionsInbox = 64
	// sessionsBody is the message each session sends.
	sessionsBody = "session"
	// maxRefusalReasons bounds the distinct reasons counted to find the
	// most common one.
	maxRefusalReasons = 16
)

// runSessions connects n clients, each on a UDP socket of its own from
// cfg.Source (the default source address when not set: 127.0.0.1 for a
// server on the loopback),
// at most sessionsDialers handshakes at a time, and drives each one that
// the server admits at res.Rate packets a second until ctx is done.
// Handshakes that fail do not stop it: they are counted in Refused, and
// the attack runs with the sessions admitted. Dialing stops when ctx is
// done; a handshake cut short then counts as neither.
func runSessions(ctx context.Context, cfg Config, res Result, n int) (Result, error) {
	timeout := cfg.DialTimeout
	if timeout <= 0 {
		timeout = sessionsDialTimeout
	}
	start := time.Now()
	var (
		mu      sync.Mutex
		runs    []*clientRun
		refused int
		why     = map[string]int{} // refusals by reason
		wg      sync.WaitGroup
	)
	slots := make(chan struct{}, sessionsDialers)
dial:
	for range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break dial
		}
		wg.Go(func() {
			c, err := dialSession(ctx, cfg.Server, cfg.Source, cfg.ServerKey, timeout)
			<-slots
			if err != nil {
				if ctx.Err() == nil {
					mu.Lock()
					refused++
					if k := err.Error(); why[k] > 0 || len(why) < maxRefusalReasons {
						why[k]++
					}
					mu.Unlock()
				}
				return
			}
			run := &clientRun{c: c}
			mu.Lock()
			runs = append(runs, run)
			mu.Unlock()
			run.drive(ctx, res.Rate, sessionStep(c))
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	res.Admitted, res.Refused = len(runs), refused
	for k, v := range why {
		if v > why[res.Refusal] || (v == why[res.Refusal] && k < res.Refusal) {
			res.Refusal = k
		}
	}
	for _, r := range runs {
		res.add(r)
	}
	return res, nil
}

// dialSession is Dial with the small buffers a session needs: an inbox of
// sessionsInbox datagrams, a packet buffer of one datagram and a lean
// reader, so that thousands of sessions fit in a few hundred megabytes.
func dialSession(ctx context.Context, server netip.AddrPort, source netip.Addr, serverKey *conn.PublicKey, timeout time.Duration) (*Client, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var local *net.UDPAddr
	if source.IsValid() {
		local = net.UDPAddrFromAddrPort(netip.AddrPortFrom(source, 0))
	}
	sock, err := net.DialUDP("udp", local, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, fmt.Errorf("attack: opening a socket to %s: %w", server, err)
	}
	c := &Client{
		sock:   sock,
		server: server,
		buf:    make([]byte, 0, protocol.RecvBufferSize),
		in:     make(chan []byte, sessionsInbox),
	}
	c.recv.Init(32)
	go c.readLean()
	if err := c.handshake(ctx, serverKey); err != nil {
		c.Close()
		return nil, fmt.Errorf("attack: handshake with %s: %w", server, err)
	}
	return c, nil
}

// readLean feeds the inbox as read does, but reads into one buffer and
// queues a copy of each datagram's length: a session hears about ten
// keep-alives a second, and 12,000 sessions reading into a new 2 KiB
// buffer each time would keep the attacker's garbage collector busier
// than the server.
func (c *Client) readLean() {
	defer close(c.in)
	b := make([]byte, protocol.RecvBufferSize)
	for {
		n, err := c.sock.Read(b)
		switch {
		case errors.Is(err, net.ErrClosed):
			return
		case err != nil:
			c.readErrs.Add(1)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				time.Sleep(time.Millisecond) // not a busy loop on a lasting error
			}
			continue
		}
		select {
		case c.in <- bytes.Clone(b[:n]):
		default:
			c.overflow.Add(1)
		}
	}
}

// sessionStep sends one small APP message a packet, which the echo
// server sends back.
func sessionStep(c *Client) step {
	body := []byte(sessionsBody)
	return step{send: func() error {
		_, err := c.Send([]protocol.Message{c.Message(protocol.TypeApp, body)})
		return err
	}}
}
