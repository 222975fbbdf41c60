//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/loadgen"
)

// The sessions attack.
const (
	// sessionsChild is the hidden first argument that makes this program
	// the attacker's process.
	sessionsChild = "sessions-attacker"
	// measuredClients, measuredRate and measuredSize are the measured echo
	// clients, as examples/echo/loadtest/attack.sh runs them.
	measuredClients = 500
	measuredRate    = 30
	measuredSize    = 64
	// newUDPClients try to connect 5 s into the measurement.
	newUDPClients = 20
	probeAfter    = 5 * time.Second
	// settleWithin bounds the wait for the sessions to be opened; settled
	// is how long the server's count of connections must stay put.
	settleWithin = 150 * time.Second
	settled      = 5 * time.Second
	// childStops bounds the attacker's exit once told to stop.
	childStops = 30 * time.Second
)

// childResult is what the attacker's process reports on its standard
// output, as JSON.
type childResult struct {
	Admitted, Refused int
	Refusal           string
	Dropped           int
	Datagrams         uint64
	Error             string
}

// runSessionsChild is the attacker's process: internal/attack's
// sessions attack against --server until SIGINT or SIGTERM, then its
// counts on standard output.
func runSessionsChild(args []string) int {
	fs := flag.NewFlagSet(sessionsChild, flag.ContinueOnError)
	server := fs.String("server", "", "the server's UDP address")
	pubkey := fs.String("pubkey", "", "its public key's file")
	clients := fs.Int("clients", 0, "sessions to open")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	addr, err := netip.ParseAddrPort(*server)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pub, err := conn.LoadPublicKey(*pubkey)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := attack.Run(ctx, attack.Config{Name: "sessions", Server: addr, ServerKey: pub, Clients: *clients})
	out := childResult{Admitted: res.Admitted, Refused: res.Refused, Refusal: res.Refusal, Dropped: res.Dropped(), Datagrams: res.Datagrams}
	if err != nil {
		out.Error = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// runSessions opens --sessions UDP sessions from 127.0.0.1 in a process
// of their own, then measures 500 echo clients beside them.
func runSessions(ctx context.Context, t *tool) row {
	srv, err := t.start(ctx, "echo")
	if err != nil {
		return t.failed(err)
	}
	defer srv.stop()
	if srv.http == "" {
		return t.failed(fmt.Errorf("the binary's serve has no --http"))
	}
	var pk peaks
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go srv.sample(sctx, &pk)

	self, err := os.Executable()
	if err != nil {
		return t.failed(err)
	}
	child := exec.Command(self, sessionsChild, "--server", srv.udp.String(),
		"--pubkey", filepath.Join(t.tmp, "keys", "root.pub"), "--clients", strconv.Itoa(t.opts.sessions))
	var out, errOut bytes.Buffer
	child.Stdout, child.Stderr = &out, &errOut
	if err := child.Start(); err != nil {
		return t.failed(err)
	}
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()
	stopChild := func() {
		_ = child.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(childStops):
			_ = child.Process.Kill()
			<-exited
		}
	}
	defer stopChild()
	t.logf("sessions: opening %d sessions from 127.0.0.1", t.opts.sessions)
	open, took := t.settle(ctx, srv, exited)
	t.logf("sessions: the server holds %d connections after %v; measuring %d clients for %v", open, took.Round(time.Second), measuredClients, t.opts.duration)

	ticks := make(chan []int, 1)
	tctx, stopTicks := context.WithCancel(ctx)
	go func() { ticks <- srv.ticks(tctx) }()
	probes := make(chan [2]string, 1)
	go func() {
		if !sleep(ctx, probeAfter) {
			probes <- [2]string{}
			return
		}
		var wg sync.WaitGroup
		var udp string
		var web browsersJoined
		wg.Go(func() { udp = newClients(ctx, srv.udp, t.pub) })
		if srv.web != "" {
			wg.Go(func() { web = joinBrowsers(ctx, "http://"+srv.web+"/rtc", t.pub) })
		}
		wg.Wait()
		probes <- [2]string{udp, web.String()}
	}()
	rep, err := loadgen.Run(ctx, loadgen.Config{Server: srv.udp, ServerKey: t.pub, Clients: measuredClients, Rate: measuredRate,
		Size: measuredSize, Duration: t.opts.duration})
	stopTicks()
	probe := <-probes
	tk := <-ticks
	stopChild()
	stopSampling()

	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		res.Error = fmt.Sprintf("no report from the attacker's process (%v): %s", err, strings.TrimSpace(errOut.String()))
	}
	achieved := fmt.Sprintf("%d sessions tried from 127.0.0.1: %d admitted, %d refused", t.opts.sessions, res.Admitted, res.Refused)
	if res.Refusal != "" {
		achieved += " (" + short(fmt.Errorf("%s", res.Refusal)) + ")"
	}
	if res.Dropped > 0 {
		achieved += fmt.Sprintf(", %d of them dropped later", res.Dropped)
	}
	if res.Error != "" {
		achieved += "; " + short(fmt.Errorf("%s", res.Error))
	}
	achieved += fmt.Sprintf("; the server held %d connections after %v; its ticks/s while measured: %s", open, took.Round(time.Second), minMean(tk))
	players := ""
	if err != nil {
		players = "loadgen: " + short(err)
	} else {
		players = fmt.Sprintf("%d clients (%d connected): loss %.3f%%, RTT %s / %s", measuredClients, rep.Connected, rep.LossPercent(), ms(rep.RTT.P50), ms(rep.RTT.P99))
		if p := rep.Problem(); p != "" {
			players += " (" + p + ")"
		}
	}
	players += "; new UDP clients: " + probe[0]
	return row{achieved: achieved, players: players, browsers: probe[1], server: pk.String()}
}

