package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/server"
)

const testKeys = "../../internal/vectors/testdata/"

var playersLine = regexp.MustCompile(`^players (\d+) carrier (\w+) sent (\d+) refused 0 echoed (\d+) rtt-ms p50 [0-9.]+ p99 [0-9.]+\n$`)

// checkPlayers runs the players against server and checks its line.
func checkPlayers(t *testing.T, server, carrier string) {
	t.Helper()
	code, out, errOut := runArgs("players", "--server", server, "--pubkey", testKeys+"server_root.pub.pem",
		"--count", "3", "--rate", "20", "--duration", "3s")
	require.Equal(t, 0, code, errOut)
	m := playersLine.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.Equal(t, "3", m[1])
	assert.Equal(t, carrier, m[2])
	sent, _ := strconv.Atoi(m[3])
	echoed, _ := strconv.Atoi(m[4])
	assert.Positive(t, sent)
	assert.Positive(t, echoed, "echoes came back")
	assert.LessOrEqual(t, echoed, sent)
}

func TestPlayersOverUDP(t *testing.T) {
	checkPlayers(t, gameServer(t, "echo", testKeys+"server_root.key.pem"), "udp")
}

// TestPlayersOverWebRTC: pion players through a server whose browser
// peers share one UDP port (the batched socket under pion's ICE).
func TestPlayersOverWebRTC(t *testing.T) {
	root, err := conn.LoadPrivateKey(testKeys + "server_root.key.pem")
	require.NoError(t, err)
	udp, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	port := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	require.NoError(t, probe.Close())
	l, err := rtc.Listen(rtc.Config{ICE: rtc.Options{Host: netip.MustParseAddr("127.0.0.1"), Port: port}}, udp.LocalAddr())
	require.NoError(t, err)
	srv, err := server.NewWithConn(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, rtc.Merge(udp, l))
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	mux := http.NewServeMux()
	mux.Handle("/rtc", l.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	checkPlayers(t, hs.URL+"/rtc", "webrtc")
}

func TestPlayersFlags(t *testing.T) {
	for _, args := range [][]string{
		{"players"},
		{"players", "--server", "127.0.0.1:9", "--pubkey", testKeys + "server_root.pub.pem", "--count", "0"},
		{"players", "--server", "127.0.0.1:9", "--pubkey", testKeys + "server_root.pub.pem", "--size", "4"},
		{"players", "--server", "127.0.0.1:9", "--pubkey", testKeys + "server_root.pub.pem", "--rate", "0"},
	} {
		code, _, errOut := runArgs(args...)
		assert.NotEqual(t, 0, code, "%v", args)
		assert.NotEmpty(t, errOut)
	}
}
