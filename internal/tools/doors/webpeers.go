//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// The web-peers attack.
const (
	// junkSize is the junk each peer sends a second.
	junkSize = 100
	// setupWorkers is how many peers set up at a time: the server's
	// default bound on one address's peers setting up.
	setupWorkers = 8
	// openWithin is how long a peer's channel has to open once its offer
	// was answered (the server's own limit is 15 s).
	openWithin = 15 * time.Second
	// busyRetry and busyFor: an offer refused with 429 (too many setting
	// up from this address) is posted again every busyRetry, for busyFor.
	busyRetry = 200 * time.Millisecond
	busyFor   = 10 * time.Second
	// setupDeadline bounds the setting up of every peer; the peers left
	// count as not tried.
	setupDeadline = 3 * time.Minute
	// giveUpAfter: after this many offers refused in a row, the server
	// clearly refuses the attacker, and the rest are not tried.
	giveUpAfter = 256
	// browsersAfter is when, into the hold, new browser players try.
	browsersAfter = 10 * time.Second
)

// runWebPeers opens --peers WebRTC peers from 127.0.0.1 that send junk
// on the game's channel and never the game's handshake, and holds them.
func runWebPeers(ctx context.Context, t *tool) row { return t.arenaRun(ctx, webPeers) }

// junkPeer is one of the attacker's peers.
type junkPeer struct {
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
	opened chan struct{}
	gone   atomic.Bool // its channel closed, or the connection failed
}

// alive reports whether p's channel is open and its connection neither
// failed nor closed.
func (p *junkPeer) alive() bool {
	select {
	case <-p.opened:
	default:
		return false
	}
	if p.gone.Load() || p.dc.ReadyState() != webrtc.DataChannelStateOpen {
		return false
	}
	s := p.pc.ConnectionState()
	return s != webrtc.PeerConnectionStateFailed && s != webrtc.PeerConnectionStateClosed
}

// peerTally counts the attacker's peers.
type peerTally struct {
	mu                      sync.Mutex
	tried, answered, opened int
	busy                    int            // 429s, retried
	refused                 map[string]int // offers not answered, by status or error
	peers                   []*junkPeer    // answered
	streak                  int            // offers refused in a row
}

// String is the tally so far, for the progress lines.
func (t *peerTally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("tried %d, answered %d, opened %d, 429 retried %d, refused %s", t.tried, t.answered, t.opened, t.busy, counts(t.refused))
}

// counts formats counts by key, largest first.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d× %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// webPeers sets the peers up, holds them (new browser players try in the
// meantime) and counts those still open.
func webPeers(ctx context.Context, a *arenaEnv) outcome {
	if err := a.needs("web"); err != nil {
		return outcome{achieved: "did not run: " + err.Error()}
	}
	url := "http://" + a.srv.web + "/rtc"
	api := pionAPI(nil)
	hcs := make([]*http.Client, a.opts.sources)
	for i := range hcs {
		from := netip.Addr{} // the default source, 127.0.0.1
		if a.opts.sources > 1 {
			from = netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)})
		}
		hcs[i] = httpFrom(from, signalWithin)
	}
	tally := &peerTally{refused: map[string]int{}}
	junk := make([]byte, junkSize)
	_, _ = rand.Read(junk)
	jctx, stopJunk := context.WithCancel(ctx)
	defer stopJunk()
	go sendJunk(jctx, tally, junk)

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range setupWorkers * a.opts.sources {
		wg.Go(func() {
			for ctx.Err() == nil && time.Since(start) < setupDeadline {
				n := next.Add(1)
				if n > int64(a.opts.peers) {
					return
				}
				hc := hcs[int(n)%len(hcs)]
				tally.mu.Lock()
				stop := tally.streak >= giveUpAfter
				tally.mu.Unlock()
				if stop {
					return
				}
				setupPeer(ctx, api, hc, url, tally)
			}
		})
	}
	progress := time.NewTicker(5 * time.Second)
	setupDone := make(chan struct{})
	go func() { wg.Wait(); close(setupDone) }()
