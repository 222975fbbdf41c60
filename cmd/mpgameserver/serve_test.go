package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/web"
	"github.com/mpgs/mpgameserver/internal/echocheck"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/ops/admin"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runArgs("keygen", "--name", "game", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, filepath.Join(dir, "game.key"))
	priv, err := conn.LoadPrivateKey(filepath.Join(dir, "game.key"))
	require.NoError(t, err)
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "game.pub"))
	require.NoError(t, err)
	assert.True(t, priv.Public().Equal(pub))
	st, err := os.Stat(filepath.Join(dir, "game.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the private key is readable by its owner only")
	raw, err := os.ReadFile(filepath.Join(dir, "game.key"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "-----BEGIN PRIVATE KEY-----", "PKCS#8 PEM, like the reference's genkey")

	// The default name is root, like the reference's.
	code, _, _ = runArgs("keygen", dir)
	require.Equal(t, 0, code)
	assert.FileExists(t, filepath.Join(dir, "root.pub"))

	code, _, errOut = runArgs("keygen", "--name", "game", dir)
	assert.Equal(t, 1, code, "never overwrites a key")
	assert.Contains(t, errOut, filepath.Join(dir, "game.key"))
	code, _, errOut = runArgs("keygen")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "one directory")
	// A directory that cannot be made (a file is in the way) is named.
	code, _, errOut = runArgs("keygen", filepath.Join(dir, "root.pub", "sub"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, filepath.Join(dir, "root.pub", "sub"))
}

// serve runs `mpgameserver serve args...` until the test ends and returns
// the address from its READY line and its outputs.
func serve(t *testing.T, args ...string) (string, *syncbuf.Buffer, *syncbuf.Buffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), out, errOut) }()
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { cancel() })
	ready := regexp.MustCompile(`READY (\S+)`)
	// A bound for a broken server, not a measure: with --web and the arena,
	// a binary without the embedded WebAssembly builds it first.
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if m := ready.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, errOut, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no READY line; stderr: %s", errOut.String())
	return "", nil, nil, nil
}

func TestServeEchoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	addr, out, _, stop := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "echo")
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	var report bytes.Buffer
	_, failed := echocheck.Run(echocheck.Options{Server: addr, Key: pub, Out: &report, Frame: 5 * time.Millisecond})
	assert.Zero(t, failed, report.String())
	assert.Equal(t, 0, stop(), "a graceful stop exits 0")
	assert.Regexp(t, `CONNECT 127\.0\.0\.1:\d+ token=\d+ active=1`, out.String())
	assert.Regexp(t, `DISCONNECT 127\.0\.0\.1:\d+ msgs=\d+ bytes=\d+ active=0`, out.String())
}

// TestServeWebForEcho: --web takes browser clients of any game; the echo
// game has no page, and its clients come through the signaling beside
// it. The scenarios the echo tool runs over UDP pass over it, and the
// clients are counted with the UDP ones.
func TestServeWebForEcho(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	_, out, _, stop := serve(t, "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"))
	m := regexp.MustCompile(`WEB (\S+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "a WEB line before READY: %s", out.String())
	page := m[1]
	status, body := get(t, page)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "the echo game has no page")
	status, _ = get(t, page+"rtc")
	assert.Equal(t, http.StatusMethodNotAllowed, status, "the signaling takes POSTed offers")

	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	loopback := rtc.Dialer(rtc.NewAPI(rtc.Options{Host: netip.MustParseAddr("127.0.0.1")}))
	var report bytes.Buffer
	_, failed := echocheck.Run(echocheck.Options{Server: page + "rtc", Key: pub, Out: &report, Frame: 5 * time.Millisecond,
		Dial: loopback, ConnectTimeout: 10 * time.Second})
	assert.Zero(t, failed, report.String())
	assert.Equal(t, 0, stop())
	assert.Regexp(t, `CONNECT 127\.0\.0\.1:\d+ token=\d+ active=1`, out.String())
}

// TestServeWebOverTLS: with --web-cert and --web-key the page and the
// signaling are served over HTTPS only.
func TestServeWebOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	_, out, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--web-cert", cert, "--web-key", key)
	m := regexp.MustCompile(`WEB (https://\S+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	pool := x509.NewCertPool()
	certPEM, err := os.ReadFile(cert)
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(m[1])
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotNil(t, resp.TLS)
	plain, err := http.Get(strings.Replace(m[1], "https://", "http://", 1))
	require.NoError(t, err)
	plain.Body.Close()
	assert.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP is refused")

	// A peer that fails the TLS handshake makes no log line (a scanner
	// would fill the log).
	raw, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(m[1], "https://"), "/"))
	require.NoError(t, err)
	_, err = raw.Write(bytes.Repeat([]byte{0x16, 0x03, 0x01, 0xff}, 64))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, raw) // until the server closes it
	raw.Close()
	assert.Equal(t, 0, stop())
	assert.NotContains(t, errOut.String(), "handshake error")
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600))
	return cert, key
}

