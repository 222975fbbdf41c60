package main

import (
	"encoding/json"
	"io"
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
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/ops/admin"
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

// adminToken is the --admin-token of the tests' servers.
const adminToken = "test-token-0123456789abcdef"

// document fetches the server's monitor document, with the token (or
// none: "").
func document(t *testing.T, base string, token ...string) *admin.Document {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/snapshot", nil)
	require.NoError(t, err)
	if len(token) > 0 && token[0] != "" {
		req.Header.Set("Authorization", "Bearer "+token[0])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var d admin.Document
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	return &d
}

// TestAdminActionsNeedToken: every action the monitor takes over HTTP is
// refused (401) without the server's --admin-token or with a wrong one,
// and changes nothing; the right token works; who plays (addresses,
// tokens, the log's tail) is read with the token only; wrong tokens back
// off; a server without a token refuses every action (403); a token too
// short is refused at start.
func TestAdminActionsNeedToken(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	udp, base, out, _, _ := serveHTTP(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"),
		"--game", "echo", "--netsim", "--admin-token", adminToken)
	tok := connected(t, udp, pub)
	// The client counts itself connected at the server's hello, the server
	// one round trip later: wait until a snapshot shows it.
	require.Eventually(t, func() bool { return len(document(t, base, adminToken).Snapshot.Peers) == 1 }, 10*time.Second, 20*time.Millisecond,
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
	// Without a token (which counts for nothing), and with two wrong ones
	// (of the five an address may try in a minute).
	for _, auth := range []string{""} {
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, disconnect, "", auth), "disconnect with %q", auth)
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, base+"/api/v1/block", `{"addr":"127.0.0.1"}`, auth), "block with %q", auth)
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPut, base+"/api/v1/conditions", `{"token":0,"conditions":{"loss":0.5}}`, auth),
			"conditions with %q", auth)
	}
	assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, disconnect, "", "Bearer wrong-token-0123456789abcdef"))
	assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, base+"/api/v1/block", `{"addr":"127.0.0.1"}`, "Basic "+adminToken))

	// Nothing changed: the client is there, connected, not blocked, the
	// network perfect.
	before := document(t, base, adminToken).Snapshot.Taken
	var d *admin.Document
	require.Eventually(t, func() bool { d = document(t, base, adminToken); return d.Snapshot.Taken.After(before) }, 10*time.Second, 20*time.Millisecond,
		"a snapshot later, so that a change would show")
	require.Len(t, d.Snapshot.Peers, 1)
	assert.Equal(t, tok, d.Snapshot.Peers[0].Token)
	assert.Equal(t, conn.Connected, d.Snapshot.Peers[0].Status)
	assert.True(t, d.Network.All.Off())
	assert.Empty(t, d.Network.Clients)
	assert.NotContains(t, out.String(), "DISCONNECT")
	assert.True(t, d.Actions, "the server takes actions, with its token")
	assert.False(t, d.Redacted)

	// Without the token, who plays is not told.
	anon := document(t, base)
	assert.True(t, anon.Redacted)
	assert.Empty(t, anon.Snapshot.Peers)
	assert.Empty(t, anon.Logs)
	assert.Equal(t, 1, anon.Snapshot.Connections, "the counters stay")
	raw, err := http.Get(base + "/api/v1/snapshot")
	require.NoError(t, err)
	body, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	assert.NotContains(t, string(body), strconv.FormatUint(uint64(tok), 10), "the client's token")
	assert.Equal(t, 1, strings.Count(string(body), "127.0.0.1:"), "the server's own address only, no client's: %s", body)

	// A name the admin API is not known by (DNS rebinding) is refused.
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/snapshot", nil)
	require.NoError(t, err)
	req.Host = "rebind.example:80"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)

	// With the token: done.
	assert.Equal(t, http.StatusNoContent, do(http.MethodPost, disconnect, "", "Bearer "+adminToken))
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "DISCONNECT ") }, 10*time.Second, 10*time.Millisecond)

	// Guessing backs off: three more wrong tokens make five, and then even
	// the right one waits.
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, do(http.MethodPost, base+"/api/v1/block", `{"addr":"127.0.0.1"}`, "Bearer guess-0123456789abcdef"))
	}
	assert.Equal(t, http.StatusTooManyRequests, do(http.MethodPost, base+"/api/v1/block", `{"addr":"127.0.0.1"}`, "Bearer "+adminToken))

	// A server without a token takes no actions at all.
	_, base2, _, _, _ := serveHTTP(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--game", "echo")
	assert.Equal(t, http.StatusForbidden, do(http.MethodPost, base2+"/api/v1/block", `{"addr":"127.0.0.1"}`, "Bearer anything"))
	assert.False(t, document(t, base2).Actions)

	// A token an attacker could guess is refused before anything starts.
	code, _, errText := runArgs("serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--admin-token", "sesame")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errText, "too short")
}
