package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// bareServer runs bare-echo with args until the test ends and returns its
// address.
func bareServer(t *testing.T, args ...string) (string, *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"bare-echo"}, args...), out, errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, 0, code, errOut.String())
		case <-time.After(5 * time.Second):
			t.Error("bare-echo did not stop")
		}
	})
	ready := regexp.MustCompile(`READY (\S+)`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := ready.FindStringSubmatch(out.String()); m != nil {
			return m[1], errOut
		}
		select {
		case code := <-done:
			t.Fatalf("bare-echo exited with %d: %s", code, errOut.String())
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no READY line; stderr: %s", errOut.String())
	return "", nil
}

func TestBareEchoWithLoadgen(t *testing.T) {
	httpAddr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	addr, _ := bareServer(t, "--listen", "127.0.0.1:0", "--http", httpAddr)
	var total float64
	for _, sockets := range []string{"auto", "per-client"} {
		code, out, errOut := runArgs("loadgen", "--bare", "--server", addr, "--clients", "3", "--rate", "10", "--duration", "1s",
			"--sockets", sockets, "--json", "--quiet")
		require.Equal(t, 0, code, errOut)
		var rep map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		assert.Equal(t, 3.0, rep["connected"], sockets)
		assert.Equal(t, true, rep["bare"], sockets)
		sent, echoed := rep["sent"].(float64), rep["echoed"].(float64)
		assert.GreaterOrEqual(t, sent, 1.0, sockets)
		assert.Positive(t, echoed, sockets)
		assert.Equal(t, sent-echoed, rep["lost"], sockets)
		assert.Equal(t, sent, echoed, "%s: every datagram echoed on the loopback", sockets)
		assert.Zero(t, rep["corrupt"], sockets)
		assert.Positive(t, rep["rtt_p50_ms"], sockets)
		assert.NotContains(t, rep, "problem", sockets)
		total += sent + rep["ramp_sent"].(float64)
	}

	resp, err := http.Get("http://" + httpAddr + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^datagrams in (\d+) out (\d+)`).FindStringSubmatch(string(body))
	require.NotNil(t, m, string(body))
	in, _ := strconv.ParseFloat(m[1], 64)
	assert.Equal(t, m[1], m[2], "every datagram sent back")
	assert.GreaterOrEqual(t, in, total, "every message reached the server")
	assert.Regexp(t, `(?m)^syscalls read [1-9]\d* write [1-9]\d*$`, string(body))
	assert.Regexp(t, `(?m)^socket recv-buffer \d+ send-buffer \d+ kernel-drops 0$`, string(body))
}

func TestBareFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"loadgen", "--bare", "--size", "2000"}, "--size 2000: want 14 to 1472 bytes in a bare run"},
		{[]string{"loadgen", "--bare", "--guaranteed"}, "--bare sends plain datagrams"},
		{[]string{"loadgen", "--size", "9000000"}, "--size 9000000: want"},
		{[]string{"bare-echo", "--listen", "nowhere"}, "--listen"},
		{[]string{"bare-echo", "--buffer", "0"}, "--buffer 0"},
	} {
		code, _, errOut := runArgs(tc.args...)
		assert.Equal(t, 1, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
	}
}

// freeTCPPort returns a TCP port on the loopback that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}
