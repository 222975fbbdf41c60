package server_test

import (
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// These tests run the server on real UDP sockets on the loopback, in real
// time. Their limits are there to end a broken test, not to measure.

func startOnSocket(t *testing.T, h server.EventHandler, addr string) (*server.Server, *syncbuf.Buffer) {
	t.Helper()
	log := &syncbuf.Buffer{}
	srv, err := server.New(server.Config{Handler: h, RootKey: vectorsKey(t),
		Logger: slog.New(slog.NewTextHandler(log, nil))}, addr)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		<-srv.Done()
	})
	return srv, log
}

func TestEchoOverRealSockets(t *testing.T) {
	for _, network := range []struct{ name, addr string }{{"ipv4", "127.0.0.1:0"}, {"ipv6", "[::1]:0"}} {
		t.Run(network.name, func(t *testing.T) {
			if network.name == "ipv6" {
				l, err := net.ListenPacket("udp6", "[::1]:0")
				if err != nil {
					t.Skipf("no IPv6 loopback here: %v", err)
				}
				l.Close()
			}
			r := echoing(newRecorder())
			srv, log := startOnSocket(t, r, network.addr)
			var clients []*client.Client
			for i := 0; i < 4; i++ {
				c := client.New(client.Config{ServerKey: vectorsKey(t).Public()})
				t.Cleanup(c.ForceDisconnect)
				var ok *bool
				require.NoError(t, c.Connect(srv.Addr().String(), func(b bool) { ok = &b }))
				pump(c, 10*time.Second, func() bool { return ok != nil })
				require.True(t, ok != nil && *ok, "connect: %v", c.Err())
				clients = append(clients, c)
			}
			// A guaranteed message each, fragmented both ways: 1 MB for the
			// first client, several datagrams a tick under its window.
			for i, c := range clients {
				size := 4000
				if i == 0 {
					size = 1_000_000
				}
				msg := make([]byte, size)
				for j := range msg {
					msg[j] = byte(i + j)
				}
				msg[0] = 'G'
				require.NoError(t, c.SendGuaranteed(msg, nil))
			}
			for i, c := range clients {
				got := collect(c, 1, 30*time.Second)
				require.Len(t, got, 1, "client %d", i)
				want := make([]byte, len(got[0]))
				for j := range want {
					want[j] = byte(i + j)
				}
				want[0] = 'G'
				assert.Equal(t, want, got[0], "client %d: the echo is intact", i)
				assert.Len(t, got[0], map[bool]int{true: 1_000_000, false: 4000}[i == 0])
			}
			for _, c := range clients {
				c.WaitForDisconnect()
				assert.ErrorIs(t, c.Err(), conn.ErrLocalClose)
			}
			waitForReal(t, "the disconnects", func() bool {
				var sn server.Snapshot
				srv.Snapshot(&sn)
				return sn.Connections == 0 && len(r.snapshot()) == 9
			})
			assert.Contains(t, log.String(), "listening")
			assert.Equal(t, srv.Addr().String(), fmt.Sprint(srv.Addr()))
		})
	}
}

// TestServeAddressInUse: a second server on the same port fails at New,
// saying why.
func TestServeAddressInUse(t *testing.T) {
	srv, _ := startOnSocket(t, newRecorder(), "127.0.0.1:0")
	_, err := server.New(server.Config{Handler: newRecorder()}, srv.Addr().String())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "address already in use")
}

// waitForReal waits in real time, at most 10 s, for cond.
func waitForReal(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
