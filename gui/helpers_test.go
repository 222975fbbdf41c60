package gui

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// event is one frame's scripted input.
type event struct {
	key   ebiten.Key
	click bool
	x, y  int
}

// script is input a test types: one event a frame, in order.
type script struct {
	mu     sync.Mutex
	queue  []event
	cur    *event
	frames int
}

func (s *script) push(e ...event) {
	s.mu.Lock()
	s.queue = append(s.queue, e...)
	s.mu.Unlock()
}

func (s *script) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.queue)
	if s.cur != nil {
		n++
	}
	return n
}

// frame moves to the next event (Update calls it first).
func (s *script) frame() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames++
	s.cur = nil
	if len(s.queue) > 0 {
		e := s.queue[0]
		s.queue = s.queue[1:]
		s.cur = &e
	}
}

func (s *script) pressed(k ebiten.Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && !s.cur.click && s.cur.key == k
}

func (s *script) repeated(ebiten.Key) bool { return false }

func (s *script) click() (int, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.click {
		return s.cur.x, s.cur.y, true
	}
	return 0, 0, false
}

func (s *script) wheel() float64 { return 0 }

// scripted gives m scripted input.
func scripted(m *Monitor) *script {
	s := &script{}
	m.in = s
	return s
}

// press types keys into the monitor in the window, one a frame, and
// waits until it took them all in (and a frame more, so that it drew).
func press(t *testing.T, w *guitest.Window, s *script, keys ...ebiten.Key) {
	t.Helper()
	for _, k := range keys {
		s.push(event{key: k})
	}
	settle(t, w, s)
}

// clickAt clicks the monitor at (x, y).
func clickAt(t *testing.T, w *guitest.Window, s *script, x, y float32) {
	t.Helper()
	s.push(event{click: true, x: int(x), y: int(y)})
	settle(t, w, s)
}

func settle(t *testing.T, w *guitest.Window, s *script) {
	t.Helper()
	require.Eventually(t, func() bool { return s.pending() == 0 }, 20*time.Second, 5*time.Millisecond, "the monitor took no input")
	f := w.Frames()
	require.Eventually(t, func() bool { return w.Frames() > f+1 }, 20*time.Second, 5*time.Millisecond)
}

// inWindow evaluates cond between two frames of the window.
func inWindow(w *guitest.Window, cond func() bool) func() bool {
	return func() bool {
		ok := false
		w.Between(func() { ok = cond() })
		return ok
	}
}

// fakeSource serves a fixed snapshot and records the actions asked of it.
type fakeSource struct {
	mu      sync.Mutex
	version uint64 // 1 when 0
	snap    server.Snapshot
	network admin.Network
	noActs  bool
	logs    []admin.LogLine
	asked   []string
}

func (f *fakeSource) Snapshot(dst *server.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.CopyTo(dst)
}
func (f *fakeSource) SnapshotVersion() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(1, f.version)
}

// next publishes a snapshot a second later, changed by fn.
func (f *fakeSource) next(fn func(s *server.Snapshot)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.Taken = f.snap.Taken.Add(time.Second)
	f.snap.LastSecond.Unix++
	fn(&f.snap)
	f.version = max(1, f.version) + 1
}
func (f *fakeSource) Logs() []admin.LogLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs
}
func (f *fakeSource) Network() admin.Network {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.network
}
func (f *fakeSource) Actions() bool { return !f.noActs }
func (f *fakeSource) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, s)
	return nil
}
func (f *fakeSource) Disconnect(_ context.Context, tok uint32) error {
	return f.record("disconnect " + itoa(tok))
}
func (f *fakeSource) Block(_ context.Context, a netip.Addr) error {
	return f.record("block " + a.String())
}
func (f *fakeSource) SetConditions(_ context.Context, tok uint32, c admin.Conditions) error {
	f.mu.Lock()
	if tok == 0 {
		f.network.All = c
	} else {
		if f.network.Clients == nil {
			f.network.Clients = map[uint32]admin.Conditions{}
		}
		f.network.Clients[tok] = c
	}
	f.mu.Unlock()
	return f.record("conditions " + itoa(tok) + " " + describeConditions(c))
}
func (f *fakeSource) actionsAsked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// The server in another process: the mpgameserver binary, built once.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// serverBinary builds mpgameserver (headless: no window of its own) for
// the tests that attach to a server in another process.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "mpgs-gui-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mpgameserver")
		cmd := exec.Command(goTool, "build", "-tags", "headless", "-o", binPath, "github.com/mpgs/mpgameserver/cmd/mpgameserver")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Skipf("cannot build mpgameserver: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// served is `mpgameserver serve` running in another process.
type served struct {
	cmd    *exec.Cmd
	udp    string // from its READY line
	http   string // from its "listening http=" log line
	stdout *syncbuf.Buffer
	stderr *syncbuf.Buffer
	exited chan struct{}
}

var (
	readyLine  = regexp.MustCompile(`READY (\S+)`)
	listenLine = regexp.MustCompile(`listening http=(\S+)`)
)

// startServe runs `mpgameserver serve args...` until stopped or the test
// ends, and waits for it to be ready.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	bin := serverBinary(t)
	s := &served{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	s.cmd.Env = append(os.Environ(), "MPGS_ADMIN_TOKEN=") // only what args say
	out, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	s.cmd.Stderr = s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.stdout.Write(append(sc.Bytes(), '\n'))
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m, h := readyLine.FindStringSubmatch(s.stdout.String()), listenLine.FindStringSubmatch(s.stderr.String())
		if m != nil && h != nil {
			s.udp, s.http = m[1], "http://"+h[1]
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited: %s", s.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve never got ready; stderr: %s", s.stderr.String())
	return nil
}

// stop stops the server gracefully (SIGTERM) and waits for it to exit.
func (s *served) stop(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("serve did not stop on SIGTERM")
	}
}

// keygen writes a root key pair into a temp dir and returns the private
// key's path.
func keygen(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(serverBinary(t), "keygen", dir).CombinedOutput()
	require.NoError(t, err, string(out))
	return filepath.Join(dir, "root.key"), filepath.Join(dir, "root.pub")
}
