package prom_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpgs/mpgameserver/ops/prom"
	"github.com/mpgs/mpgameserver/server"
)

// A game server's metrics beside the game's own, served at /metrics.
func Example() {
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	matches := prometheus.NewCounter(prometheus.CounterOpts{Name: "mygame_matches_total", Help: "Matches played."})
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(srv, nil), matches, collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	// What a scrape reads (a test server stands in for http.ListenAndServe).
	web := httptest.NewServer(mux)
	defer web.Close()
	resp, err := http.Get(web.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "mpgameserver_connections ") || strings.HasPrefix(line, "mygame_matches_total ") {
			fmt.Println(line)
		}
	}
	// Output:
	// mpgameserver_connections 0
	// mygame_matches_total 0
}
