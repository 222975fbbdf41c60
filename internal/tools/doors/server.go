//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// Waits of the server's life.
const (
	// readyWithin bounds the server's start: a binary without the arena's
	// page embedded builds it first.
	readyWithin = 5 * time.Minute
	// stopWithin is how long a server has to stop after SIGTERM before
	// it is killed.
	stopWithin = 5 * time.Second
	// serverCPU and attackerCPU are the CPUs of --pin: the server's, and
	// everything else's (this program and the processes it starts).
	serverCPU, attackerCPU = 0, 1
)

// lo returns the loopback address 127.0.0.last.
func lo(last byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, last}) }

// loopback is the address the server listens on and the attacker sends
// from.
func loopback() netip.Addr { return lo(1) }

// tool is what every attack shares: the binary, its key, its flags.
type tool struct {
	opts   options
	bin    string          // the server binary
	dir    string          // where it runs
	tmp    string          // our temporary directory
	key    string          // the root key's file
	pub    *conn.PublicKey // its public key
	known  map[string]bool // the flags of the binary's serve
	token  string          // the admin token given to the server
	stderr io.Writer
}

// newTool builds the binary (unless --bin), makes a key with its keygen
// and reads its serve flags.
func newTool(ctx context.Context, o options, stderr io.Writer) (*tool, error) {
	t := &tool{opts: o, bin: o.bin, dir: o.dir, stderr: stderr}
	if t.dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		t.dir = root
	}
	tmp, err := os.MkdirTemp("", "doors-")
	if err != nil {
		return nil, err
	}
	t.tmp = tmp
	if t.bin == "" {
		t.bin = filepath.Join(tmp, "mpgameserver")
		t.logf("building ./cmd/mpgameserver in %s", t.dir)
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "headless", "-o", t.bin, "./cmd/mpgameserver")
		cmd.Dir = t.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.close()
			return nil, fmt.Errorf("building the server: %v\n%s", err, out)
		}
	} else if t.bin, err = filepath.Abs(t.bin); err != nil {
		t.close()
		return nil, err
	}
	keys := filepath.Join(tmp, "keys")
	if out, err := exec.CommandContext(ctx, t.bin, "keygen", keys).CombinedOutput(); err != nil {
		t.close()
		return nil, fmt.Errorf("%s keygen: %v\n%s", t.bin, err, out)
	}
	t.key = filepath.Join(keys, "root.key")
	if t.pub, err = conn.LoadPublicKey(filepath.Join(keys, "root.pub")); err != nil {
		t.close()
		return nil, fmt.Errorf("the key keygen made: %w", err)
	}
	help, _ := exec.CommandContext(ctx, t.bin, "serve", "--help").CombinedOutput() // usage exits non-zero in some versions
	t.known = map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(help), -1) {
		t.known[m[1]] = true
	}
	if !t.known["listen"] {
		t.close()
		return nil, fmt.Errorf("%s serve --help lists no --listen flag:\n%s", t.bin, help)
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	t.token = hex.EncodeToString(tok)
	return t, nil
}

// close removes the temporary directory.
func (t *tool) close() {
	if t.tmp != "" {
		os.RemoveAll(t.tmp)
	}
}

// logf writes a progress line unless --quiet.
func (t *tool) logf(format string, a ...any) {
	if !t.opts.quiet {
		fmt.Fprintf(t.stderr, "%s doors: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
}

// moduleRoot finds the directory of the go.mod above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: give --dir")
		}
		dir = parent
	}
}

// server is a server process of one attack.
type server struct {
	cmd  *exec.Cmd
	udp  netip.AddrPort
	web  string // host:port of --web, "" without
	http string // host:port of --http, "" without
	done chan struct{}

	mu   sync.Mutex
	tail []string // the last lines of its output
}

// serverTail is how many of its last output lines a server keeps, to
// say why it failed.
const serverTail = 40

