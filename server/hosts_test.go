package server_test

import (
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/server"
)

// from returns a client configuration whose sockets all come from host,
// each on a port of its own, as a host's many connections do.
func (w *world) from(host string) func(*client.Config) {
	a := netip.MustParseAddr(host)
	return func(cfg *client.Config) {
		cfg.Dial = func(string) (transport.Conn, error) { return w.net.DialFrom(a, w.srv.Addr()) }
	}
}

// connectFrom connects a client from host and reports whether it got in
// (the server raised Connect for it).
func (w *world) connectFrom(host string) (*client.Client, bool) {
	w.t.Helper()
	c := w.newClient(w.from(host))
	if !w.tryConnect(c) {
		return c, false
	}
	r := w.h.(*recorder)
	want := fmt.Sprintf("connect %d", c.Token())
	pump(c, 3*time.Second, func() bool { return r.has(want) || c.Err() != nil })
	return c, r.has(want)
}

// TestSessionsPerHost: one host gets its share of sessions and no more,
// while another host's clients come in as usual; a place given back is
// taken again.
func TestSessionsPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, func(c *server.Config) { c.MaxSessionsPerHost = 3 })
		var in []*client.Client
		for i := range 5 {
			c, ok := w.connectFrom("10.9.9.9")
			if i < 3 {
				require.True(t, ok, "client %d of the host: %v", i, c.Err())
				in = append(in, c)
			} else {
				assert.False(t, ok, "client %d of the host is beyond its share", i)
			}
		}
		for i := range 3 {
			_, ok := w.connectFrom("10.8.8.8")
			require.True(t, ok, "client %d of another host", i)
		}
		var sn server.Snapshot
		waitFor(t, "the snapshot", 2*time.Second, func() bool { sn = w.snapshot(); return sn.Connections == 6 })
		assert.Positive(t, sn.Stats.HostLimited, "the refusals are counted")
		assert.Equal(t, 2, sn.Hosts)
		assert.Equal(t, 3, sn.BusiestHost)

		// One leaves; its place is free for the host again.
		in[0].Disconnect()
		pump(in[1], 3*time.Second, func() bool { return w.snapshot().Connections == 5 })
		_, ok := w.connectFrom("10.9.9.9")
		assert.True(t, ok, "a place given back is taken again")
	})
}

// TestSessionsPerIPv6Network: the addresses of one IPv6 /64 are one host.
func TestSessionsPerIPv6Network(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), func(c *server.Config) { c.MaxSessionsPerHost = 2 })
		_, ok := w.connectFrom("2001:db8:1:2::1")
		require.True(t, ok)
		_, ok = w.connectFrom("2001:db8:1:2:ffff::7")
		require.True(t, ok)
		_, ok = w.connectFrom("2001:db8:1:2::99")
		assert.False(t, ok, "a third address of the same /64")
		_, ok = w.connectFrom("2001:db8:1:3::1")
		assert.True(t, ok, "another /64 is another host")
	})
}

// TestForgedHandshakesDoNotLockAHostOut fills a host's share of
// handshakes with hellos that will never complete (as hellos forged in
// its name would); a real client of ours from that host is asked to prove
// its address and gets in.
func TestForgedHandshakesDoNotLockAHostOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), func(c *server.Config) { c.MaxSessionsPerHost = 4 })
		victim := netip.MustParseAddr("10.7.7.7")
		for range 6 {
			s, err := w.net.Listen(netip.AddrPortFrom(victim, 0))
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			hello := helloFrom(t, true) // the reference's hello: no cookie asked
			hello[0].Addr = w.srv.Addr()
			_, err = s.WriteBatch(hello)
			require.NoError(t, err)
		}
		waitFor(t, "the host's handshakes", 2*time.Second, func() bool {
			sn := w.snapshot()
			return sn.Pending == 4 && sn.Stats.HostLimited == 2
		})
		c, ok := w.connectFrom("10.7.7.7")
		require.True(t, ok, "the real client: %v", c.Err())
		assert.Positive(t, c.Stats().Cookies, "it proved its address with a cookie")
	})
}

// TestHandshakesBeyondTheShareAreDisconnected: handshakes of one host
// under way together may complete beyond its share; the ones beyond are
// told with a DISCONNECT, and the game never hears of them.
func TestHandshakesBeyondTheShareAreDisconnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, func(c *server.Config) { c.MaxSessionsPerHost = 2 })
		var cs []*client.Client
		results := make([]*bool, 4)
		for i := range results {
			c := w.newClient(w.from("10.6.6.6"))
			require.NoError(t, c.Connect(w.srv.Addr().String(), func(ok bool) { results[i] = &ok }))
			cs = append(cs, c)
		}
		// All four hellos go out in the same frame, before any handshake
		// completes.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			for _, c := range cs {
				c.Update()
			}
			time.Sleep(5 * time.Millisecond)
			if n := w.snapshot(); n.Connections == 2 && n.Pending == 0 && n.Stats.HostLimited >= 2 {
				break
			}
		}
		sn := w.snapshot()
		assert.Equal(t, 2, sn.Connections, "the host's share")
		assert.Equal(t, 0, sn.Pending, "the others are gone")
		connects := 0
		for _, e := range r.snapshot() {
			if len(e) > 8 && e[:8] == "connect " {
				connects++
			}
		}
		assert.Equal(t, 2, connects, "the game heard of two clients only")
		connected := 0
		for _, c := range cs {
			if c.Connected() {
				connected++
			}
		}
		assert.Equal(t, 2, connected, "the clients beyond the share know they are out")
	})
}

// TestNoBoundPerHost: -1 lifts the bound.
func TestNoBoundPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), func(c *server.Config) { c.MaxSessionsPerHost = -1 })
		for i := range server.DefaultMaxSessionsPerHost + 2 {
			_, ok := w.connectFrom("10.5.5.5")
			require.True(t, ok, "client %d", i)
		}
	})
}