func TestServeWithoutKeyPrintsItsPublicKey(t *testing.T) {
	_, out, errOut, stop := serve(t, "--listen", "127.0.0.1:0")
	assert.Contains(t, errOut.String(), "no --key given")
	k, err := conn.ParsePublicKeyPEM([]byte(out.String()))
	require.NoError(t, err, "stdout starts with the public key to pin")
	assert.NotNil(t, k)
	assert.Equal(t, 0, stop())
}

func TestServeFlagErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.key")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--game", "chess"}, 1, `--game "chess"`},
		{[]string{"--key", missing}, 1, missing},
		{[]string{"--listen", "nowhere"}, 1, "--listen"},
		{[]string{"--log-level", "loud"}, 1, "--log-level"},
		{[]string{"--interval", "-1s", "--listen", "127.0.0.1:0"}, 1, "--interval"},
		{[]string{"--bogus"}, 2, "-bogus"},
		{[]string{"--pprof", "--listen", "127.0.0.1:0"}, 1, "--pprof needs --http"},
		{[]string{"--interval", "0"}, 1, "--interval 0s: want a positive duration"},
		{[]string{"--listen", "127.0.0.1:99999"}, 1, `--listen "127.0.0.1:99999": port "99999": want a number from 0 to 65535`},
		{[]string{"--listen", "127.0.0.1:0", "--http", "localhost:http2"}, 1, `--http "localhost:http2"`},
		{[]string{"--bots", "2", "--game", "echo"}, 1, "--bots 2: bots play the arena game only; add --game arena"},
		{[]string{"--bots", "-1", "--game", "arena"}, 1, "--bots -1: want 0 or more"},
		{[]string{"--max-rewind", "100ms"}, 1, "--scene, --replication, --budget and --max-rewind are the arena's; add --game arena"},
		{[]string{"--game", "arena", "--max-rewind", "11s"}, 1, "--max-rewind 11s: want at most 10s"},
		{[]string{"--record-addrs"}, 1, "--record-addrs needs --record"},
		{[]string{"--web", "8080"}, 1, `--web "8080": want host:port`},
		{[]string{"--web-cert", "c.pem"}, 1, "--web-cert and --web-key go together"},
		{[]string{"--web-cert", "c.pem", "--web-key", "k.pem"}, 1, "--web-cert needs --web"},
		{[]string{"--web", ":0", "--web-cert", missing, "--web-key", missing}, 1, missing},
		{[]string{"--web-ice-port", "1475"}, 1, "--web-ice-port and --web-public-ip need --web"},
		{[]string{"--web", ":0", "--web-ice-port", "70000"}, 1, "--web-ice-port 70000: want a port from 1 to 65535"},
		{[]string{"--web", ":0", "--web-public-ip", "example.com"}, 1, `--web-public-ip "example.com": want IP addresses`},
		{[]string{"--web", ":0", "--web-setups-per-ip", "0"}, 1, "--web-setups-per-ip 0: want 1 or more, or -1"},
	} {
		code, out, errOut := runArgs(append([]string{"serve"}, tc.args...)...)
		assert.Equal(t, tc.code, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
		// A rejected flag is all it says: no throw-away key, no log line.
		assert.Empty(t, out, tc.args)
		if tc.code == 1 {
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		}
	}
	code, _, errOut := runArgs("serve", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "READY")
}