// settle waits until the server's count of connections stops growing
// (or the attacker's process ended, or settleWithin), and returns it.
func (t *tool) settle(ctx context.Context, srv *server, exited <-chan struct{}) (int, time.Duration) {
	start := time.Now()
	last, since := -1, time.Now()
	for i := 1; ; i++ {
		n := srv.status("connections")
		if n != last {
			last, since = n, time.Now()
		}
		switch {
		case time.Since(start) > settleWithin, ctx.Err() != nil:
			return last, time.Since(start)
		case time.Since(since) >= settled && (n >= t.opts.sessions || time.Since(start) > 2*settled):
			return last, time.Since(start)
		}
		select {
		case <-exited:
			return last, time.Since(start)
		case <-time.After(time.Second):
		}
		if i%10 == 0 {
			t.logf("sessions: %d connections", n)
		}
	}
}

// status reads one number of the server's status page: the first field
// after name on the line that starts with it (-1 when it cannot).
func (s *server) status(name string) int {
	resp, err := httpFrom(loopback(), 2*time.Second).Get(s.httpURL("/"))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			n, err := strconv.Atoi(f[1])
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// ticks reads the server's ticks a second every 2 s until ctx is done.
func (s *server) ticks(ctx context.Context) []int {
	var out []int
	for sleep(ctx, 2*time.Second) {
		if n := s.status("ticks/s"); n >= 0 {
			out = append(out, n)
		}
	}
	return out
}

// minMean formats the least and the mean of ns.
func minMean(ns []int) string {
	if len(ns) == 0 {
		return "n/a"
	}
	least, sum := ns[0], 0
	for _, n := range ns {
		least = min(least, n)
		sum += n
	}
	return fmt.Sprintf("%d–%.0f (min–mean)", least, float64(sum)/float64(len(ns)))
}

// newClients has newUDPClients new echo clients connect, and says how
// many did.
func newClients(ctx context.Context, server netip.AddrPort, key *conn.PublicKey) string {
	rep, err := loadgen.Run(ctx, loadgen.Config{Server: server, ServerKey: key, Clients: newUDPClients, Rate: 1, Size: measuredSize,
		Duration: 2 * time.Second, ConnectRate: 100})
	if err != nil {
		return short(err)
	}
	return fmt.Sprintf("%d/%d connected", rep.Connected, newUDPClients)
}
