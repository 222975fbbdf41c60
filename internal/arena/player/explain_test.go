package player_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
)

// TestExplain: every error a player meets becomes a sentence without Go's
// error text in it.
func TestExplain(t *testing.T) {
	const server = "game.example:1474"
	dnsErr := fmt.Errorf("client: connect to nohost:1474: %w", &net.DNSError{Err: "no such host", Name: "nohost", IsNotFound: true})
	refused := &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvmsg", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name   string
		err    error
		server string
		want   string
	}{
		{"unknown host", dnsErr, "nohost:1474", "cannot find the server nohost: check the address"},
		{"lookup failed", &net.DNSError{Err: "server misbehaving", Name: "nohost", IsTemporary: true}, "nohost:1474", "cannot look up the server nohost: check the address and the network"},
		{"port by name", &net.DNSError{Err: "unknown port", Name: "udp/http"}, "localhost:http", "the port in localhost:http is not a number: write host:port, like 127.0.0.1:1474"},
		{"no port", fmt.Errorf("client: connect to 127.0.0.1: %w", &net.AddrError{Err: "missing port in address", Addr: "127.0.0.1"}), "127.0.0.1", `"127.0.0.1" is not a server address: write host:port, like 127.0.0.1:1474`},
		{"handshake timeout", conn.ErrHandshakeTimeout, server, "no answer from the server at game.example:1474: is it running?"},
		{"refused", refused, server, "no answer from the server at game.example:1474: is it running?"},
		{"bad signature", fmt.Errorf("%w: %w", conn.ErrHandshake, conn.ErrBadSignature), server, "the server's key does not match the pinned --pubkey: is it the right server, and the right key file?"},
		{"bad handshake", fmt.Errorf("%w: unexpected cookie reply", conn.ErrHandshake), server, "the server at game.example:1474 answered, but not as an mpgameserver server"},
		{"went silent", conn.ErrTimeout, server, "lost the connection: the server at game.example:1474 stopped answering"},
		{"closed by the server", conn.ErrPeerClosed, server, "the server at game.example:1474 closed the connection (it stopped, or let this player go)"},
		{"another game", player.ErrNotArena, server, "the server at game.example:1474 hosts another game, not the arena"},
		{"another version", &player.VersionError{Server: 3, Client: 1}, server, "the server at game.example:1474 runs another version of the arena: server v3, this client v1"},
		{"an older arena", &player.VersionError{Server: 0, Client: 1}, server, "the server at game.example:1474 runs an older version of the arena, from before v1: this client is v1"},
		{"closed here", conn.ErrLocalClose, server, "disconnected"},
		{"closed here, unacknowledged", conn.ErrCloseTimeout, server, "disconnected"},
		{"nothing", nil, server, "disconnected"},
		{"anything else", errors.New("boom"), server, "cannot play at game.example:1474: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := player.Explain(tc.err, tc.server)
			assert.Equal(t, tc.want, got)
			if tc.err != nil && tc.name != "anything else" {
				assert.NotContains(t, got, tc.err.Error(), "no raw Go error")
				assert.NotContains(t, got, "conn:")
			}
		})
	}
}

// TestExplainRealErrors: what Connect returns for a bad address is
// explained.
func TestExplainRealErrors(t *testing.T) {
	c := client.New(client.Config{})
	defer c.ForceDisconnect()
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1", "is not a server address"},
		{"127.0.0.1:99999", "is not a server address"},
	} {
		err := c.Connect(tc.addr, nil)
		if assert.Error(t, err, tc.addr) {
			got := player.Explain(err, tc.addr)
			assert.Contains(t, got, tc.want, tc.addr)
			assert.False(t, strings.Contains(got, "client:"), got)
		}
	}
}

// TestExplainFirefoxLoopback: no answer from a server on the loopback
// over the browser carrier (its signaling URL) adds what to do in
// Firefox, which reaches no such server with its default settings; any
// other server, carrier or failure does not.
func TestExplainFirefoxLoopback(t *testing.T) {
	const advice = "Firefox does not connect to a game server on the loopback: " +
		"have it listen on this machine's network address (the default --listen :1474 does) " +
		"and open the page at that address, or use Chrome."
	for _, server := range []string{
		"http://127.0.0.1:1474/rtc",
		"https://127.0.0.1/rtc",
		"http://127.8.9.10:8080/rtc",
		"http://localhost:8080/rtc",
		"http://LocalHost./rtc",
		"https://arena.localhost:8443/rtc",
		"http://[::1]:8080/rtc",
		"http://[::ffff:127.0.0.1]:8080/rtc",
	} {
		got := player.Explain(conn.ErrHandshakeTimeout, server)
		assert.Equal(t, "no answer from the server at "+server+": is it running? "+advice, got, server)
		// The handshake's timeout with the reason the client refused an answer.
		got = player.Explain(fmt.Errorf("%w: %w", conn.ErrHandshakeTimeout, errors.New("a reason")), server)
		assert.Contains(t, got, advice, server)
		assert.NotContains(t, got, "conn:", server)
	}
	for _, server := range []string{
		"https://game.example/rtc",
		"http://192.168.1.20:1474/rtc",
		"http://10.0.0.1:8080/rtc",
		"http://[2001:db8::1]:8080/rtc",
		"http://localhost.example/rtc",
		"http://notlocalhost/rtc",
		"http://128.0.0.1/rtc",
		"127.0.0.1:1474", // UDP, not the browser carrier
		"localhost:1474",
		"[::1]:1474",
		"ftp://127.0.0.1/rtc",
	} {
		got := player.Explain(conn.ErrHandshakeTimeout, server)
		assert.Equal(t, "no answer from the server at "+server+": is it running?", got, server)
	}
	// Other failures on the loopback say nothing of Firefox.
	for _, err := range []error{conn.ErrTimeout, conn.ErrPeerClosed, player.ErrNotArena, conn.ErrBadSignature} {
		got := player.Explain(err, "http://127.0.0.1:1474/rtc")
		assert.NotContains(t, got, "Firefox", err.Error())
	}
}
