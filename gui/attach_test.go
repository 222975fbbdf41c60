package gui

import (
	"context"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
)

// attach attaches a monitor to the server at url (polled four times a
// second, to keep the tests short) and shows it in the window until the
// test ends.
func attach(t *testing.T, w *guitest.Window, url, token string) (*Monitor, *admin.Remote, *script) {
	t.Helper()
	remote := admin.Attach(url, token, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go remote.Run(ctx, 250*time.Millisecond)
	m, err := NewMonitor(remote)
	require.NoError(t, err)
	in := scripted(m)
	hide := w.Show(m)
	t.Cleanup(func() { hide(); cancel() })
	return m, remote, in
}

// busy reports whether a series had at least min in each of its last n
// seconds up to sec.
func busy(s *history.Series, sec int64, n int, min int64) bool {
	for i := 0; i < n; i++ {
		if s.At(sec-int64(i)) < min {
			return false
		}
	}
	return true
}

// sum adds a series' values.
func sum(s *history.Series) int64 {
	var n int64
	for _, v := range s.Values(nil) {
		n += v
	}
	return n
}

// lineMin is how many pixels a line of n seconds at least covers in plot
// area a on an axis of span seconds: a pixel per column it spans.
func lineMin(n, span int, a plot.Rect) int {
	return int(float64(n-1) / float64(span-1) * float64(a.W))
}

// bandPixels counts the pixels of a warning band's color under the
// header, where the first band goes.
func bandPixels(img *image.RGBA, c plot.Color) int {
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 1)
	return count(img, l.bands[0], c, 2)
}

// TestAttachedMonitorFollowsServer attaches the monitor to a server in
// another process (mpgameserver serve --http) with three clients: the
// plots and the table fill; the server stops: the window says it lost
// contact; a new server on the same HTTP address: the window picks up.
func TestAttachedMonitorFollowsServer(t *testing.T) {
	w := guitest.Get(t, win)
	key, pubPath := keygen(t)
	pub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	const token = "read-token-0123456789abcdef"
	s1 := startServe(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo", "--admin-read-token", token)
	stop := make(chan struct{})
	wg := trafficTo(t, s1.udp, pub, 3, stop)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			wg.Wait()
		}
	}()
	m, _, _ := attach(t, w, s1.http, token) // a watcher: the read token

	require.Eventually(t, inWindow(w, func() bool {
		h := m.hist
		return m.snap.Connections == 3 && h.Seconds() >= 5 && busy(&h.PktsIn, h.Last(), 3, 50)
	}), 60*time.Second, 50*time.Millisecond, "the attached monitor never showed the traffic")
	img := capture(t, m)
	savePNG(t, img, "monitor-attached")
	pal := defaultPalette()
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	var n int
	w.Between(func() {
		n = m.hist.Seconds()
		assert.Equal(t, s1.http, m.status.remote)
		assert.Empty(t, m.status.lost)
		assert.Equal(t, "live", m.status.age)
		assert.Equal(t, s1.udp, m.snap.Addr.String())
	})
	assert.Greater(t, bright(img, l.header), 800, "header text")
	for _, id := range []int{plotPackets, plotBytes} {
		a := plotArea(l.plots[id])
		assert.Greater(t, count(img, a, pal.Sent, 2), lineMin(n, 60, a)/2, "sent line in plot %d", id)
		assert.Greater(t, count(img, a, pal.Received, 2), lineMin(n, 60, a), "received line in plot %d", id)
	}
	assert.Greater(t, count(img, plotArea(l.plots[plotTicks]), pal.Ticks, 2), lineMin(n, 60, plotArea(l.plots[plotTicks])), "ticks line")
	for i := 0; i < 4; i++ {
		if i < 3 {
			assert.Greater(t, bright(img, l.tableRow(i)), 150, "table row %d", i)
		} else {
			assert.Less(t, bright(img, l.tableRow(i)), 20, "no fourth row")
		}
	}
	assert.Zero(t, bandPixels(img, pal.Warn), "no lost-contact band")

	// The server goes away.
	close(stop)
	wg.Wait()
	stopped = true
	s1.stop(t)
	require.Eventually(t, inWindow(w, func() bool {
		return strings.HasPrefix(m.status.lost, "lost contact with "+s1.http+": reconnecting (")
	}), 30*time.Second, 50*time.Millisecond, "the monitor never said it lost contact")
	img = capture(t, m)
	savePNG(t, img, "monitor-lost")
	band := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 1).bands[0]
	assert.Greater(t, bandPixels(img, pal.Warn), int(band.W*band.H)/2, "the lost-contact band")
	// It keeps counting how old its data is.
	require.Eventually(t, inWindow(w, func() bool { return m.status.stale }), 30*time.Second, 50*time.Millisecond)
	w.Between(func() { assert.Contains(t, m.status.age, "no new data for") })

	// A server returns on the same HTTP address (a new UDP port).
	s2 := startServe(t, "--listen", "127.0.0.1:0", "--http", strings.TrimPrefix(s1.http, "http://"), "--key", key, "--game", "echo",
		"--admin-read-token", token)
	require.Eventually(t, inWindow(w, func() bool {
		return m.status.lost == "" && m.snap.Addr.String() == s2.udp && !m.status.stale
	}), 30*time.Second, 50*time.Millisecond, "the monitor never picked up the new server")
	img = capture(t, m)
	savePNG(t, img, "monitor-back")
	assert.Zero(t, bandPixels(img, pal.Warn), "the band is gone")
	assert.Greater(t, bright(img, l.header), 800, "header text")
}

