package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
		"sessions hosts 0 busiest-host 0 per-host 32 host-limited 0", "browsers setting-up 0 open 0", "http-conns open 1", "migrations moved 0 refused 0 resets-sent 0"} {
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
