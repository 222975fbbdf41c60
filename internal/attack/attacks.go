package attack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// Info describes a named attack.
type Info struct {
	Name    string
	Summary string
	// Rate is the default rate: packets per second per client for an
	// attack by connected clients, datagrams per second for a flood; 0 is
	// as fast as possible.
	Rate float64
	// Clients is the default number of connected clients (0 for a flood).
	Clients int
}

// Flood reports whether the attack sends from forged addresses (Linux,
// server on the IPv4 loopback) rather than through connected clients.
func (i Info) Flood() bool { return i.Clients == 0 }

// Unit is what Rate counts: "packets/s" or "datagrams/s".
func (i Info) Unit() string {
	if i.Flood() {
		return "datagrams/s"
	}
	return "packets/s"
}

// Attacks lists the named attacks.
func Attacks() []Info {
	return []Info{
		{"fragments", "a connected client sends packets full of tiny APP_FRAGMENTs, each of a new message of 8192 fragments it never completes", 200, 1},
		{"empty-flood", "a connected client sends packets of 255 empty APP messages", 1000, 1},
		{"replay", "a connected client sends packets of 143 numbered APP messages and replays every datagram it sent, oldest first, between new ones", 100, 1},
		{"big-fragments", "connected clients each send 1 KiB fragments of many messages of 8192 x 1 KiB they never complete", 1000, 10},
		{"hello-badcrc", "CLIENT_HELLOs with a bad CRC from forged addresses", 20000, 0},
		{"hello-flood", "valid CLIENT_HELLOs from forged addresses", 100000, 0},
		{"hello-flood-marked", "valid CLIENT_HELLOs that can answer a cookie (as a client of ours sends) from forged addresses", 100000, 0},
		{"junk", "random bytes, bad magic and APP headers over random bytes from forged addresses", 430000, 0},
		{"stats-pack", `a connected client sends packets of 143 "STATS" requests to the echo game`, 60, 1},
		{"sessions", "many clients from one address, each on a socket of its own, complete the handshake (256 at a time; refusals are counted, not fatal), then each sends a packet of one small message", 1, 12000},
	}
}

// Lookup returns the attack called name.
func Lookup(name string) (Info, error) {
	all := Attacks()
	if i := slices.IndexFunc(all, func(a Info) bool { return a.Name == name }); i >= 0 {
		return all[i], nil
	}
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = a.Name
	}
	return Info{}, fmt.Errorf("attack: unknown attack %q: want one of %s", name, strings.Join(names, ", "))
}

// Config describes a run of a named attack.
type Config struct {
	// Name is the attack (see Attacks).
	Name string
	// Server is the target.
	Server netip.AddrPort
	// ServerKey is the server's root public key; nil trusts the key the
	// server sends.
	ServerKey *conn.PublicKey
	// Rate overrides the attack's default rate when positive;
	// math.Inf(1) sends as fast as possible.
	Rate float64
	// Clients overrides the default number of connected clients of
	// big-fragments and sessions when positive.
	Clients int
	// Addrs is how many forged addresses a flood cycles over
	// (DefaultFloodAddrs when 0).
	Addrs int
	// WithholdAcks makes connected clients acknowledge nothing.
	WithholdAcks bool
	// DialTimeout bounds each client's handshake (DefaultDialTimeout;
	// 3 s for sessions).
	DialTimeout time.Duration
	// Hello builds the CLIENT_HELLOs of hello-flood (PlainHello when nil).
	Hello HelloBuilder
	// Source is the address the sessions attack's sockets send from (the
	// system's choice when not set).
	Source netip.Addr
}

// Result is what an attack sent and how the server treated it.
type Result struct {
	Name string
	// Rate is the rate it ran at, in Unit; 0 when as fast as possible.
	Rate float64
	Unit string
	// Duration is how long it sent.
	Duration time.Duration
	// Datagrams, bytes and messages sent; Errors counts failed sends.
	Datagrams, Bytes, Messages, Errors uint64
	// Replies counts datagrams the server sent to the attackers.
	Replies uint64
	// Duplicates counts messages the echo server echoed more than once
	// (replay only: a replayed message that got through).
	Duplicates uint64
	// Clients are the connected attackers (none for a flood).
	Clients []ClientResult
	// Admitted and Refused count the handshakes of an attack that runs
	// with whichever clients the server admits (sessions): completed, and
	// refused or failed (no answer in time, say); Refusal is the most
	// common reason a handshake failed. They are 0 for the other
	// attacks, which stop at the first failed handshake.
	Admitted, Refused int
	Refusal           string
}

