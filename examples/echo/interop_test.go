package echo_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/loadgen"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/examples/echo"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// The interop tests run the echo scenarios across implementations: the
// Python mpgameserver 0.2.4 client against our server, and our client
// against a Python server of the same contract (interop/*.py). They need
// the Python original, which this repository does not ship: set
// MPGS_PY_REFERENCE to a directory holding its mpgameserver package (and
// MPGS_PYTHON to an interpreter with twisted and cryptography, default
// python3). Both sides use the fixed key pair of the protocol vectors.

const vectorKeys = "../../internal/vectors/testdata/"

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
	passed, failed := echo.Run(echo.Options{Server: "127.0.0.1:" + port, Key: pub, Out: &report})
	t.Logf("our client against the Python server:\n%s", report.String())
	assert.Zero(t, failed)
	assert.Equal(t, len(echo.Scenarios()), passed)
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
