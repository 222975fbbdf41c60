package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// runPlayers runs echo players made with the client package, the game's
// own client, over UDP or over WebRTC (pion in place of a browser): what a
// server pays for a player of each carrier, where loadgen's clients are
// its own lean ones and speak UDP only.
func runPlayers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("players", "Connects --count echo players made with the client package, over UDP\n"+
		"(--server host:port) or WebRTC (--server http://host:port/rtc, a serve --web\n"+
		"address), each sending --rate messages of --size bytes a second for\n"+
		"--duration, and prints one line: connected, sent, echoed, the round trip.\n"+
		"It says \"connected N players over CARRIER\" on standard error when all are.", stderr)
	var (
		server   = fs.String("server", "", "the server: host:port for UDP, an http(s) URL for WebRTC")
		pubkey   = fs.String("pubkey", "", "the server's public key (PEM)")
		count    = fs.Int("count", 16, "how many players")
		rate     = fs.Float64("rate", 30, "messages a second per player")
		size     = fs.Int("size", 64, "bytes per message (8 or more)")
		duration = fs.Duration("duration", 20*time.Second, "how long the players send, once all are connected")
		connect  = fs.Duration("connect-timeout", 30*time.Second, "how long the players may take to connect")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *server == "" || *pubkey == "":
		return errors.New("--server and --pubkey are required")
	case *count < 1 || *count > 1024:
		return fmt.Errorf("--count %d: want 1 to 1024", *count)
	case *rate <= 0 || *rate > 1000:
		return fmt.Errorf("--rate %g: want more than 0, at most 1000", *rate)
	case *size < 8 || *size > 1024:
		return fmt.Errorf("--size %d: want 8 to 1024", *size)
	}
	key, err := conn.LoadPublicKey(*pubkey)
	if err != nil {
		return err
	}
	cfg := client.Config{ServerKey: key, HandshakeTimeout: *connect}
	carrier := "udp"
	if strings.HasPrefix(*server, "http://") || strings.HasPrefix(*server, "https://") {
		cfg.Dial, carrier = rtc.Dialer(nil), "webrtc"
	}
	ps := make([]*client.Client, *count)
	for i := range ps {
		ps[i] = client.New(cfg)
		if err := ps[i].Connect(*server, nil); err != nil {
			return fmt.Errorf("player %d: %w", i, err)
		}
	}
	defer func() {
		for _, p := range ps {
			p.ForceDisconnect()
		}
	}()
	const frame = time.Second / 60
	deadline := time.Now().Add(*connect)
	for {
		up := 0
		for _, p := range ps {
			p.Update()
			if p.Connected() {
				up++
			}
		}
		if up == len(ps) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d of %d players connected over %s", up, len(ps), carrier)
		}
		time.Sleep(frame)
	}

	fmt.Fprintf(stderr, "connected %d players over %s\n", len(ps), carrier)
	start := time.Now()
	every := time.Duration(float64(time.Second) / *rate)
	next := make([]time.Time, len(ps))
	for i := range next { // spread the players' sends over the interval
		next[i] = start.Add(every * time.Duration(i) / time.Duration(len(ps)))
	}
	msg := make([]byte, *size)
	msg[0] = 'U' // echoed as it came, not guaranteed
	var sent, refused, echoed int
	var why error
	var rtts []time.Duration
	for now := start; now.Sub(start) < *duration && ctx.Err() == nil; now = time.Now() {
		for i, p := range ps {
			for !next[i].After(now) {
				binary.BigEndian.PutUint64(msg[len(msg)-8:], uint64(now.Sub(start)))
				if err := p.Send(msg, conn.RetryNone, nil); err != nil {
					refused++
					why = err
				} else {
					sent++
				}
				next[i] = next[i].Add(every)
			}
			p.Update()
			for _, m := range p.Messages() {
				if len(m.Data) == len(msg) {
					echoed++
					rtts = append(rtts, time.Since(start)-time.Duration(binary.BigEndian.Uint64(m.Data[len(m.Data)-8:])))
				}
			}
		}
		time.Sleep(time.Until(now.Add(frame)))
	}
	slices.Sort(rtts)
	pct := func(q float64) float64 {
		if len(rtts) == 0 {
			return 0
		}
		return float64(rtts[int(q*float64(len(rtts)-1))]) / 1e6
	}
	if refused > 0 {
		fmt.Fprintf(stderr, "%d messages refused, the last because: %v\n", refused, why)
	}
	fmt.Fprintf(stdout, "players %d carrier %s sent %d refused %d echoed %d rtt-ms p50 %.1f p99 %.1f\n", len(ps), carrier, sent, refused, echoed, pct(0.5), pct(0.99))
	return nil
}
