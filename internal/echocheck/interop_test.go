package echocheck_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/echocheck"
	"github.com/mpgs/mpgameserver/internal/loadgen"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// The interop tests run the echo scenarios across implementations: the
// Python mpgameserver 0.2.4 client against our server, and our client
// against a Python server of the same contract (interop/*.py). They need
// the Python original, which this repository does not ship: set
// MPGS_PY_REFERENCE to a directory holding its mpgameserver package (and
// MPGS_PYTHON to an interpreter with twisted and cryptography, default
// python3). Both sides use the fixed key pair of the protocol vectors.

const vectorKeys = "../vectors/testdata/"

func reference(t *testing.T) (python string, env []string) {
	ref := os.Getenv("MPGS_PY_REFERENCE")
	if ref == "" {
		t.Skip("MPGS_PY_REFERENCE is not set: no Python mpgameserver to test against")
	}
	python = os.Getenv("MPGS_PYTHON")
	if python == "" {
		python = "python3"
	}
	return python, append(os.Environ(), "PYTHONPATH="+ref)
}

func TestInteropPythonClientAgainstOurServer(t *testing.T) {
	python, env := reference(t)
	root, err := conn.LoadPrivateKey(vectorKeys + "server_root.key.pem")
	require.NoError(t, err)
	out := &syncbuf.Buffer{}
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(out), RootKey: root}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	cmd := exec.Command(python, "interop/py_runner.py", "127.0.0.1", strconv.Itoa(int(srv.Addr().Port())), vectorKeys+"server_root.pub.pem")
	cmd.Env = env
	report, err := cmd.CombinedOutput()
	t.Logf("Python client:\n%s", report)
	require.NoError(t, err)
	assert.Contains(t, string(report), "9 passed, 0 failed")
}

func TestInteropOurClientAgainstPythonServer(t *testing.T) {
	port := pythonServer(t)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	var report bytes.Buffer
	passed, failed := echocheck.Run(echocheck.Options{Server: "127.0.0.1:" + port, Key: pub, Out: &report})
	t.Logf("our client against the Python server:\n%s", report.String())
	assert.Zero(t, failed)
	assert.Equal(t, len(echocheck.Scenarios()), passed)
}

// TestInteropLoadgenAgainstPythonServer: the load generator measures the
// Python original the same way as ours.
func TestInteropLoadgenAgainstPythonServer(t *testing.T) {
	port := pythonServer(t)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: netip.MustParseAddrPort("127.0.0.1:" + port), ServerKey: pub,
		Clients: 20, Rate: 30, Size: 64, Duration: 2 * time.Second, ConnectRate: 50,
	})
	require.NoError(t, err)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	t.Logf("loadgen against the Python server:\n%s", text.String())
	assert.Equal(t, 20, rep.Connected)
	assert.Positive(t, rep.Sent)
	assert.Equal(t, rep.Sent, rep.Echoed+rep.Lost)
	assert.Less(t, rep.LossPercent(), 1.0)
	assert.Zero(t, rep.Corrupt)
}

