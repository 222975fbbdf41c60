package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/admin"
	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

var httpListening = regexp.MustCompile(`listening http=(\S+)`)

// serveHTTP runs `mpgameserver serve` with --http on a free port and
// returns the UDP address, the HTTP base URL and the outputs.
func serveHTTP(t *testing.T, args ...string) (udp, base string, out, errOut *syncbuf.Buffer, stop func() int) {
	t.Helper()
	udp, out, errOut, stop = serve(t, args...)
	var m []string
	require.Eventually(t, func() bool { m = httpListening.FindStringSubmatch(errOut.String()); return m != nil },
		10*time.Second, 5*time.Millisecond, "no http listening line: %s", errOut.String())
	return udp, "http://" + m[1], out, errOut, stop
}

// connected connects a client to addr and keeps it connected (updating
// it on a goroutine of its own) until the test ends; it returns the
// client's token.
func connected(t *testing.T, addr string, key *conn.PublicKey) uint32 {
	t.Helper()
	c := client.New(client.Config{ServerKey: key})
	ok := make(chan bool, 1)
	require.NoError(t, c.Connect(addr, func(r bool) { ok <- r }))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.Update()
		select {
		case r := <-ok:
			require.True(t, r, "connect")
			tok := c.Token()
			done := make(chan struct{})
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				for {
					select {
					case <-done:
						return
					case <-time.After(10 * time.Millisecond):
						c.Update()
					}
				}
			}()
			t.Cleanup(func() { close(done); <-stopped; c.ForceDisconnect() })
			return tok
		default:
		}
		require.True(t, time.Now().Before(deadline), "connect never ended")
		time.Sleep(5 * time.Millisecond)
	}
}

// document fetches the server's monitor document.
func document(t *testing.T, base string) *admin.Document {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/snapshot")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var d admin.Document
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	return &d
}

// TestAdminActionsNeedToken: every action the monitor takes over HTTP is
// refused (401) without the server's --admin-token or with a wrong one,
// and changes nothing; the right token works; a server without a token
// refuses every action (403).
func TestAdminActionsNeedToken(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	udp, base, out, _, _ := serveHTTP(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"),
		"--game", "echo", "--netsim", "--admin-token", "right")
	tok := connected(t, udp, pub)
	// The client counts itself connected at the server's hello, the server
	// one round trip later: wait until a snapshot shows it.
	require.Eventually(t, func() bool { return len(document(t, base).Snapshot.Peers) == 1 }, 10*time.Second, 20*time.Millisecond,
		"the server never showed the client")
	disconnect := base + "/api/v1/clients/" + strconv.FormatUint(uint64(tok), 10) + "/disconnect"

	do := func(method, url, body, auth string) int {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, auth := range []string{"", "Bearer wrong", "Bearer ", "right", "Basic right"} {
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, disconnect, "", auth), "disconnect with %q", auth)
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, base+"/api/v1/block", `{"addr":"127.0.0.1"}`, auth), "block with %q", auth)
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPut, base+"/api/v1/conditions", `{"token":0,"conditions":{"loss":0.5}}`, auth),
			"conditions with %q", auth)
	}
	// Nothing changed: the client is there, connected, not blocked, the
	// network perfect.
	before := document(t, base).Snapshot.Taken
	var d *admin.Document
	require.Eventually(t, func() bool { d = document(t, base); return d.Snapshot.Taken.After(before) }, 10*time.Second, 20*time.Millisecond,
		"a snapshot later, so that a change would show")
	require.Len(t, d.Snapshot.Peers, 1)
	assert.Equal(t, tok, d.Snapshot.Peers[0].Token)
	assert.Equal(t, conn.Connected, d.Snapshot.Peers[0].Status)
	assert.True(t, d.Network.All.Off())
	assert.Empty(t, d.Network.Clients)
	assert.NotContains(t, out.String(), "DISCONNECT")
	assert.True(t, d.Actions, "the server takes actions, with its token")

	// With the token: done.
	assert.Equal(t, http.StatusNoContent, do(http.MethodPost, disconnect, "", "Bearer right"))
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "DISCONNECT ") }, 10*time.Second, 10*time.Millisecond)

	// A server without a token takes no actions at all.
	_, base2, _, _, _ := serveHTTP(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--game", "echo")
	assert.Equal(t, http.StatusForbidden, do(http.MethodPost, base2+"/api/v1/block", `{"addr":"127.0.0.1"}`, "Bearer anything"))
	assert.False(t, document(t, base2).Actions)
}