wait:
	for {
		select {
		case <-setupDone:
			break wait
		case <-progress.C:
			a.logf("web-peers: %v", tally)
		}
	}
	progress.Stop()
	setup := time.Since(start)
	a.logf("web-peers: set up in %v: %v; holding for %v", setup.Round(time.Second), tally, a.opts.duration)

	holdEnd := time.Now().Add(a.opts.duration)
	joined := make(chan browsersJoined, 1)
	go func() {
		if sleep(ctx, browsersAfter) {
			joined <- joinBrowsers(ctx, url, a.pub)
		} else {
			joined <- browsersJoined{}
		}
	}()
	sleep(ctx, time.Until(holdEnd))
	alive := 0
	tally.mu.Lock()
	peers := tally.peers
	for _, p := range peers {
		if p.alive() {
			alive++
		}
	}
	tally.mu.Unlock()
	browsers := <-joined
	stopJunk()
	closeAll(peers)

	tally.mu.Lock()
	defer tally.mu.Unlock()
	s := fmt.Sprintf("%d peers tried in %v: %d answered", tally.tried, setup.Round(time.Second), tally.answered)
	if len(tally.refused) > 0 {
		s += " (refused: " + counts(tally.refused) + ")"
	}
	if tally.busy > 0 {
		s += fmt.Sprintf(", %d× 429 retried", tally.busy)
	}
	s += fmt.Sprintf(", %d opened, %d open after %v", tally.opened, alive, a.opts.duration)
	if left := a.opts.peers - tally.tried; left > 0 {
		why := fmt.Sprintf("%d refused in a row", tally.streak)
		if tally.streak < giveUpAfter {
			why = fmt.Sprintf("set-up deadline of %v", setupDeadline)
		}
		s += fmt.Sprintf("; %d not tried (%s)", left, why)
	}
	return outcome{achieved: s, browsers: browsers}
}

// setupPeer sets up one peer: it posts its offer (again while the
// answer is 429, for busyFor), applies the answer and waits for the
// channel to open.
func setupPeer(ctx context.Context, api *webrtc.API, hc *http.Client, url string, tally *peerTally) {
	refuse := func(why string) {
		tally.mu.Lock()
		tally.tried++
		tally.refused[why]++
		tally.streak++
		tally.mu.Unlock()
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		refuse("ours: " + short(err))
		return
	}
	dc, err := newDataChannel(pc)
	if err != nil {
		_ = pc.Close()
		refuse("ours: " + short(err))
		return
	}
	p := &junkPeer{pc: pc, dc: dc, opened: make(chan struct{})}
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { close(p.opened) }) })
	dc.OnClose(func() { p.gone.Store(true) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			p.gone.Store(true)
		}
	})
	offer, err := newOffer(ctx, pc)
	if err != nil {
		_ = pc.Close()
		refuse("ours: " + short(err))
		return
	}
	body, _ := json.Marshal(offer) // a session description always marshals
	first := time.Now()
	var s signaled
	for {
		s = postSignal(ctx, hc, url, body)
		if s.status != http.StatusTooManyRequests || time.Since(first) > busyFor || ctx.Err() != nil {
			break
		}
		tally.mu.Lock()
		tally.busy++
		tally.mu.Unlock()
		sleep(ctx, busyRetry)
	}
	if s.answer == nil {
		_ = pc.Close()
		if s.status != 0 {
			refuse(fmt.Sprint(s.status))
		} else {
			refuse("no answer: " + short(s.err))
		}
		return
	}
	if err := pc.SetRemoteDescription(*s.answer); err != nil {
		_ = pc.Close()
		refuse("bad answer: " + short(err))
		return
	}
	tally.mu.Lock()
	tally.tried++
	tally.answered++
	tally.streak = 0
	tally.peers = append(tally.peers, p)
	tally.mu.Unlock()
	select {
	case <-p.opened:
		tally.mu.Lock()
		tally.opened++
		tally.mu.Unlock()
	case <-time.After(openWithin):
		_ = pc.Close()
	case <-ctx.Done():
	}
}

// sendJunk sends junk on every open peer's channel once a second.
func sendJunk(ctx context.Context, tally *peerTally, junk []byte) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tally.mu.Lock()
		peers := tally.peers
		tally.mu.Unlock()
		for _, p := range peers {
			if p.alive() {
				_ = p.dc.Send(junk)
			}
		}
	}
}

// closeAll closes the peers, 64 at a time.
func closeAll(peers []*junkPeer) {
	slots := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, p := range peers {
		slots <- struct{}{}
		wg.Go(func() {
			_ = p.pc.Close()
			<-slots
		})
	}
	wg.Wait()
}

// sleep waits d, or less when ctx is done; it reports whether it waited
// all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