// TestWaitStoppedGivesUp: a server that does not stop after a signal (a
// handler stuck) does not keep the process alive.
func TestWaitStoppedGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := waitStopped(ctx, make(chan error))
	assert.ErrorContains(t, err, "did not stop within")
	done := make(chan error, 1)
	done <- nil
	assert.NoError(t, waitStopped(context.Background(), done))
}

// TestServeWebWithoutTheArena: a binary without the arena embedded, and
// no --web-assets, builds nothing at start-up: it serves the signaling,
// warns, and its page says plainly that it was built without the arena
// and how to build one with it. A bad --web-assets is refused before
// anything binds.
func TestServeWebWithoutTheArena(t *testing.T) {
	if _, ok := web.Embedded(); ok {
		t.Skip("this test binary has the arena embedded (go generate ran)")
	}
	t.Chdir(t.TempDir()) // no source tree to build from, were it tried
	_, out, errOut, stop := serve(t, "--game", "arena", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0")
	m := regexp.MustCompile(`WEB (\S+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	assert.Contains(t, errOut.String(), "this binary was built without the arena for the browser")
	assert.NotContains(t, errOut.String(), "building")
	status, body := get(t, m[1])
	assert.Equal(t, http.StatusNotImplemented, status)
	assert.Contains(t, body, "go generate ./internal/arena/web")
	assert.Contains(t, body, "--web-assets")
	assert.Equal(t, 0, stop())

	code, out2, errText := runArgs("serve", "--game", "arena", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--web-assets", t.TempDir())
	assert.Equal(t, 1, code)
	assert.NotContains(t, out2, "READY")
	assert.Contains(t, errText, "--web-assets")
}

// TestServeWarnsOfAReadableKey: a --key file other users can read is
// warned about (anyone who reads it can pose as the server); keygen's
// 0600 file is not.
func TestServeWarnsOfAReadableKey(t *testing.T) {
	dir := t.TempDir()
	code, _, errText := runArgs("keygen", dir)
	require.Equal(t, 0, code, errText)
	key := filepath.Join(dir, "root.key")
	_, _, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--key", key)
	stop()
	assert.NotContains(t, errOut.String(), "can be read by other users")

	require.NoError(t, os.Chmod(key, 0o644))
	_, _, errOut, stop = serve(t, "--listen", "127.0.0.1:0", "--key", key)
	stop()
	assert.Contains(t, errOut.String(), "the root key file can be read by other users")
	assert.Contains(t, errOut.String(), "chmod 600")
}

// TestServeRecords: --record writes what the game was given. Bots join an
// arena; after the stop the recording holds their connects and messages
// in ticks that only go up, the world's checksum after every tick, and
// no address but hashes.
func TestServeRecords(t *testing.T) {
	dir := t.TempDir()
	_, out, errOut, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "arena", "--bots", "2", "--record", dir)
	awaitJoins(t, out, 2)
	// Until the recording holds a monitor's snapshot with both bots.
	deadline := time.Now().Add(time.Minute) // a bound for a broken server, not a measure
	for !recorded(dir, func(rec record.Record) bool {
		var d admin.Document
		return rec.Kind == record.KindSnapshot && json.Unmarshal(rec.Data, &d) == nil && len(d.Snapshot.Peers) == 2
	}) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, 0, stop())
	assert.Contains(t, errOut.String(), "recording what the game is given")

	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	var (
		ticks, sums, msgs int
		docs, worlds      int
		last              uint64
		peers             = map[uint32]bool{}
	)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch rec.Kind {
		case record.KindTick:
			require.Greater(t, rec.Tick, last, "ticks go up")
			last = rec.Tick
			ticks++
		case record.KindChecksum:
			require.Equal(t, last, rec.Tick, "the checksum of the tick just run")
			sums++
		case record.KindConnect:
			require.True(t, rec.Hashed, "addresses are hashed")
			peers[rec.Peer] = true
		case record.KindMessage:
			require.True(t, peers[rec.Peer], "messages of a client that connected")
			msgs++
		case record.KindSnapshot:
			var d admin.Document
			require.NoError(t, json.Unmarshal(rec.Data, &d))
			for _, p := range d.Snapshot.Peers {
				assert.False(t, p.Addr.IsValid(), "addresses are left out")
				assert.True(t, peers[p.Token])
			}
			if len(d.Snapshot.Peers) == 2 {
				docs++
			}
		case record.KindWorld:
			s, err := sim.ParseState(rec.Data)
			require.NoError(t, err)
			assert.LessOrEqual(t, s.Tick, uint32(last))
			worlds++
		}
	}
	assert.Positive(t, docs, "the monitor's snapshots, with both bots")
	assert.Positive(t, worlds, "the world's state")
	t.Logf("%d ticks, %d checksums, %d messages from %d clients", ticks, sums, msgs, len(peers))
	assert.Len(t, peers, 2)
	assert.Positive(t, msgs)
	assert.Equal(t, ticks, sums, "a checksum after every tick")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "127.0.0.1", "no address in %s", f)
	}
}

// recorded reports whether the recording in dir (being written) holds a
// record that is ok.
func recorded(dir string, ok func(record.Record) bool) bool {
	r, err := record.Open(dir)
	if err != nil {
		return false
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err == nil && ok(rec) {
			return true
		}
	}
}

// TestReplay: a recording of an arena with bots replays through a fresh
// handler with every tick's world the same; a game changed at one tick
// (a ship moved by a unit: what a changed constant does) is named at that
// very tick.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	_, out, _, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "arena", "--bots", "3", "--record", dir)
	awaitJoins(t, out, 3)
	// Until the recording holds two world states with the three ships: a
	// divergence just after they joined is then followed by a state.
	deadline := time.Now().Add(time.Minute) // a bound for a broken server, not a measure
	for time.Now().Before(deadline) {
		states := 0
		recorded(dir, func(rec record.Record) bool {
			if s, err := sim.ParseState(rec.Data); rec.Kind == record.KindWorld && err == nil && len(s.Ships) == 3 {
				states++
			}
			return states == 2
		})
		if states == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, 0, stop())

	code, got, errOut := runArgs("replay", dir)
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`(?m)^replay: verified=(\d+) diverged=none`).FindStringSubmatch(got)
	require.NotNil(t, m, got)
	n, _ := strconv.Atoi(m[1])
	assert.Positive(t, n)
	t.Logf("%s", got)

	// The game changed from one tick on: the replay names that tick.
	r, err := record.Open(dir)
	require.NoError(t, err)
	var at uint64
	ships := 0
	for at == 0 {
		rec, err := r.Next()
		require.NoError(t, err)
		switch rec.Kind {
		case record.KindConnect:
			ships++
		case record.KindTick:
			if ships == 3 {
				at = rec.Tick + 5
			}
		}
	}
	r.Close()
	r, err = record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	var report bytes.Buffer
	err = replayArena(r, &report, func(h *arena.Handler, tick uint64) {
		if tick == at {
			h.World().Ships[0].X += 1
		}
	})
	require.ErrorIs(t, err, errDiverged)
	assert.Contains(t, report.String(), fmt.Sprintf("diverged=tick %d:", at), report.String())
	assert.Regexp(t, `what differs: ship \d+ \(bot\d+\): x [0-9.e+-]+ \(recorded [0-9.e+-]+\)`, report.String(), "the moved ship, named")
	t.Logf("%s", report.String())

	code, _, errOut = runArgs("replay", filepath.Join(dir, "nope"))
	assert.Equal(t, 1, code)
	assert.NotEmpty(t, errOut)
	code, _, errOut = runArgs("replay", "--game", "echo", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `--game "echo"`)
}

// awaitJoins waits for n JOIN lines of an arena server's output.
func awaitJoins(t *testing.T, out *syncbuf.Buffer, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a bound for a broken server, not a measure
	for strings.Count(out.String(), "JOIN ") < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, n, strings.Count(out.String(), "JOIN "), "the bots joined")
}
