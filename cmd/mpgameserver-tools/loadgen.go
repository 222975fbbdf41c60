package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/internal/loadgen"
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
		size        = fs.Int("size", 64, fmt.Sprintf("message size in bytes, %d to %d (over %d: sent in fragments; --bare: at most %d)", loadgen.MinSize, loadgen.MaxSize, conn.MaxSingleMessage, loadgen.MaxBareSize))
		duration    = fs.Duration("duration", 10*time.Second, "length of the measurement, after every client connected")
		connectRate = fs.Float64("connect-rate", 500, "handshakes started per second while the clients connect")
		guaranteed  = fs.Bool("guaranteed", false, "send with RETRY_ON_TIMEOUT (echoed the same way) instead of once")
		handshake   = fs.Duration("handshake-timeout", 2*time.Second, "how long a client waits for the server's answer before its handshake fails")
		asJSON      = fs.Bool("json", false, "write the report to stdout as JSON")
		workers     = fs.Int("workers", 0, "goroutines serving the clients (0: one per CPU)")
		sockets     = fs.String("sockets", "auto", "how clients send: shared (one socket per worker, each client its own 127.x.y.z address; server on 127/8, Linux), per-client (a socket each, epoll), portable (a socket and a goroutine each), or auto")
		cpuProfile  = fs.String("cpuprofile", "", "write a CPU profile of the generator to this file")
		quiet       = fs.Bool("quiet", false, "no progress line")
		logLevel    = fs.String("log-level", "warn", "log level: debug, info, warn or error")
		bare        = fs.Bool("bare", false, "send plain UDP datagrams (no handshake, no encryption) to a bare echo server (mpgameserver bare-echo): the baseline to compare a server with")
	)
	var atk attackFlags
	atk.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := atk.check(fs); err != nil {
		return err
	}
	level, err := cli.LogLevel(*logLevel)
	if err != nil {
		return err
	}
	mode, err := loadgen.ParseSockets(*sockets)
	if err != nil {
		return fmt.Errorf("--sockets: %w", err)
	}
	// Zero is a Config's default; as a flag it is a mistake. The rest is
	// the library's to check (flagOf names the flag in its error).
	switch {
	case *handshake <= 0:
		return fmt.Errorf("--handshake-timeout %s: want a positive duration", *handshake)
	case !(*connectRate > 0):
		return fmt.Errorf("--connect-rate %g: want a positive number of handshakes per second", *connectRate)
	case *bare && (*guaranteed || atk.name != "" || *pubkey != ""):
		return errors.New("--bare sends plain datagrams: no --guaranteed, --attack or --pubkey")
	}
	ua, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	cfg := loadgen.Config{
		Server:           netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port()),
		Clients:          *clients,
		Rate:             *rate,
		Size:             *size,
		Duration:         *duration,
		ConnectRate:      *connectRate,
		Guaranteed:       *guaranteed,
		HandshakeTimeout: *handshake,
		Workers:          *workers,
		Sockets:          mode,
		Attack:           atk.name,
		AttackRate:       atk.rate,
		Bare:             *bare,
		Logger:           slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			return fmt.Errorf("--pubkey: %w", err)
		}
		cfg.ServerKey = k
		cfg.KeySource = "--pubkey " + *pubkey
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
		return flagOf(err)
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
	// A run that measured nothing worth reading (no client connected, or
	// the server does not echo) fails, saying why.
	if problem := rep.Problem(); problem != "" {
		return errors.New(problem)
	}
	return nil
}

// attackFlags are --attack and --attack-rate, checked as they are parsed
// so that a wrong value is a usage error.
type attackFlags struct {
	name    string
	rate    float64
	rateSet bool
}

func (a *attackFlags) register(fs *flag.FlagSet) {
	var help strings.Builder
	help.WriteString("run the attack `NAME` beside the clients while they are measured (empty: none):")
	for _, x := range loadgen.Attacks() {
		note := ""
		switch {
		case x.Flood:
			note = "; Linux, server on 127/8"
		case x.Attackers > 1:
			note = fmt.Sprintf(" each, %d clients", x.Attackers)
		}
		fmt.Fprintf(&help, "\n%s: %s (%g %s%s)", x.Name, x.Summary, x.Rate, x.Unit, note)
	}
	fs.Func("attack", help.String(), func(s string) error {
		for _, x := range loadgen.Attacks() {
			if x.Name == s {
				a.name = s
				return nil
			}
		}
		return fmt.Errorf("unknown attack %q: want one of %s", s, strings.Join(attackNames(), ", "))
	})
	fs.Func("attack-rate", "the attack's `RATE` in its unit (packets/s per attacker or datagrams/s; default: the attack's; inf: as fast as possible)", func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || math.IsNaN(v) {
			return errors.New("want a positive number of packets or datagrams per second, or inf")
		}
		a.rate, a.rateSet = v, true
		return nil
	})
}

// check rejects --attack-rate without --attack.
func (a *attackFlags) check(fs *flag.FlagSet) error {
	if a.rateSet && a.name == "" {
		fmt.Fprintln(fs.Output(), "--attack-rate needs --attack")
		fs.Usage()
		return cli.ErrUsage
	}
	return nil
}

func attackNames() []string {
	var names []string
	for _, x := range loadgen.Attacks() {
		names = append(names, x.Name)
	}
	return names
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

// flagOf says a loadgen.FieldError in the flag's words: "--clients 0:
// want at least 1".
func flagOf(err error) error {
	var fe *loadgen.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	flag := map[string]string{"Clients": "--clients", "Rate": "--rate", "Size": "--size", "Duration": "--duration",
		"ConnectRate": "--connect-rate", "HandshakeTimeout": "--handshake-timeout", "Workers": "--workers"}[fe.Field]
	if flag == "" {
		return err
	}
	return fmt.Errorf("%s %v: want %s", flag, fe.Value, fe.Want)
}