// TestInteropIdleAgainstEachOther: an idle connection sends two
// keep-alives a second, not ten; the Python original still hears from
// the other end well within its 5 s timeout, both ways: its client idle
// for 7 s on our server is still connected and echoed, and so is our
// client idle on its server.
func TestInteropIdleAgainstEachOther(t *testing.T) {
	python, env := reference(t)
	root, err := conn.LoadPrivateKey(vectorKeys + "server_root.key.pem")
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(io.Discard), RootKey: root}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	cmd := exec.Command(python, "interop/py_idle.py", "127.0.0.1", strconv.Itoa(int(srv.Addr().Port())), vectorKeys+"server_root.pub.pem", "7")
	cmd.Env = env
	report, err := cmd.CombinedOutput()
	t.Logf("Python client idle on our server: %s", report)
	require.NoError(t, err)
	m := regexp.MustCompile(`IDLE ok received=(\d+) timeouts=(\d+)`).FindStringSubmatch(string(report))
	require.NotNil(t, m, "%s", report)
	heard, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, heard, 7, "it heard from the server at least once a second")
	assert.LessOrEqual(t, heard, 7*3, "but not ten times a second: the server's idle pace")

	port := pythonServer(t)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	c := client.New(client.Config{ServerKey: pub})
	defer c.ForceDisconnect()
	var ok *bool
	require.NoError(t, c.Connect("127.0.0.1:"+port, func(b bool) { ok = &b }))
	for deadline := time.Now().Add(5 * time.Second); ok == nil && time.Now().Before(deadline); time.Sleep(16 * time.Millisecond) {
		c.Update()
	}
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	sent := c.Stats().Assembled
	for end := time.Now().Add(7 * time.Second); time.Now().Before(end); time.Sleep(16 * time.Millisecond) {
		c.Update()
		c.Messages()
	}
	require.True(t, c.Connected(), "our client idle on the Python server: %v", c.Err())
	idle := c.Stats().Assembled - sent
	assert.LessOrEqual(t, idle, uint64(7*3), "our client's idle pace")
	require.NoError(t, c.SendGuaranteed([]byte("after the silence"), nil))
	echoed := false
	for deadline := time.Now().Add(5 * time.Second); !echoed && time.Now().Before(deadline); time.Sleep(16 * time.Millisecond) {
		c.Update()
		for _, m := range c.Messages() {
			echoed = echoed || string(m.Data) == "after the silence"
		}
	}
	assert.True(t, echoed, "echoed after the silence")
	t.Logf("our client sent %d datagrams in 7 s of silence", idle)
}

// pythonServer starts the Python echo server and returns its port.
func pythonServer(t *testing.T) string {
	python, env := reference(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	port := freeUDPPort(t)
	cmd := exec.CommandContext(ctx, python, "interop/py_echo_server.py", "127.0.0.1", port, vectorKeys+"server_root.key.pem")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan(), "no output from the Python server: %s", stderr.String())
	require.True(t, strings.HasPrefix(lines.Text(), "READY "), lines.Text())
	go func() { // keep reading its CONNECT lines so it never blocks on the pipe
		for lines.Scan() {
		}
	}()
	return port
}

func freeUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	return strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
}

// TestInteropBulkToPythonServer: a 1 MB guaranteed message from our client
// reaches the Python original exactly once and intact, sent several
// datagrams a tick but never more unacknowledged than the reference's ack
// field reports.
func TestInteropBulkToPythonServer(t *testing.T) {
	port := pythonServer(t)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	require.NoError(t, err)
	c := client.New(client.Config{ServerKey: pub})
	connected := false
	require.NoError(t, c.Connect("127.0.0.1:"+port, func(ok bool) { connected = ok }))
	defer c.ForceDisconnect()
	update := func(limit time.Duration, done func() bool) {
		t.Helper()
		end := time.Now().Add(limit)
		for !done() {
			require.True(t, time.Now().Before(end), "not done within %v", limit)
			c.Update()
			time.Sleep(2 * time.Millisecond)
		}
	}
	update(10*time.Second, func() bool { return connected })

	msg := make([]byte, 1_000_000)
	for i := range msg {
		msg[i] = byte(i * 7 / 3)
	}
	msg[0] = 'N' // counted, not echoed
	acked := false
	start := time.Now()
	require.NoError(t, c.SendGuaranteed(msg, func(ok bool) { acked = ok }))
	update(60*time.Second, func() bool { return acked })
	took := time.Since(start)

	require.NoError(t, c.SendGuaranteed([]byte("STATS"), nil))
	var stats map[string]struct {
		Msgs  int    `json:"msgs"`
		Bytes int    `json:"bytes"`
		SHA   string `json:"sha"`
	}
	update(10*time.Second, func() bool {
		for _, m := range c.Messages() {
			require.NoError(t, json.Unmarshal(m.Data, &stats))
			return true
		}
		return false
	})
	require.Len(t, stats, 1)
	sum := sha256.Sum256(msg)
	for _, s := range stats {
		assert.Equal(t, 1, s.Msgs, "delivered exactly once")
		assert.Equal(t, len(msg), s.Bytes)
		assert.Equal(t, hex.EncodeToString(sum[:]), s.SHA, "intact")
	}
	st := c.Stats()
	t.Logf("1 MB to the Python server acknowledged in %v: %d packets, %d timed out, %d lost, %d messages resent", took, st.Assembled, st.Timeouts, st.Lost, st.Resent)
}
