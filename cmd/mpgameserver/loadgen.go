package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/engine/crypto"
	"github.com/mpgs/mpgameserver/engine/loadgen"
)

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadgen", "Simulates many clients of an echo server (ours: serve --game echo; or the\n"+
		"Python original's) in one process and reports what came back: clients\n"+
		"connected, messages sent and echoed, loss, datagrams/s and the echo round\n"+
		"trip. Each client is a real connection on its own UDP socket.", stderr)
	var (
		addr        = fs.String("server", "127.0.0.1:1474", "echo server address, host:port")
		pubkey      = fs.String("pubkey", "", "PEM file of the server's root public key (empty: trust the key the server sends)")
		clients     = fs.Int("clients", 100, "number of clients")
		rate        = fs.Float64("rate", 30, "messages per second per client")
		size        = fs.Int("size", 64, fmt.Sprintf("message size in bytes (at least %d)", loadgen.MinSize))
		duration    = fs.Duration("duration", 10*time.Second, "length of the measurement, after every client connected")
		connectRate = fs.Float64("connect-rate", 500, "handshakes started per second while the clients connect")
		guaranteed  = fs.Bool("guaranteed", false, "send with RETRY_ON_TIMEOUT (echoed the same way) instead of once")
		asJSON      = fs.Bool("json", false, "write the report to stdout as JSON")
		workers     = fs.Int("workers", 0, "goroutines serving the clients (0: one per CPU)")
		sockets     = fs.String("sockets", "auto", "how clients send: shared (one socket per worker, each client its own 127.x.y.z address; server on 127/8, Linux), per-client (a socket each, epoll), portable (a socket and a goroutine each), or auto")
		cpuProfile  = fs.String("cpuprofile", "", "write a CPU profile of the generator to this file")
		quiet       = fs.Bool("quiet", false, "no progress line")
		logLevel    = fs.String("log-level", "warn", "log level: debug, info, warn or error")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	mode, err := loadgen.ParseSockets(*sockets)
	if err != nil {
		return fmt.Errorf("--sockets: %w", err)
	}
	ua, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	cfg := loadgen.Config{
		Server:      netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port()),
		Clients:     *clients,
		Rate:        *rate,
		Size:        *size,
		Duration:    *duration,
		ConnectRate: *connectRate,
		Guaranteed:  *guaranteed,
		Workers:     *workers,
		Sockets:     mode,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if *pubkey != "" {
		k, err := crypto.LoadPublicKey(*pubkey)
		if err != nil {
			return fmt.Errorf("--pubkey: %w", err)
		}
		cfg.ServerKey = k
	}
	if !*quiet {
		cfg.Progress = progressPrinter(stderr)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if !*quiet && isTerminal(stderr) {
		fmt.Fprintln(stderr)
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if rep.Connected == 0 {
		return errors.New("no client connected")
	}
	return nil
}

// progressPrinter shows one progress line, rewritten in place on a
// terminal and one line a second elsewhere.
func progressPrinter(w io.Writer) func(loadgen.Progress) {
	tty := isTerminal(w)
	return func(p loadgen.Progress) {
		line := fmt.Sprintf("%6.1fs %-6s connected %d/%d  failed %d  sent %.0f/s  echoed %.0f/s  lost %d (%.3f%%)",
			p.Elapsed.Seconds(), p.Phase, p.Connected, p.Clients, p.Failed, p.SentPerSec, p.EchoedPerSec, p.Lost, p.LossPercent())
		if tty {
			fmt.Fprintf(w, "\r%s%s", line, strings.Repeat(" ", max(0, 100-len(line))))
		} else {
			fmt.Fprintln(w, line)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
