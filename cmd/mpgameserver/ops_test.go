package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/ops/endpoint"
	"github.com/mpgs/mpgameserver/server"
)

// freeTCP returns a loopback TCP address nothing listens on.
func freeTCP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// statusValue reads a counter from the status page: the number after
// word on the line starting with line.
func statusValue(page, line, word string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `.*\b` + regexp.QuoteMeta(word) + ` (\d+)`).FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// metricValue returns the value of name{labels...} in the families.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, l := range m.GetLabel() {
				ok = ok || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !ok {
				continue next
			}
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

// TestServeForOperators: serve --http --log-format json with 20 clients
// and some junk: /metrics parses as Prometheus text and agrees with the
// status page, the probes answer, every log line is JSON.
func TestServeForOperators(t *testing.T) {
	httpAddr := freeTCP(t)
	addr, _, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "echo", "--http", httpAddr, "--log-format", "json")
	base := "http://" + httpAddr

	var clients []*client.Client
	for range 20 {
		c := client.New(client.Config{})
		require.NoError(t, c.Connect(addr, nil))
		clients = append(clients, c)
	}
	junk, err := net.Dial("udp", addr)
	require.NoError(t, err)
	for range 5 {
		_, err := junk.Write([]byte("junk, not a datagram of the protocol"))
		require.NoError(t, err)
	}
	junk.Close()
	var page string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range clients {
			c.Update()
		}
		_, page = get(t, base+"/")
		if strings.Contains(page, "connections 20\n") && statusValue(page, "drops", "junk") == 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Contains(t, page, "connections 20\n")

	code, body := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "the exposition parses")
	assert.Equal(t, 20.0, metricValue(fams, "mpgameserver_connections"))
	assert.Equal(t, statusValue(page, "clients", "connects"), metricValue(fams, "mpgameserver_connects_total"))
	assert.Equal(t, 5.0, metricValue(fams, "mpgameserver_datagrams_dropped_total", "reason", "junk"))
	for _, reason := range []string{"kernel", "blocked", "overflow", "bad_header", "unexpected", "throttled", "handshake_invalid", "handshake_rejected", "auth", "duplicate", "stale"} {
		assert.GreaterOrEqual(t, metricValue(fams, "mpgameserver_datagrams_dropped_total", "reason", reason), 0.0, reason)
	}
	assert.Contains(t, fams, "go_goroutines", "Go's collector")
	assert.Contains(t, fams, "process_resident_memory_bytes", "the process collector")

	code, body = get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code, body)
	code, body = get(t, base+"/readyz")
	assert.Equal(t, http.StatusOK, code, body)

	for _, c := range clients {
		c.ForceDisconnect()
	}
	assert.Equal(t, 0, stop())
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		var rec map[string]any
		if assert.NoError(t, json.Unmarshal([]byte(l), &rec), "a JSON log line: %q", l) {
			assert.Contains(t, rec, "msg")
			assert.Contains(t, rec, "level")
		}
	}
}

// blockingGame blocks its Update while block is open.
type blockingGame struct {
	server.BaseHandler
	block chan chan struct{}
}

func (g *blockingGame) Update(time.Duration) {
	select {
	case release := <-g.block:
		<-release
	default:
	}
}

// TestHealthProbes: /healthz turns 503 when the event goroutine is
// blocked and back to 200 when it runs again; /readyz is 503 before the
// server serves and while it stops. On a fake clock.
func TestHealthProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sock, err := transport.NewNetwork().Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		g := &blockingGame{block: make(chan chan struct{})}
		srv, err := server.NewWithConn(server.Config{Handler: g, Logger: slog.New(slog.DiscardHandler)}, sock)
		require.NoError(t, err)
		probe := func(h http.Handler) (int, string) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			return rec.Code, rec.Body.String()
		}
		health, ready := endpoint.Health(srv), endpoint.Ready(srv)
		code, body := probe(health)
		assert.Equal(t, http.StatusServiceUnavailable, code, body)
		code, _ = probe(ready)
		assert.Equal(t, http.StatusServiceUnavailable, code)

		go srv.Run()
		time.Sleep(time.Second)
		code, body = probe(health)
		assert.Equal(t, http.StatusOK, code, body)
		code, _ = probe(ready)
		assert.Equal(t, http.StatusOK, code)

		release := make(chan struct{})
		g.block <- release // the next Update blocks
		time.Sleep(endpoint.StalledAfter(srv.Config().Interval) + time.Second)
		code, body = probe(health)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Contains(t, body, "stalled")
		close(release)
		time.Sleep(100 * time.Millisecond)
		code, body = probe(health)
		assert.Equal(t, http.StatusOK, code, body)

		srv.Stop()
		<-srv.Done()
		code, _ = probe(ready)
		assert.Equal(t, http.StatusServiceUnavailable, code)
	})
}

// TestFlagsFromTheEnvironment: every flag can come from MPGS_<FLAG>; a
// flag given wins; a bad value names its variable.
func TestFlagsFromTheEnvironment(t *testing.T) {
	t.Setenv("MPGS_INTERVAL", "0s")
	code, _, errOut := runArgs("serve", "--listen", "127.0.0.1:0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--interval 0s", "taken from MPGS_INTERVAL")

	t.Setenv("MPGS_INTERVAL", "soon")
	code, _, errOut = runArgs("serve", "--listen", "127.0.0.1:0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `MPGS_INTERVAL="soon" (for --interval)`)

	t.Setenv("MPGS_INTERVAL", "0s")
	t.Setenv("MPGS_LOG_FORMAT", "json")
	_, _, errOut2, stop := serve(t, "--listen", "127.0.0.1:0", "--interval", "20ms")
	assert.Equal(t, 0, stop(), "the flag wins over MPGS_INTERVAL")
	var rec map[string]any
	line, _, _ := strings.Cut(errOut2.String(), "\n")
	assert.NoError(t, json.Unmarshal([]byte(line), &rec), "MPGS_LOG_FORMAT=json: %q", line)

	code, _, errOut = runArgs("serve", "--log-format", "xml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `--log-format "xml": want text or json`)
	_, _, errOut = runArgs("serve", "--help")
	assert.Contains(t, errOut, "MPGS_LOG_LEVEL")
}
