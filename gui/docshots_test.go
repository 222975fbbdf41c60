package gui

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/guitest"
)

// TestDocScreenshots takes the README's screenshots of the monitor
// attached to a server in another process, when MPGS_DOC_SHOTS names a
// directory: the overview with clients, a client's close-up under a
// simulated bad network, and the network panel.
//
//	MPGS_DOC_SHOTS=$PWD/assets/docs xvfb-run -a go test -run TestDocScreenshots ./gui/
func TestDocScreenshots(t *testing.T) {
	dir := os.Getenv("MPGS_DOC_SHOTS")
	if dir == "" {
		t.Skip("MPGS_DOC_SHOTS is not set")
	}
	w := guitest.Get(t, win)
	key, pubPath := keygen(t)
	pub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	s := startServe(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo", "--netsim", "--admin-token", "sesame-0123456789abcdef")
	stop := make(chan struct{})
	wg := trafficTo(t, s.udp, pub, 12, stop)
	defer func() { close(stop); wg.Wait() }()
	m, _, in := attach(t, w, s.http, "sesame-0123456789abcdef")
	require.Eventually(t, inWindow(w, func() bool { return len(m.rows) == 12 && m.hist.Seconds() >= 40 }), 120*time.Second, 100*time.Millisecond)
	press(t, w, in, ebiten.KeyDown, ebiten.KeyDown, ebiten.KeyDown)
	save := func(name string) {
		img := capture(t, m)
		f, err := os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		require.NoError(t, enc.Encode(f, image.Image(img)))
		require.NoError(t, f.Close())
		t.Logf("saved %s", f.Name())
	}
	save("monitor-attached.png")

	// The third client up close, with a bad network: 20% loss, 40 ms
	// latency, ±10 ms jitter.
	press(t, w, in, ebiten.KeyEnter, ebiten.KeyN)
	press(t, w, in, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyDown,
		ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyDown, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyEnter)
	require.Eventually(t, inWindow(w, func() bool { return m.status.sim != "" && m.toast.text == "" }), 30*time.Second, 100*time.Millisecond)
	save("monitor-network.png")
	press(t, w, in, ebiten.KeyEscape)
	time.Sleep(40 * time.Second) // let the close-up show the bad network
	require.Eventually(t, inWindow(w, func() bool { return m.toast.text == "" }), 30*time.Second, 100*time.Millisecond)
	save("monitor-client.png")
}
