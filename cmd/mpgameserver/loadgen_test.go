package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadgenAgainstServe(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	addr, _, _, stop := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "echo",
		"--http", "127.0.0.1:0", "--pprof")
	defer stop()
	// What it measures depends on the machine; what it must report does
	// not: every client connected (a generous handshake timeout for a
	// busy machine), every message echoed or counted lost.
	code, out, errOut := runArgs("loadgen", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"),
		"--clients", "8", "--rate", "20", "--size", "32", "--duration", "1s", "--connect-rate", "100", "--json",
		"--handshake-timeout", "30s")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "connected", "a progress line")
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 8.0, rep["connected"])
	assert.Positive(t, rep["sent"])
	assert.Positive(t, rep["echoed"])
	assert.Equal(t, rep["sent"], rep["echoed"].(float64)+rep["lost"].(float64))
	assert.Zero(t, rep["corrupt"])
	assert.Positive(t, rep["rtt_p50_ms"])
	assert.Positive(t, rep["datagrams_in_per_s"])
	assert.NotContains(t, rep, "problem")
	assert.Contains(t, rep, "failures")

	code, out, errOut = runArgs("loadgen", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"),
		"--clients", "2", "--duration", "500ms", "--quiet", "--sockets", "per-client", "--handshake-timeout", "30s")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 connected, 0 failed")
	assert.Contains(t, out, "(per-client sockets)")
	assert.Contains(t, out, "round trip p50")
}

func TestLoadgenFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--clients", "0"}, "--clients 0: want at least 1"},
		{[]string{"--clients", "-5"}, "mpgameserver loadgen: --clients -5: want at least 1\n"},
		{[]string{"--size", "3"}, "--size 3: want"},
		{[]string{"--rate", "0"}, "--rate 0: want"},
		{[]string{"--duration", "-1s"}, "--duration -1s: want a positive duration"},
		{[]string{"--connect-rate", "0"}, "--connect-rate 0"},
		{[]string{"--sockets", "many"}, "--sockets"},
		{[]string{"--server", "nowhere"}, "--server"},
		{[]string{"--pubkey", "/nonexistent.pub"}, "--pubkey"},
		{[]string{"--handshake-timeout", "0s"}, "--handshake-timeout 0s: want a positive duration"},
	} {
		code, _, errOut := runArgs(append([]string{"loadgen"}, tc.args...)...)
		assert.Equal(t, 1, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
		assert.NotContains(t, errOut, "loadgen: loadgen:", "the prefix once")
	}
}

func TestLoadgenAttackFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--attack", "nope"}, "-attack"},
		{[]string{"--attack", "replay", "--attack-rate", "-5"}, "-attack-rate"},
		{[]string{"--attack", "replay", "--attack-rate", "fast"}, "-attack-rate"},
		{[]string{"--attack-rate", "10"}, "--attack-rate needs --attack"},
	} {
		code, _, errOut := runArgs(append([]string{"loadgen"}, tc.args...)...)
		assert.Equal(t, 2, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
	}
	code, _, errOut := runArgs("loadgen", "--help")
	assert.Equal(t, 0, code)
	for _, name := range []string{"fragments", "empty-flood", "replay", "big-fragments", "hello-badcrc", "hello-flood", "junk", "stats-pack"} {
		assert.Contains(t, errOut, name, "the help lists the attacks")
	}
}

func TestLoadgenWithAnAttack(t *testing.T) {
	addr, _, _, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "echo")
	defer stop()
	code, out, errOut := runArgs("loadgen", "--server", addr, "--clients", "3", "--rate", "10", "--duration", "2s",
		"--quiet", "--json", "--attack", "stats-pack", "--attack-rate", "10", "--handshake-timeout", "30s")
	require.Equal(t, 0, code, errOut)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 3.0, rep["connected"])
	att, ok := rep["attack"].(map[string]any)
	require.True(t, ok, out)
	assert.Equal(t, "stats-pack", att["name"])
	assert.Equal(t, 10.0, att["rate"])
	assert.Positive(t, att["datagrams"])
	assert.Equal(t, 1.0, att["attackers"])
}

// TestStatusPage: serve --http shows the counters the benchmarks read,
// and --pprof adds Go's profiles.
func TestStatusPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpAddr := ln.Addr().String()
	ln.Close()
	_, _, _, stop := serve(t, "--listen", "127.0.0.1:0", "--http", httpAddr, "--pprof")
	defer stop()
	url := "http://" + httpAddr
	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	body := readAll(t, resp)
	for _, want := range []string{"connections 0", "ticks/s", "tick ms/s messages", "syscalls read", "socket recv-buffer", "kernel-drops 0", "memory heap-live",
		"packets assembled", "datagrams in", "drops blocked 0 junk 0", "rejected header 0", "messages duplicate 0", "handshakes queued 0",
		"clients connects 0", "budget held 0 limit 134217728", "overruns late-ticks", "age-ms snapshot",
		"sessions hosts 0 busiest-host 0 per-host 32 host-limited 0", "browsers setting-up 0 open 0", "http-conns open 1"} {
		assert.Contains(t, body, want)
	}
	// Scripts read a line by its first word: a line added later never
	// starts like another (the first ten predate the rule).
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for i, line := range lines[10:] {
		w, _, _ := strings.Cut(line, " ")
		for j, other := range lines {
			v, _, _ := strings.Cut(other, " ")
			if j != i+10 {
				assert.False(t, strings.HasPrefix(w, v) || strings.HasPrefix(v, w), "lines starting %q and %q", v, w)
			}
		}
	}
	resp, err = http.Get(url + "/debug/pprof/")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "profiles from the loopback need no token")
	assert.True(t, strings.Contains(readAll(t, resp), "goroutine"))
	resp, err = http.Get(url + "/debug/pprof/profile?seconds=86400")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a day of profiling")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestLoadgenLargeMessages(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	addr, _, _, stop := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "echo")
	defer stop()
	// 100 kB messages travel in about 100 fragments each way.
	code, out, errOut := runArgs("loadgen", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"),
		"--clients", "1", "--rate", "2", "--size", "100000", "--guaranteed", "--duration", "2s", "--json", "--quiet",
		"--handshake-timeout", "30s")
	require.Equal(t, 0, code, errOut)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 1.0, rep["connected"])
	assert.Equal(t, 100000.0, rep["size"])
	assert.GreaterOrEqual(t, rep["sent"], 1.0)
	assert.Equal(t, rep["sent"], rep["echoed"], "every message echoed")
	assert.Zero(t, rep["lost"])
	assert.Zero(t, rep["corrupt"])
	assert.Equal(t, rep["echoed"], rep["rtt_count"])
	assert.Positive(t, rep["rtt_p50_ms"])
	assert.Greater(t, rep["datagrams_out"], rep["sent"], "fragments: more datagrams than messages")
}
