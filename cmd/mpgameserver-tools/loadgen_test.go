package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadgenAgainstServe(t *testing.T) {
	dir := t.TempDir()
	keygen(t, dir, "root")
	addr := gameServer(t, "echo", filepath.Join(dir, "root.key"))
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
		{[]string{"--clients", "-5"}, "mpgameserver-tools loadgen: --clients -5: want at least 1\n"},
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
	addr := gameServer(t, "echo", "")
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

func TestLoadgenLargeMessages(t *testing.T) {
	dir := t.TempDir()
	keygen(t, dir, "root")
	addr := gameServer(t, "echo", filepath.Join(dir, "root.key"))
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