// TestAttachedCloseUpAndActions: a client selected in the attached
// window shows its own series; D, Y disconnects it (the server's
// Disconnect event runs: the echo game prints DISCONNECT); B, Y blocks
// the other's address: that client is disconnected and its next connect
// fails.
func TestAttachedCloseUpAndActions(t *testing.T) {
	w := guitest.Get(t, win)
	key, pubPath := keygen(t)
	pub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	s := startServe(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo", "--admin-token", "sesame-0123456789abcdef")
	stop := make(chan struct{})
	wg := trafficTo(t, s.udp, pub, 2, stop)
	defer func() { close(stop); wg.Wait() }()
	m, remote, in := attach(t, w, s.http, "sesame-0123456789abcdef")
	require.Eventually(t, inWindow(w, func() bool { return len(m.rows) == 2 && m.actions }), 60*time.Second, 50*time.Millisecond)
	assert.True(t, remote.Actions())

	press(t, w, in, ebiten.KeyDown, ebiten.KeyEnter)
	var (
		tok  uint32
		addr string
	)
	w.Between(func() {
		require.Equal(t, viewClient, m.view)
		tok = m.selected
		c := m.clients.Get(tok)
		require.NotNil(t, c)
		addr = c.Last.Addr.String()
	})
	var n int
	require.Eventually(t, inWindow(w, func() bool {
		c := m.clients.Get(tok)
		if c == nil {
			return false
		}
		n = c.Seconds()
		return n >= 6 && busy(&c.PktsIn, c.Second(), 5, 20) && busy(&c.Latency, c.Second(), 5, 1)
	}), 60*time.Second, 50*time.Millisecond, "the client's series never filled")
	img := capture(t, m)
	savePNG(t, img, "monitor-client")
	pal := defaultPalette()
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	assert.Greater(t, bright(img, l.facts), 1000, "the client's facts")
	// The series of the last 5 seconds at least (a new snapshot may have
	// come since).
	a := plotArea(l.cplots[cplotLatency])
	assert.Greater(t, count(img, a, pal.Ticks, 2), lineMin(5, 60, a), "latency line")
	for _, id := range []int{cplotPackets, cplotBytes} {
		a := plotArea(l.cplots[id])
		assert.Greater(t, count(img, a, pal.Received, 2), lineMin(5, 60, a), "received line in client plot %d", id)
		assert.Greater(t, count(img, a, pal.Sent, 2), lineMin(5, 60, a)/2, "sent line in client plot %d", id)
	}
	d := plotArea(l.cplots[cplotDrops])
	center := plot.Rect{X: d.X + d.W/2 - 60, Y: d.Y + d.H/2 - 12, W: 120, H: 30}
	assert.Greater(t, count(img, center, pal.Dim, 40), 30, "'no drops'")

	// D: a question over the close-up; Y: the server disconnects it.
	press(t, w, in, ebiten.KeyD)
	img = capture(t, m)
	savePNG(t, img, "monitor-confirm")
	assert.Greater(t, count(img, plot.Rect{X: 0, Y: 0, W: l.W, H: l.H}, pal.Warn, 2), 1000, "the question's frame and keys")
	press(t, w, in, ebiten.KeyY)
	require.Eventually(t, func() bool { return strings.Contains(s.stdout.String(), "DISCONNECT "+addr+" ") },
		30*time.Second, 20*time.Millisecond, "the server never disconnected %s", addr)
	require.Eventually(t, inWindow(w, func() bool { return m.toast.text == fmt.Sprintf("disconnected client %d", tok) }),
		30*time.Second, 20*time.Millisecond)
	assert.Equal(t, 1, strings.Count(s.stdout.String(), "DISCONNECT "), "only that client")

	// Back to the overview; the other client is the only row left.
	press(t, w, in, ebiten.KeyEscape)
	require.Eventually(t, inWindow(w, func() bool { return len(m.rows) == 1 }), 30*time.Second, 50*time.Millisecond)
	press(t, w, in, ebiten.KeyHome, ebiten.KeyB, ebiten.KeyY)
	require.Eventually(t, inWindow(w, func() bool { return m.toast.text == "blocked 127.0.0.1" }), 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Count(s.stdout.String(), "DISCONNECT ") == 2 },
		30*time.Second, 20*time.Millisecond, "the blocked address's client is disconnected")
	c := client.New(client.Config{ServerKey: pub, HandshakeTimeout: time.Second})
	result := make(chan bool, 1)
	require.NoError(t, c.Connect(s.udp, func(ok bool) { result <- ok }))
	defer c.ForceDisconnect()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.Update()
		select {
		case ok := <-result:
			assert.False(t, ok, "a blocked address cannot connect")
			return
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the connect never ended")
}

// TestAttachedNetsimLossOnOneClient: 20% loss applied from the window to
// one client of a server started with --netsim: its resends and timeouts
// rise while the other client's stay at zero, and a band says so on
// every screen until 0 resets it.
func TestAttachedNetsimLossOnOneClient(t *testing.T) {
	w := guitest.Get(t, win)
	key, pubPath := keygen(t)
	pub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	s := startServe(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo", "--netsim", "--admin-token", "sesame-0123456789abcdef")
	stop := make(chan struct{})
	wg := trafficTo(t, s.udp, pub, 2, stop)
	defer func() { close(stop); wg.Wait() }()
	m, remote, in := attach(t, w, s.http, "sesame-0123456789abcdef")
	require.Eventually(t, inWindow(w, func() bool { return len(m.rows) == 2 && m.network.Available }), 60*time.Second, 50*time.Millisecond)

	// The first client up close, its network panel: loss to 20%, Enter.
	press(t, w, in, ebiten.KeyDown, ebiten.KeyEnter, ebiten.KeyN)
	var lossy, other uint32
	w.Between(func() {
		lossy = m.selected
		for _, r := range m.rows {
			if r.Token != lossy {
				other = r.Token
			}
		}
		assert.True(t, m.net.open)
		assert.Equal(t, lossy, m.net.target)
	})
	require.NotZero(t, other)
	press(t, w, in, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual)
	img := capture(t, m)
	savePNG(t, img, "monitor-network")
	pal := defaultPalette()
	assert.Greater(t, count(img, plot.Rect{W: float32(img.Bounds().Dx()), H: float32(img.Bounds().Dy())}, pal.Sim, 2), 1000, "the panel's frame")
	press(t, w, in, ebiten.KeyEnter)
	require.Eventually(t, func() bool { return remote.Network().Clients[lossy].Loss == 0.2 }, 30*time.Second, 20*time.Millisecond,
		"the server never got the conditions")
	want := fmt.Sprintf("SIMULATED NETWORK: client %d: 20%% loss", lossy)
	require.Eventually(t, inWindow(w, func() bool { return m.status.sim == want }), 30*time.Second, 20*time.Millisecond)
	press(t, w, in, ebiten.KeyEscape)
	img = capture(t, m)
	assert.Greater(t, bandPixels(img, pal.Sim), 1000, "the band on the close-up")

	// Its resends and timeouts rise; the other's stay at zero.
	require.Eventually(t, inWindow(w, func() bool {
		c := m.clients.Get(lossy)
		return c != nil && sum(&c.Resent)+sum(&c.Timeouts) >= 5
	}), 90*time.Second, 100*time.Millisecond, "the lossy client's resends and timeouts never rose")
	w.Between(func() {
		c, o := m.clients.Get(lossy), m.clients.Get(other)
		require.NotNil(t, o)
		t.Logf("lossy client %d: resent %d, timed out %d in its series; other client %d: %d, %d",
			lossy, sum(&c.Resent), sum(&c.Timeouts), other, sum(&o.Resent), sum(&o.Timeouts))
		assert.Zero(t, sum(&o.Resent)+sum(&o.Timeouts), "the other client's series")
		assert.Zero(t, o.Last.Stats.Resent+o.Last.Stats.Timeouts, "the other client's counters")
	})
	img = capture(t, m)
	savePNG(t, img, "monitor-lossy")
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 1)
	a := plotArea(l.cplots[cplotResends])
	assert.Greater(t, count(img, a, pal.Resent, 2)+count(img, a, pal.Timeouts, 2), 20, "the resends plot rose")

	// The overview shows the band too; N, 0 makes the link perfect again.
	press(t, w, in, ebiten.KeyEscape)
	img = capture(t, m)
	assert.Greater(t, bandPixels(img, pal.Sim), 1000, "the band on the overview")
	w.Between(func() { m.cursor = lossy })
	press(t, w, in, ebiten.KeyN, ebiten.KeyT, ebiten.Key0)
	require.Eventually(t, inWindow(w, func() bool { return m.status.sim == "" }), 30*time.Second, 20*time.Millisecond, "the band never went")
	assert.Empty(t, remote.Network().Clients)
}

// TestAttachedWithoutTokenIsRedacted: a window attached without the
// server's token shows the counters but not who plays, and says what it
// needs.
func TestAttachedWithoutTokenIsRedacted(t *testing.T) {
	w := guitest.Get(t, win)
	key, pubPath := keygen(t)
	pub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	s := startServe(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo", "--admin-token", "sesame-0123456789abcdef")
	stop := make(chan struct{})
	wg := trafficTo(t, s.udp, pub, 2, stop)
	defer func() { close(stop); wg.Wait() }()
	m, remote, _ := attach(t, w, s.http, "")
	require.Eventually(t, inWindow(w, func() bool { return m.snap.Connections == 2 && m.redacted }), 60*time.Second, 50*time.Millisecond)
	assert.True(t, remote.Redacted())
	w.Between(func() {
		assert.Empty(t, m.rows, "no client rows without the token")
		assert.Empty(t, m.snap.Peers)
		assert.False(t, m.actions)
	})
}