// start runs the binary's serve hosting game, with every flag of the
// standard command line that it knows, and waits for READY.
func (t *tool) start(ctx context.Context, game string) (*server, error) {
	udp, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	s := &server{udp: netip.AddrPortFrom(loopback(), uint16(udp)), done: make(chan struct{})}
	args := []string{"serve", "--game", game, "--listen", s.udp.String(), "--key", t.key}
	if t.known["web"] {
		p, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		s.web = netip.AddrPortFrom(loopback(), uint16(p)).String()
		args = append(args, "--web", s.web)
	}
	if t.known["http"] {
		p, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		s.http = netip.AddrPortFrom(loopback(), uint16(p)).String()
		args = append(args, "--http", s.http)
		if t.known["admin-token"] {
			args = append(args, "--admin-token", t.token)
		}
		if t.known["pprof"] {
			args = append(args, "--pprof")
		}
	}
	s.cmd = exec.Command(t.bin, args...)
	s.cmd.Dir = t.dir
	s.cmd.Env = serverEnv()
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its page build goes with it
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if t.opts.pin {
		pin(s.cmd.Process.Pid, serverCPU)
	}
	t.logf("server %s: %s %s", game, filepath.Base(t.bin), strings.Join(args, " "))
	ready := make(chan struct{})
	go s.read(out, ready)
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	timer := time.NewTimer(readyWithin)
	defer timer.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the server exited before READY (%v):\n%s", s.cmd.ProcessState, s.lastLines())
	case <-timer.C:
		s.stop()
		return nil, fmt.Errorf("no READY within %v:\n%s", readyWithin, s.lastLines())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// serverEnv is our environment without MPGS_ variables, which the
// server would take for flags.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MPGS_") {
			env = append(env, kv)
		}
	}
	return env
}

// read keeps the server's last lines and closes ready at READY.
func (s *server) read(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		if s.tail = append(s.tail, line); len(s.tail) > serverTail {
			s.tail = s.tail[len(s.tail)-serverTail:]
		}
		s.mu.Unlock()
		if strings.HasPrefix(line, "READY ") {
			once.Do(func() { close(ready) })
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// lastLines returns the last lines the server wrote.
func (s *server) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// webURL is the --web page's URL.
func (s *server) webURL() string { return "http://" + s.web + "/" }

// httpURL is the --http listener's URL for path.
func (s *server) httpURL(path string) string { return "http://" + s.http + path }

// alive reports whether the process still runs.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// stop asks the server to stop, and kills it (its process group) if it
// has not within stopWithin.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopWithin):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// freePort returns a port of the network ("tcp" or "udp") free on the
// loopback now.
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: loopback().AsSlice()})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: loopback().AsSlice()})
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// peaks are the server's largest figures over a run, read from /metrics
// every second.
type peaks struct {
	mu         sync.Mutex
	goroutines float64
	rss        float64 // bytes
	readings   int     // /metrics that answered
	misses     int     // /metrics that did not
}

// sample reads the server's /metrics every second until ctx is done (and
// once more then).
func (s *server) sample(ctx context.Context, p *peaks) {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		s.sampleOnce(hc, p)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sampleOnce takes one reading into p.
func (s *server) sampleOnce(hc *http.Client, p *peaks) {
	g, rss, ok := s.metrics(hc)
	if !ok {
		rss = procRSS(s.cmd.Process.Pid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok {
		p.readings++
		p.goroutines = max(p.goroutines, g)
	} else {
		p.misses++
	}
	p.rss = max(p.rss, rss)
}

// metrics reads go_goroutines and process_resident_memory_bytes.
func (s *server) metrics(hc *http.Client) (goroutines, rss float64, ok bool) {
	if s.http == "" {
		return 0, 0, false
	}
	resp, err := hc.Get(s.httpURL("/metrics"))
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, false
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var seen int
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			goroutines, seen = v, seen+1
		case "process_resident_memory_bytes":
			rss, seen = v, seen+1
		}
	}
	return goroutines, rss, seen == 2
}

// procRSS reads a process's resident memory from /proc (0 where there is
// none).
func procRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

// String is the peaks' table cell.
func (p *peaks) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := "?"
	if p.readings > 0 {
		g = fmt.Sprintf("%.0f", p.goroutines)
	}
	s := fmt.Sprintf("%s / %.0f MiB", g, p.rss/(1<<20))
	if p.misses > 0 {
		s += fmt.Sprintf(" (/metrics missed %d of %d)", p.misses, p.misses+p.readings)
	}
	return s
}
