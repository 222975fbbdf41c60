// Command swarm runs many echo clients in one process to give a server
// (and its monitor) something to show: each client connects, then sends a
// message of --size bytes --rate times a second and reads the echoes. It
// prints a line a second: clients connected, messages sent and echoed.
//
//	go run ./examples/echo/swarm --server 127.0.0.1:1474 --pubkey root.pub --clients 100
//
// A client that loses the server connects again a second later. When no
// client has been connected for --give-up (none could connect, or the
// server went away and stayed away), swarm exits with status 1 and says
// why.
//
// It is a demo and a smoke test; `mpgameserver loadgen` measures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say.
type config struct {
	server                 string
	key                    *conn.PublicKey
	clients, rate, size    int
	duration, giveUp       time.Duration
	retry, report, stagger time.Duration
}

// run is the command: it parses args, runs the swarm until ctx is done
// (or --duration passed) and returns the exit status: 0 when stopped, 1
// when the server could not be reached or went away, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("swarm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "127.0.0.1:1474", "echo server address")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key (empty: trust the server)")
	clients := fs.Int("clients", 10, "number of clients")
	rate := fs.Int("rate", 30, "messages per second per client")
	size := fs.Int("size", 64, "message size in bytes")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	giveUp := fs.Duration("give-up", 10*time.Second, "exit with an error once no client has been connected for this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := config{server: *server, clients: *clients, rate: *rate, size: *size, duration: *duration, giveUp: *giveUp,
		retry: time.Second, report: time.Second, stagger: 5 * time.Millisecond}
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			fmt.Fprintln(stderr, "swarm: --pubkey:", err)
			return 2
		}
		cfg.key = k
	}
	if cfg.clients < 1 || cfg.rate < 1 || cfg.size < 1 || cfg.giveUp <= 0 {
		fmt.Fprintln(stderr, "swarm: --clients, --rate, --size and --give-up must be positive")
		return 2
	}
	if err := swarm(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "swarm:", err)
		return 1
	}
	return 0
}

// counters are what the clients share with the reporting loop.
type counters struct {
	connected, sent, echoed atomic.Int64
	mu                      sync.Mutex
	failure                 error // why a client last failed to connect
	loss                    error // why a client last lost the server
}

// failed records why a connection attempt failed (nil: nothing to say).
func (c *counters) failed(err error) {
	if err != nil {
		c.mu.Lock()
		c.failure = err
		c.mu.Unlock()
	}
}

// lost records why a connection ended.
func (c *counters) lost(err error) {
	if err != nil {
		c.mu.Lock()
		c.loss = err
		c.mu.Unlock()
	}
}

func (c *counters) reasons() (failure, loss error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure, c.loss
}

// swarm runs cfg.clients clients until ctx is done or cfg.duration
// passed, printing a line every cfg.report. It returns an error when no
// client has been connected for cfg.giveUp.
func swarm(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, cfg.duration)
		defer stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	var n counters
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // every client says goodbye
	for i := 0; i < cfg.clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runClient(ctx, cfg, &n)
		}()
		time.Sleep(cfg.stagger) // do not hit the server with every handshake at once
	}
	tick := time.NewTicker(cfg.report)
	defer tick.Stop()
	var lastSent, lastEchoed int64
	start := time.Now()
	down, ever := start, false // since when no client is connected; whether one ever was
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			fmt.Fprintf(out, "done: sent %d, echoed %d\n", n.sent.Load(), n.echoed.Load())
			return nil
		case now := <-tick.C:
			s, e, c := n.sent.Load(), n.echoed.Load(), n.connected.Load()
			fmt.Fprintf(out, "connected %d  sent %d/s  echoed %d/s\n", c, s-lastSent, e-lastEchoed)
			lastSent, lastEchoed = s, e
			if c > 0 {
				down, ever = time.Time{}, true
				continue
			}
			if down.IsZero() {
				down = now
			}
			if now.Sub(down) < cfg.giveUp {
				continue
			}
			failure, loss := n.reasons()
			if ever {
				return fmt.Errorf("all %d clients lost the server at %s (%s) and none came back within %v", cfg.clients, cfg.server, why(loss), cfg.giveUp)
			}
			return fmt.Errorf("no client could connect to %s within %v (%s)", cfg.server, cfg.giveUp, why(failure))
		}
	}
}

// why says in words why clients are not connected.
func why(err error) string {
	switch {
	case err == nil, errors.Is(err, conn.ErrHandshakeTimeout):
		return "no answer: is the server running?"
	case errors.Is(err, conn.ErrTimeout):
		return "the connection timed out: the server stopped answering"
	case errors.Is(err, conn.ErrPeerClosed):
		return "the server closed the connection"
	case errors.Is(err, conn.ErrBadSignature):
		return "the server's key does not match --pubkey"
	}
	return err.Error()
}

// runClient is one client's game loop at 60 frames a second; it connects
// again cfg.retry after losing the server.
func runClient(ctx context.Context, cfg config, n *counters) {
	c := client.New(client.Config{ServerKey: cfg.key})
	defer c.WaitForDisconnect()
	n.failed(c.Connect(cfg.server, nil))
	msg := make([]byte, cfg.size)
	interval := time.Second / time.Duration(cfg.rate)
	next := time.Now()
	was, had := false, false // connected at the last frame; since the last Connect
	var retryAt time.Time    // when to connect again (zero: not closed yet)
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			if was {
				n.connected.Add(-1)
			}
			return
		case <-frame.C:
		}
		c.Update()
		n.echoed.Add(int64(len(c.Messages())))
		now := c.Connected()
		if now != was {
			if now {
				n.connected.Add(1)
				had = true
			} else {
				n.connected.Add(-1)
			}
			was = now
		}
		for now && !time.Now().Before(next) {
			if c.Send(msg, conn.RetryNone, nil) == nil {
				n.sent.Add(1)
			}
			next = next.Add(interval)
		}
		if !now {
			next = time.Now()
		}
		if c.Status().Closed() {
			switch {
			case retryAt.IsZero():
				if had {
					n.lost(c.Err())
				} else {
					n.failed(c.Err())
				}
				retryAt = time.Now().Add(cfg.retry)
			case !time.Now().Before(retryAt):
				retryAt, had = time.Time{}, false
				n.failed(c.Connect(cfg.server, nil))
			}
		}
	}
}