// ClientResult is how the server treated one connected attacker.
type ClientResult struct {
	// Disconnected: the server sent it a DISCONNECT.
	Disconnected bool
	// Silent: the server sent it nothing in the attack's last second.
	Silent bool
	// Received counts the datagrams it accepted from the server.
	Received uint64
}

// Dropped returns how many connected attackers the server disconnected
// or stopped answering.
func (r *Result) Dropped() int {
	n := 0
	for _, c := range r.Clients {
		if c.Disconnected || c.Silent {
			n++
		}
	}
	return n
}

// silentAfter: an attacker that heard nothing from the server for this
// long counts as dropped (a live server sends keep-alives every 100 ms).
const silentAfter = time.Second

// Run runs the attack cfg names until ctx is done. It returns an error,
// and no result, when the attack cannot start: an unknown name, a flood
// where forged addresses are impossible, a handshake that failed (but
// sessions counts its failed handshakes and runs with the others).
func Run(ctx context.Context, cfg Config) (Result, error) {
	info, err := Lookup(cfg.Name)
	if err != nil {
		return Result{}, err
	}
	res := Result{Name: info.Name, Rate: info.Rate, Unit: info.Unit()}
	switch {
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate):
		return Result{}, fmt.Errorf("attack: rate %g is not a positive number", cfg.Rate)
	case math.IsInf(cfg.Rate, 1):
		res.Rate = 0 // as fast as possible
	case cfg.Rate > 0:
		res.Rate = cfg.Rate
	}
	if info.Flood() {
		return runFlood(ctx, cfg, res)
	}
	n := info.Clients
	if cfg.Clients > 0 && (info.Name == "big-fragments" || info.Name == "sessions") {
		n = cfg.Clients
	}
	if info.Name == "sessions" {
		return runSessions(ctx, cfg, res, n)
	}
	return runClients(ctx, cfg, res, n)
}

// floodPayload returns the payload of a flood attack.
func floodPayload(cfg Config) (Payload, error) {
	switch cfg.Name {
	case "hello-badcrc":
		return HelloBadCRC, nil
	case "hello-flood":
		return NewHelloValid(DefaultHelloPool, cfg.Hello)
	case "hello-flood-marked":
		return NewHelloValid(DefaultHelloPool, MarkedHello)
	case "junk":
		return JunkMix, nil
	}
	return nil, fmt.Errorf("attack: %q is not a flood", cfg.Name)
}

func runFlood(ctx context.Context, cfg Config, res Result) (Result, error) {
	payload, err := floodPayload(cfg)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	f, err := StartFlood(ctx, FloodConfig{Server: cfg.Server, Rate: res.Rate, Addrs: cfg.Addrs, Payload: payload})
	if err != nil {
		return Result{}, err
	}
	st := f.Wait()
	res.Duration = time.Since(start)
	res.Datagrams, res.Bytes, res.Errors, res.Replies = st.Datagrams, st.Bytes, st.Errors, st.Replies
	return res, nil
}

// dialAll connects n clients at once.
func dialAll(ctx context.Context, cfg Config, n int) ([]*Client, error) {
	clients := make([]*Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { clients[i], errs[i] = Dial(ctx, cfg.Server, cfg.ServerKey, cfg.DialTimeout) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	return clients, nil
}

func runClients(ctx context.Context, cfg Config, res Result, n int) (Result, error) {
	clients, err := dialAll(ctx, cfg, n)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	runs := make([]clientRun, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		c.WithholdAcks(cfg.WithholdAcks)
		runs[i].c = c
		wg.Go(func() { runs[i].drive(ctx, res.Rate, newStep(cfg.Name, c, &runs[i])) })
	}
	wg.Wait()
	res.Duration = time.Since(start)
	for i := range runs {
		res.add(&runs[i])
	}
	return res, nil
}

// add counts one attacker's run in r.
func (r *Result) add(run *clientRun) {
	st := run.c.Stats()
	r.Datagrams += st.DatagramsSent
	r.Bytes += st.BytesSent
	r.Messages += st.MessagesSent
	r.Errors += run.errors
	r.Replies += st.DatagramsReceived
	r.Duplicates += run.dups
	r.Clients = append(r.Clients, ClientResult{
		Disconnected: st.Disconnected,
		Silent:       run.end.Sub(st.LastReceive) > silentAfter,
		Received:     st.DatagramsReceived,
	})
}
