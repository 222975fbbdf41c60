package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// process is `mpgameserver args...` run as a child process (the test
// binary, through TestMain): its standard output line by line, each
// stamped with when it was read.
type process struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{} // closed once the process exited
	err    error         // its Wait's, once done

	mu    sync.Mutex
	lines []stamped
}

type stamped struct {
	at   time.Time
	text string
}

// startProcess starts `mpgameserver args...` in a child process, killed
// when the test ends if it still runs.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MPGS_RUN_COMMAND="+strings.Join(args, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &process{cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, stamped{time.Now(), sc.Text()})
			p.mu.Unlock()
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// await waits for n lines of the output starting with prefix and returns
// them (a minute at most: a bound for a broken process, not a measure).
func (p *process) await(t *testing.T, prefix string, n int) []stamped {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		exited := false
		select {
		case <-p.done: // every line was read
			exited = true
		default:
		}
		var got []stamped
		p.mu.Lock()
		for _, l := range p.lines {
			if strings.HasPrefix(l.text, prefix) {
				got = append(got, l)
			}
		}
		p.mu.Unlock()
		if len(got) >= n {
			return got[:n]
		}
		if exited {
			t.Fatalf("the process exited (%v) with %d of %d %q lines; stderr: %s", p.err, len(got), n, prefix, p.stderr.String())
		}
		require.True(t, time.Now().Before(deadline), "%d of %d %q lines after a minute; stderr: %s", len(got), n, prefix, p.stderr.String())
	}
}

// TestBotsSurviveAServerRestart: `bots --count 3` play on `serve --game
// arena`; the server process is killed (SIGKILL: it says nothing on its
// way out) and started again on the same port with the same key. The bots
// come back by themselves: the new server's output has their three JOIN
// lines, and the bots command is still running. How long that took from
// the new server's READY line is logged, not asserted.
func TestBotsSurviveAServerRestart(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runArgs("keygen", dir)
	require.Equal(t, 0, code, errOut)
	addr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	serveArgs := []string{"serve", "--game", "arena", "--listen", addr, "--key", filepath.Join(dir, "root.key")}

	first := startProcess(t, serveArgs...)
	first.await(t, "READY ", 1)
	bots := startProcess(t, "bots", "--count", "3", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"))
	joins := first.await(t, "JOIN ", 3)

	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.done
	second := startProcess(t, serveArgs...)
	ready := second.await(t, "READY ", 1)[0]
	rejoins := second.await(t, "JOIN ", 3)
	var names, again []string
	for i := range joins {
		names = append(names, joins[i].text)
		again = append(again, rejoins[i].text)
	}
	assert.ElementsMatch(t, []string{"JOIN bot1", "JOIN bot2", "JOIN bot3"}, names)
	assert.ElementsMatch(t, names, again, "the bots rejoined with their names")
	t.Logf("READY to the last JOIN: %v (each: %v, %v, %v)", rejoins[2].at.Sub(ready.at).Round(time.Millisecond),
		rejoins[0].at.Sub(ready.at).Round(time.Millisecond), rejoins[1].at.Sub(ready.at).Round(time.Millisecond), rejoins[2].at.Sub(ready.at).Round(time.Millisecond))

	select {
	case <-bots.done:
		t.Fatalf("the bots command exited (%v): %s", bots.err, bots.stderr.String())
	default:
	}
	require.NoError(t, bots.cmd.Process.Signal(syscall.SIGTERM))
	left := bots.await(t, "bots left after ", 1)
	assert.NotEmpty(t, left)
	<-bots.done
	assert.NoError(t, bots.err, bots.stderr.String())
	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	<-second.done
	assert.NoError(t, second.err, second.stderr.String())
}
