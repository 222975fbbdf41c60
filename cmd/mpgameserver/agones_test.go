package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
)

// sidecar is a fake Agones SDK sidecar: it records the calls of its REST
// API in order.
type sidecar struct {
	mu    sync.Mutex
	calls []string // "POST /ready", "PATCH /v1beta1/counters/players {...}"
	// gameServer is the answer to GET /gameserver (empty: not found).
	gameServer string
}

func (s *sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := r.Method + " " + r.URL.Path
	if r.Method == http.MethodPatch {
		call += " " + strings.Join(strings.Fields(string(body)), "")
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	switch r.URL.Path {
	case "/ready", "/health", "/shutdown":
		w.Write([]byte("{}"))
	case "/v1beta1/counters/players":
		w.Write([]byte(`{"name":"players","count":"0","capacity":"64"}`))
	case "/gameserver":
		if s.gameServer == "" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(s.gameServer))
	default:
		http.NotFound(w, r)
	}
}

func (s *sidecar) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *sidecar) count(call string) int {
	n := 0
	for _, c := range s.log() {
		if strings.HasPrefix(c, call) {
			n++
		}
	}
	return n
}

// TestServeInAnAgonesPod: with AGONES_SDK_HTTP_PORT set, serve tells the
// sidecar Ready, then Health again and again, keeps the players counter
// at the clients connected, and says Shutdown last when it stops.
func TestServeInAnAgonesPod(t *testing.T) {
	fake := &sidecar{}
	web := httptest.NewServer(fake)
	defer web.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(web.URL, "http://"))
	require.NoError(t, err)
	t.Setenv("AGONES_SDK_HTTP_PORT", port)

	addr, _, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "echo")
	c := client.New(client.Config{})
	require.NoError(t, c.Connect(addr, nil))
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && !cond(); {
			c.Update()
			time.Sleep(20 * time.Millisecond)
		}
		require.True(t, cond(), "%s; calls: %v; log: %s", what, fake.log(), errOut.String())
	}
	waitUntil("two health pings", func() bool { return fake.count("POST /health") >= 2 })
	waitUntil("the counter at 1", func() bool { return fake.count(`PATCH /v1beta1/counters/players {"count":"1"}`) == 1 })
	c.Disconnect()
	waitUntil("the counter back at 0", func() bool { return fake.count(`PATCH /v1beta1/counters/players {"count":"0"}`) >= 1 })
	assert.Equal(t, 0, stop())

	// The watch of the GameServer runs beside the rest, in any order;
	// of the calls that change the GameServer, Ready is first.
	var calls []string
	for _, c := range fake.log() {
		if !strings.HasPrefix(c, "GET /watch/") {
			calls = append(calls, c)
		}
	}
	require.NotEmpty(t, calls)
	assert.Equal(t, "POST /ready", calls[0], "Ready first, once the socket is bound")
	assert.Equal(t, 1, fake.count("POST /ready"))
	assert.Equal(t, "POST /shutdown", calls[len(calls)-1], "Shutdown last")
	assert.Equal(t, 1, fake.count("POST /shutdown"))
	assert.Contains(t, errOut.String(), "agones: talking to the SDK sidecar")
}

// TestServeAgonesChecksFlagsFirst: a bad flag is named before anything
// talks to the sidecar.
func TestServeAgonesChecksFlagsFirst(t *testing.T) {
	t.Setenv("AGONES_SDK_HTTP_PORT", "")
	code, _, errOut := runArgs("serve", "--agones", "--listen", "127.0.0.1:99999")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--listen", "flags are checked before Agones is called")
}

// TestServeWebInAnAgonesPod: in an Agones pod, --web takes the browser
// peers' UDP port from the GameServer's port named web-ice (Passthrough:
// the container binds it as it is) and offers the GameServer's address;
// a bot over WebRTC joins through it.
func TestServeWebInAnAgonesPod(t *testing.T) {
	icePort := freeUDPPort(t)
	fake := &sidecar{gameServer: fmt.Sprintf(`{"object_meta":{"name":"arena-x"},"status":{"state":"Scheduled","address":"127.0.0.1",
		"ports":[{"name":"game","port":7777},{"name":"web-ice","port":%d}]}}`, icePort)}
	side := httptest.NewServer(fake)
	defer side.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(side.URL, "http://"))
	require.NoError(t, err)
	t.Setenv("AGONES_SDK_HTTP_PORT", port)

	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	_, out, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--game", "arena",
		"--key", filepath.Join(dir, "root.key"))
	assert.Contains(t, errOut.String(), fmt.Sprintf("ice_port=%d public=[127.0.0.1]", icePort))
	_, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: icePort})
	require.Error(t, err, "the server holds the GameServer's web-ice port")
	botErr, stopBots := botsOverWebRTC(t, out, filepath.Join(dir, "root.pub"), 1)
	assert.Equal(t, 0, stopBots(), botErr.String())
	assert.Equal(t, 0, stop())
	assert.Equal(t, 1, fake.count("GET /gameserver"))
}
