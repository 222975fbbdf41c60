//go:build linux

// Command doors measures how far one host can take a server's places and
// data: six attacks on the doors a server opens (the browser carrier, its
// signaling, the HTTP listeners, the admin API, the arena game, UDP
// sessions), each against a fresh server process, with real players
// beside it. It prints one Markdown table row per attack, to compare a
// server before and after a fix:
//
//	go run ./internal/tools/doors web-peers reflect http-hold admin-read arena-hello sessions
//	go run ./internal/tools/doors --bin ./old/mpgameserver --dir ./old reflect
//
// Without --bin it builds ./cmd/mpgameserver (-tags headless) into a
// temporary directory. Each attack starts that binary as
//
//	serve --game arena --listen 127.0.0.1:P --web 127.0.0.1:W --http 127.0.0.1:H
//	      --admin-token <32 hex> --pprof --key <a key made with its keygen>
//
// (sessions hosts the echo game instead), passing only the flags its
// serve --help lists, so an older binary runs too; it runs in --dir (the
// module's root by default), where a binary without the arena's page
// embedded builds it at start (up to 5 minutes are allowed for READY).
// The server is stopped at the end of each attack. Everything happens on
// the loopback: the attacker from 127.0.0.1 (127.0.0.2 for http-hold's
// held connections), new browser players from 127.0.0.20 and up.
//
// The attacks:
//
//   - web-peers: --peers (1100) WebRTC peers from 127.0.0.1 (or, with
//     --sources N, from 127.0.0.1 to 127.0.0.N in turn) post offers to
//     /rtc (8 setting up at a time per address, the server's bound; a 429
//     is retried for 10 s), open the "mpgs" data channel and send 100
//     bytes of junk a second, never the game's handshake. After all were
//     tried (or 256 were refused in a row, or 3 minutes passed) they are
//     held for --duration (20 s); 10 s in, 5 new browser players try to
//     join. It reports how many offers were answered (and the refusals by
//     status), how many channels opened, and how many were still open at
//     the end of the hold.
//   - reflect: one POST to /rtc of an offer whose only candidates are
//     1,000 UDP sockets of ours on 127.0.0.1 (the sinks); the sinks count
//     the datagrams they receive in the next 5 s, and those that are STUN.
//   - http-hold: 4,100 keep-alive connections from 127.0.0.2 to --web
//     (each answered once, then a GET / every 50 s); then, from 127.0.0.1,
//     a fresh GET of the page and a fresh POST of an offer to /rtc, each
//     timed (10 s at most), while 5 new browser players try to join; then
//     the same against --http with GET /healthz. Meanwhile one idle
//     keep-alive connection on each listener measures how long the server
//     keeps it open (90 s at most).
//   - admin-read: GET /api/v1/snapshot without a token, with Host
//     127.0.0.1 and with Host rebind.example (DNS rebinding): does it give
//     away a player's address, its token, the log's lines? GET
//     /debug/pprof/profile?seconds=86400 without a token (given up after
//     2 s); and 20 wrong tokens on POST /api/v1/block, by status.
//   - arena-hello: one attacker (internal/attack's Client, from
//     127.0.0.1) completes the handshake, says it plays the arena and
//     sends 1,024 arena Hellos a tick (60 ticks a second) for 1 s; the
//     server's snapshot (with the admin token), read every second for 5 s
//     from the start of the burst, gives the largest backlog any other
//     player got: the messages queued for it since the burst began (the
//     growth of its Stats.Sent), the bytes the server held for it (its
//     queued and unacknowledged messages: Held) and its packets awaiting an
//     ack (Pending), and any field of its row whose name says queue; the
//     same for the attacker. The snapshot counts no queue in messages.
//   - sessions: the UDP side. An echo server; a child process (this
//     program again) opens --sessions (12,000) sessions from 127.0.0.1
//     (internal/attack's sessions attack); once the server's count of
//     connections settles, 500 clients from other addresses
//     (internal/loadgen; 30 messages of 64 bytes a second) are measured for
//     --duration, and 5 s in, 20 new UDP clients and 5 new browser
//     clients try to join.
//
// The columns:
//
//   - attack: its name.
//   - what it achieved: per attack, as above (peers alive after the hold,
//     datagrams the sinks received, connections held and what still got
//     an answer, what the admin API gave away, the others' backlog,
//     sessions admitted and the server's ticks a second).
//   - players: the real players beside the attack. For the arena attacks,
//     --players (10) native arena players (arena bots over UDP, from
//     127.0.0.1): how many stayed in the game throughout (or joined, when
//     not all did), the share of their packets the server never
//     acknowledged during the attack, and their round trip at the 50th and
//     99th percentiles: twice the client's smoothed one-way latency,
//     sampled every 100 ms, which counts the wait for each side's next
//     tick (about 25 ms on an idle loopback). For sessions, the 500
//     measured echo clients: loss and echo round trip (internal/loadgen),
//     and how many of the 20 new ones connected.
//   - new browser players: of 5 pion peers, each from an address of its
//     own, that do the real handshake of the protocol through /rtc
//     (client package over a data channel), how many got connected within
//     15 s, and why the others did not.
//   - server goroutines / RSS: the peaks of go_goroutines and
//     process_resident_memory_bytes in the server's /metrics (read every
//     second; RSS from /proc when /metrics does not answer).
//   - STUN to sinks: datagrams the server sent to the attacker's sinks
//     (reflect; "—" for the others).
//
// Other flags: --players, --sessions, --dir; --pin (on with two CPUs or
// more, Linux) runs each server on CPU 0 and this program, with every
// player and attacker, on CPU 1, as examples/echo/loadtest/attack.sh
// does; --quiet keeps the progress lines (stderr) quiet.
//
// Refusals (429, 503, 401, 421, refused offers or handshakes) are
// outcomes in the table, never errors: the same command measures a server
// before a fix and after. The program is meant for servers you run, on
// your own machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// A door is an attack: it runs against a fresh server and fills its
// row.
type door struct {
	name string
	run  func(ctx context.Context, t *tool) row
}

