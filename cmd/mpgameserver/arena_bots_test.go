package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/ops/admin"
)

// TestBotsCommandFailsLoudly: `mpgameserver bots` against nothing, a
// server of another game or a server with another key stops after the
// give-up time with exit status 1 and the reason on stderr, instead of
// retrying forever and exiting 0.
func TestBotsCommandFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	code, _, _ = runArgs("keygen", "--name", "other", dir)
	require.Equal(t, 0, code)
	echoAddr, _, _, _ := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "echo")
	arenaAddr, _, _, _ := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "arena")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	free := pc.LocalAddr().String()
	pc.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing listening", []string{"--server", free}, "no answer from the server at " + free + ": is it running?"},
		{"a server of another game", []string{"--server", echoAddr, "--pubkey", filepath.Join(dir, "root.pub")},
			"the server at " + echoAddr + " hosts another game, not the arena"},
		{"a wrong key", []string{"--server", arenaAddr, "--pubkey", filepath.Join(dir, "other.pub")},
			"the server's key does not match the pinned --pubkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runArgs(append([]string{"bots", "--count", "2", "--give-up", "6s"}, tc.args...)...)
			assert.Equal(t, 1, code, errOut)
			assert.Contains(t, out, "starting 2 bots for")
			assert.True(t, strings.HasPrefix(errOut, "mpgameserver bots: no bot could join the game in 6s: "+tc.want), errOut)
		})
	}
}

// TestBotsCommandStoppedBeforeJoining: bots stopped (here by --duration,
// as by Ctrl-C) while none had joined did not play: exit status 1 and the
// reason, not "bots left" and 0.
func TestBotsCommandStoppedBeforeJoining(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	free := pc.LocalAddr().String()
	pc.Close()
	code, out, errOut := runArgs("bots", "--count", "2", "--server", free, "--duration", "1s", "--give-up", "10m")
	assert.Equal(t, 1, code, errOut)
	assert.NotContains(t, out, "bots left")
	assert.Regexp(t, `^mpgameserver bots: stopped after \S+ before any bot joined the game: no answer from the server at `+regexp.QuoteMeta(free), errOut)
}

// TestBotsCommandServerGoesAway: bots that played lose their server; they
// try to come back, and once it stayed away for the give-up time the
// command fails saying so.
func TestBotsCommandServerGoesAway(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	addr, srvOut, _, stop := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "arena")
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- run(ctx, []string{"bots", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"), "--count", "2", "--give-up", "6s"}, out, errOut)
	}()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(srvOut.String(), "JOIN bot") < 2; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the bots never joined: %s", errOut.String())
	}
	require.Equal(t, 0, stop())
	select {
	case code := <-done:
		assert.Equal(t, 1, code)
		assert.True(t, strings.HasPrefix(errOut.String(), "mpgameserver bots: the server went away: no bot has been in the game for 6s: "), errOut.String())
	case <-time.After(time.Minute):
		t.Fatal("the bots command is still running a minute after its server stopped")
	}
}

// TestBotsOverWebRTC: --server takes the browser carrier's URL of a
// server run with --web; the bots join over WebRTC, as a browser would,
// through the one UDP port of --web-ice-port, and the server's table says
// so.
func TestBotsOverWebRTC(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	icePort := freeUDPPort(t)
	_, srvOut, srvErr, _ := serve(t, "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--key", filepath.Join(dir, "root.key"), "--game", "arena", "--web-ice-port", fmt.Sprint(icePort), "--admin-token", adminToken)
	_, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: icePort})
	require.Error(t, err, "the server holds --web-ice-port, the one port its browser peers use")
	errOut, stopBots := botsOverWebRTC(t, srvOut, filepath.Join(dir, "root.pub"), 2)
	m := httpListening.FindStringSubmatch(srvErr.String())
	require.NotNil(t, m, srvErr.String())
	var doc *admin.Document
	require.Eventually(t, func() bool { doc = document(t, "http://"+m[1], adminToken); return len(doc.Snapshot.Peers) == 2 },
		time.Minute, 20*time.Millisecond)
	for _, p := range doc.Snapshot.Peers {
		assert.Equal(t, "webrtc", p.Carrier)
	}
	assert.Equal(t, 0, stopBots(), errOut.String())
}

// freeUDPPort returns a UDP port of the loopback that nothing holds.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer probe.Close()
	return probe.LocalAddr().(*net.UDPAddr).Port
}

// botsOverWebRTC runs `bots --count n` against the browser carrier's URL
// of the server whose output is srvOut, until they all joined; stop ends
// them and returns the command's exit code.
func botsOverWebRTC(t *testing.T, srvOut *syncbuf.Buffer, pubkey string, n int) (errOut *syncbuf.Buffer, stop func() int) {
	t.Helper()
	web := regexp.MustCompile(`WEB (\S+)\n`).FindStringSubmatch(srvOut.String())
	require.NotNil(t, web, srvOut.String())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errOut = &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"bots", "--server", web[1] + "rtc", "--pubkey", pubkey, "--count", fmt.Sprint(n)}, io.Discard, errOut)
	}()
	for deadline := time.Now().Add(time.Minute); strings.Count(srvOut.String(), "JOIN bot") < n; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the bots never joined: %s", errOut.String())
	}
	return errOut, func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(time.Minute):
			t.Fatal("the bots did not stop")
			return -1
		}
	}
}
