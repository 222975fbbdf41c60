// Command swarm runs many echo clients in one process to give a server
// (and its monitor) something to show: each client connects, then sends a
// message of --size bytes --rate times a second and reads the echoes. It
// prints a line a second: clients connected, messages sent and echoed.
//
//	go run ./examples/echo/swarm --server 127.0.0.1:1474 --pubkey root.pub --clients 100
//
// It is a demo and a smoke test; `mpgameserver loadgen` measures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/conn"
)

func main() {
	server := flag.String("server", "127.0.0.1:1474", "echo server address")
	pubkey := flag.String("pubkey", "", "PEM file of the server's public key (empty: trust the server)")
	clients := flag.Int("clients", 10, "number of clients")
	rate := flag.Int("rate", 30, "messages per second per client")
	size := flag.Int("size", 64, "message size in bytes")
	duration := flag.Duration("duration", 0, "stop after this long (0: until interrupted)")
	flag.Parse()
	var key *conn.PublicKey
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "swarm: --pubkey:", err)
			os.Exit(2)
		}
		key = k
	}
	if *clients < 1 || *rate < 1 || *size < 1 {
		fmt.Fprintln(os.Stderr, "swarm: --clients, --rate and --size must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		ctx, stop = context.WithTimeout(ctx, *duration)
		defer stop()
	}
	var connected, sent, echoed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runClient(ctx, *server, key, *rate, *size, &connected, &sent, &echoed)
		}()
		time.Sleep(5 * time.Millisecond) // do not hit the server with every handshake at once
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastSent, lastEchoed int64
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			fmt.Printf("done: sent %d, echoed %d\n", sent.Load(), echoed.Load())
			return
		case <-tick.C:
			s, e := sent.Load(), echoed.Load()
			fmt.Printf("connected %d  sent %d/s  echoed %d/s\n", connected.Load(), s-lastSent, e-lastEchoed)
			lastSent, lastEchoed = s, e
		}
	}
}

// runClient is one client's game loop at 60 frames a second.
func runClient(ctx context.Context, server string, key *conn.PublicKey, rate, size int, connected, sent, echoed *atomic.Int64) {
	c := client.New(client.Config{ServerKey: key})
	if err := c.Connect(server, nil); err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		return
	}
	defer c.WaitForDisconnect()
	msg := make([]byte, size)
	interval := time.Second / time.Duration(rate)
	next := time.Now()
	was := false
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			if was {
				connected.Add(-1)
			}
			return
		case <-frame.C:
		}
		c.Update()
		echoed.Add(int64(len(c.Messages())))
		now := c.Connected()
		if now != was {
			if now {
				connected.Add(1)
			} else {
				connected.Add(-1)
			}
			was = now
		}
		for now && !time.Now().Before(next) {
			if c.Send(msg, conn.RetryNone, nil) == nil {
				sent.Add(1)
			}
			next = next.Add(interval)
		}
		if !now {
			next = time.Now()
		}
	}
}
