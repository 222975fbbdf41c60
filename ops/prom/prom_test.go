package prom_test

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/ops/prom"
	"github.com/mpgs/mpgameserver/server"
)

// gather returns the registry's metrics by name.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// value returns the value of the family's metric whose labels are
// name=value pairs.
func value(t *testing.T, f *dto.MetricFamily, labels ...string) float64 {
	t.Helper()
	require.NotNil(t, f)
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("%s has no metric %v", f.GetName(), labels)
	return 0
}

// TestCollectorMatchesTheSnapshot runs a server with three clients and
// junk on the side, on a fake clock, and checks the exported values
// against the server's own snapshot.
func TestCollectorMatchesTheSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		sock, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		key, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		srv, err := server.NewWithConn(server.Config{Handler: server.BaseHandler{}, RootKey: key, Logger: slog.New(slog.DiscardHandler)}, sock)
		require.NoError(t, err)
		go srv.Run()
		defer func() { srv.Stop(); <-srv.Done() }()

		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(prom.NewCollector(srv, prometheus.Labels{"server": "test"}))

		dial := func(addr string) (transport.Conn, error) { return net.Dial(netip.MustParseAddrPort(addr)) }
		var clients []*client.Client
		for range 3 {
			c := client.New(client.Config{ServerKey: key.Public(), Dial: dial})
			require.NoError(t, c.Connect(srv.Addr().String(), nil))
			clients = append(clients, c)
		}
		junk, err := net.Dial(srv.Addr())
		require.NoError(t, err)
		_, err = junk.WriteBatch([]transport.Datagram{{Data: []byte("not a datagram of the protocol")}})
		require.NoError(t, err)
		for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
			for _, c := range clients {
				c.Update()
			}
			time.Sleep(10 * time.Millisecond)
		}
		synctest.Wait()

		m := gather(t, reg)
		var s server.Snapshot
		srv.Snapshot(&s)
		require.Equal(t, 3, s.Connections)
		assert.Equal(t, 3.0, value(t, m["mpgameserver_connections"]))
		assert.Equal(t, 3.0, value(t, m["mpgameserver_connects_total"]))
		assert.Equal(t, float64(s.Stats.Ticks), value(t, m["mpgameserver_ticks_total"]))
		assert.Equal(t, float64(s.Stats.TickTimes.Count()), value(t, m["mpgameserver_tick_duration_seconds"]))
		assert.Positive(t, value(t, m["mpgameserver_tick_duration_seconds"]))
		assert.Equal(t, float64(s.Stats.DatagramsIn), value(t, m["mpgameserver_datagrams_received_total"]))
		assert.Equal(t, float64(s.Stats.Junk), value(t, m["mpgameserver_datagrams_dropped_total"], "reason", "junk"))
		assert.Equal(t, 1.0, value(t, m["mpgameserver_datagrams_dropped_total"], "reason", "junk"))
		assert.Equal(t, 0.0, value(t, m["mpgameserver_datagrams_dropped_total"], "reason", "auth"))
		assert.Equal(t, float64(s.Latencies.Count()), value(t, m["mpgameserver_client_latency_seconds"]))
		assert.Positive(t, value(t, m["mpgameserver_client_latency_seconds"]))
		assert.Equal(t, float64(s.Stats.Phase.Idle.Seconds()), value(t, m["mpgameserver_tick_phase_seconds_total"], "phase", "idle"))
		assert.Equal(t, "test", m["mpgameserver_connections"].GetMetric()[0].GetLabel()[0].GetValue())
		assert.Equal(t, 3.0, value(t, m["mpgameserver_hosts"]), "each client from a host of its own")
		assert.Equal(t, 1.0, value(t, m["mpgameserver_busiest_host_sessions"]))
		assert.Equal(t, 0.0, value(t, m["mpgameserver_host_limited_total"]))
		assert.Equal(t, 0.0, value(t, m["mpgameserver_browser_peers"], "state", "session"), "no browser carrier")
		assert.Equal(t, 0.0, value(t, m["mpgameserver_browser_peers_refused_total"], "reason", "per_host"))

		// Goodbyes are counted by reason.
		for _, c := range clients[:2] {
			c.Disconnect()
		}
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
			for _, c := range clients {
				c.Update()
			}
			time.Sleep(10 * time.Millisecond)
		}
		m = gather(t, reg)
		assert.Equal(t, 2.0, value(t, m["mpgameserver_disconnects_total"], "reason", "client"))
		assert.Equal(t, 1.0, value(t, m["mpgameserver_connections"]))
	})
}

// TestMetricsFollowTheConventions: names, units, help and types pass
// Prometheus' own linter, and Metrics lists exactly what is exported.
func TestMetricsFollowTheConventions(t *testing.T) {
	sock, err := transport.NewNetwork().Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
	require.NoError(t, err)
	srv, err := server.NewWithConn(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, sock)
	require.NoError(t, err)
	defer srv.Close()
	c := prom.NewCollector(srv, nil)
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	m := gather(t, reg)
	assert.Len(t, m, len(prom.Metrics()))
	for _, d := range prom.Metrics() {
		f := m[prom.Namespace+"_"+d.Name]
		if assert.NotNil(t, f, d.Name) {
			assert.Equal(t, d.Type, strings.ToLower(f.GetType().String()), d.Name)
		}
	}
}
