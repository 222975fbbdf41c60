package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// A netns is a network namespace of a test's own, joined to the host by a
// veth pair: its end has Addr, a /24 whose .1 is the host's end and the
// default route, so that what runs inside has a routable address that
// stays on the machine.
type netns struct {
	name     string
	hostLink string
	nsLink   string
	Addr     string // the namespace's address, 10.201.X.2
	Gateway  string // the host's end, 10.201.X.1
}

var netnsSeq atomic.Int32

// ipCmd runs ip with args and returns its error with its output.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetns makes a network namespace for t and removes it, and kills
// whatever still runs in it, when t ends. It skips the test where it
// cannot: not root, no iproute2, no namespaces or veth links.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the test makes a network namespace of its own (ip netns add)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (apt-get install iproute2): the test makes a network namespace of its own")
	}
	pid, seq := os.Getpid(), netnsSeq.Add(1)
	n := &netns{
		name:     fmt.Sprintf("mpgs-%d-%d", pid, seq),
		hostLink: fmt.Sprintf("mpgs%dh%d", pid, seq), // at most 15 characters
		nsLink:   fmt.Sprintf("mpgs%dn%d", pid, seq),
	}
	x, err := freeSubnet(pid + int(seq)*37)
	if err != nil {
		t.Skip(err)
	}
	n.Gateway, n.Addr = fmt.Sprintf("10.201.%d.1", x), fmt.Sprintf("10.201.%d.2", x)
	if err := ipCmd("netns", "add", n.name); err != nil {
		t.Skipf("cannot make a network namespace: %v", err)
	}
	t.Cleanup(func() { n.remove(t) })
	if err := ipCmd("link", "add", n.hostLink, "type", "veth", "peer", "name", n.nsLink); err != nil {
		t.Skipf("cannot make a veth pair: %v", err)
	}
	for _, args := range [][]string{
		{"link", "set", n.nsLink, "netns", n.name},
		{"addr", "add", n.Gateway + "/24", "dev", n.hostLink},
		{"link", "set", n.hostLink, "up"},
		{"-n", n.name, "addr", "add", n.Addr + "/24", "dev", n.nsLink},
		{"-n", n.name, "link", "set", n.nsLink, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
		{"-n", n.name, "route", "add", "default", "via", n.Gateway},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// freeSubnet returns an X from 1 to 250 such that no address or route of
// the host is in 10.201.X.0/24, trying from start on: parallel runs, of
// other processes, pick different ones.
func freeSubnet(start int) (int, error) {
	addrs, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return 0, fmt.Errorf("ip -4 addr show: %v", err)
	}
	routes, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return 0, fmt.Errorf("ip -4 route show: %v", err)
	}
	used := " " + strings.Join(strings.Fields(string(addrs)+" "+string(routes)), " ")
	for i := range 250 {
		x := (start+i)%250 + 1
		if !strings.Contains(used, " 10.201."+strconv.Itoa(x)+".") {
			return x, nil
		}
	}
	return 0, fmt.Errorf("no free 10.201.X.0/24 on this machine")
}

// pids returns the processes that run in the namespace.
func (n *netns) pids() []int {
	out, _ := exec.Command("ip", "netns", "pids", n.name).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// remove kills what still runs in the namespace, then deletes it and the
// veth pair.
func (n *netns) remove(t *testing.T) {
	for deadline := time.Now().Add(10 * time.Second); ; {
		pids := n.pids()
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v still run in the namespace %s", pids, n.name)
			break
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := ipCmd("netns", "del", n.name); err != nil {
		t.Error(err)
	}
	// Deleting the namespace deletes its end of the pair, and with it
	// the host's; this is for a pair whose end never moved in.
	_ = exec.Command("ip", "link", "del", n.hostLink).Run()
}

// command returns the command that runs name with args in the namespace.
func (n *netns) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// A nsProc is a process that a test runs in its namespace, in a process
// group of its own (a browser's children with it).
type nsProc struct {
	what   string
	cmd    *exec.Cmd
	out    *syncbuf.Buffer // standard output
	errOut *syncbuf.Buffer // standard error
	done   chan struct{}
	err    error // once done is closed
}

// start starts cmd (from command) as what, and stops it when t ends.
func (n *netns) start(t *testing.T, what string, cmd *exec.Cmd) *nsProc {
	t.Helper()
	p := &nsProc{what: what, cmd: cmd, out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second // children that hold its output
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// exited reports whether the process ended.
func (p *nsProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process group to end (SIGTERM) and kills it when it did
// not within a bound; it reports whether it ended when asked.
func (p *nsProc) stop(t *testing.T) bool {
	if p.exited() {
		return true
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(15 * time.Second):
	}
	t.Logf("%s did not end within 15s of SIGTERM: killing it", p.what)
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	return false
}

// xvfb starts an X server in the namespace on a free display and returns
// the display (":N"). It skips the test when there is no Xvfb.
//
// The display is named, not left to -displayfd: in a namespace of its
// own a -displayfd server finds the abstract socket of a display in use
// free, takes the number and unlinks the socket file of the server that
// holds it (the test binary's own display, internal/xvfb). A named
// display checks the lock file first and refuses one in use; it is then
// tried with the next number.
func (n *netns) xvfb(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("no Xvfb on the PATH (apt-get install xvfb): headless Firefox has no WebGL, which the arena needs")
	}
	for d := 200; d < 300; d++ {
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", d)
		_, lockErr := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", d))
		if _, sockErr := os.Stat(sock); lockErr == nil || sockErr == nil {
			continue // in use, or left by a server that died: not ours to take
		}
		p := n.start(t, "Xvfb", n.command(path, fmt.Sprintf(":%d", d), "-screen", "0", "1280x800x24", "-nolisten", "tcp"))
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if p.exited() {
				break // another server took it first: the next number
			}
			if _, err := os.Stat(sock); err == nil {
				return fmt.Sprintf(":%d", d)
			}
			if time.Now().After(deadline) {
				t.Fatalf("Xvfb :%d made no socket within 2 minutes: %s", d, p.errOut.String())
			}
		}
	}
	t.Fatal("no free X display in :200-:299")
	return ""
}