// attacks are the attacks, in the order the table lists them.
func attacks() []door {
	return []door{
		{"web-peers", runWebPeers},
		{"reflect", runReflect},
		{"http-hold", runHTTPHold},
		{"admin-read", runAdminRead},
		{"arena-hello", runArenaHello},
		{"sessions", runSessions},
	}
}

// lookup returns the attack called name.
func lookup(name string) (door, bool) {
	all := attacks()
	i := slices.IndexFunc(all, func(a door) bool { return a.name == name })
	if i < 0 {
		return door{}, false
	}
	return all[i], true
}

// main runs the command, or the sessions attacker when asked to.
func main() {
	if len(os.Args) > 1 && os.Args[1] == sessionsChild {
		os.Exit(runSessionsChild(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "doors:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	bin, dir string
	peers    int
	sources  int
	players  int
	sessions int
	duration time.Duration
	quiet    bool
	pin      bool
	names    []string // the attacks to run, in order
}

// parseFlags parses and checks the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("doors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "", "server binary to measure (default: build ./cmd/mpgameserver with -tags headless)")
	fs.StringVar(&o.dir, "dir", "", "directory the server runs in: its source tree, where it builds the arena's page if it has none embedded (default: this module's root)")
	fs.IntVar(&o.peers, "peers", 1100, "web-peers: WebRTC peers to open")
	fs.IntVar(&o.sources, "sources", 1, "web-peers: addresses the peers' signaling comes from (127.0.0.1 and up): more than one\n"+
		"host's share, to fill the server's global bound and measure its memory there")
	fs.IntVar(&o.players, "players", 10, "native arena players beside each arena attack")
	fs.IntVar(&o.sessions, "sessions", 12000, "sessions: UDP sessions to open from 127.0.0.1")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "web-peers: how long the peers are held; sessions: the measured phase")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&o.pin, "pin", runtime.NumCPU() >= 2, "run each server on CPU 0 and this program (players, attackers) on CPU 1, as examples/echo/loadtest/attack.sh does (Linux)")
	fs.Usage = func() {
		var names []string
		for _, a := range attacks() {
			names = append(names, a.name)
		}
		fmt.Fprintf(fs.Output(), "usage: go run ./internal/tools/doors [flags] ATTACK...\n\nattacks: %s (all)\n\nflags:\n", strings.Join(names, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.names = fs.Args()
	if len(o.names) == 1 && o.names[0] == "all" {
		o.names = nil
	}
	if len(o.names) == 0 {
		for _, a := range attacks() {
			o.names = append(o.names, a.name)
		}
	}
	for _, n := range o.names {
		if _, ok := lookup(n); !ok {
			fs.Usage()
			return o, fmt.Errorf("unknown attack %q", n)
		}
	}
	switch {
	case o.peers <= 0, o.players <= 0, o.sessions <= 0, o.sources <= 0 || o.sources > 19:
		return o, errors.New("--peers, --players and --sessions must be positive, --sources 1 to 19 (127.0.0.20 and up are the new players')")
	case o.duration < 12*time.Second:
		return o, errors.New("--duration must be at least 12s (browser players try 10 s in)")
	}
	return o, nil
}

// run prints the table header, then a row per attack as it ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	t, err := newTool(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer t.close()
	if o.pin && !pin(os.Getpid(), attackerCPU) {
		t.logf("cannot pin to CPUs: running unpinned")
		t.opts.pin = false
	}
	fmt.Fprintln(stdout, header)
	for _, name := range o.names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a, _ := lookup(name)
		t.logf("%s: starting", name)
		start := time.Now()
		r := a.run(ctx, t)
		r.attack = name
		fmt.Fprintln(stdout, r.markdown())
		t.logf("%s: done in %v", name, time.Since(start).Round(time.Second))
	}
	return nil
}
