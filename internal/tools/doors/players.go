//go:build linux

package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// Timing of the native players.
const (
	// joinWithin bounds the wait for every player to be in the game.
	joinWithin = 20 * time.Second
	// latencyEvery is how often each player's latency is sampled.
	latencyEvery = 100 * time.Millisecond
)

// crowd is native arena players (bots over UDP, from 127.0.0.1), all
// driven by one goroutine at the game's 60 frames a second, as many game
// windows would be. A player that leaves the game is not brought back:
// the crowd counts it.
type crowd struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	players  []playerState
	rtts     []time.Duration // round trips sampled since measure
	measured bool
}

// playerState is what the crowd's goroutine publishes of one player.
type playerState struct {
	inGame, wasIn, left bool
	addr                netip.AddrPort
	token               uint32
	stats, base         conn.Stats // now, and at measure
	why                 string     // why it left, or never joined
}

// startCrowd connects n bots to the arena server at addr.
func startCrowd(ctx context.Context, addr netip.AddrPort, key *conn.PublicKey, n int) (*crowd, error) {
	bots := make([]*arena.Bot, n)
	for i := range bots {
		bots[i] = arena.NewBot(fmt.Sprintf("player%d", i+1), uint8(i), key, uint64(i+1))
		if err := bots[i].P.Connect(addr.String()); err != nil {
			for _, b := range bots[:i] {
				b.P.Client().ForceDisconnect()
			}
			return nil, fmt.Errorf("player %d: %w", i+1, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &crowd{cancel: cancel, done: make(chan struct{}), players: make([]playerState, n)}
	go c.drive(ctx, bots)
	return c, nil
}

// drive plays every frame until ctx is done, then disconnects the bots.
func (c *crowd) drive(ctx context.Context, bots []*arena.Bot) {
	defer close(c.done)
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	lastSample := time.Now()
	for {
		select {
		case <-ctx.Done():
			for _, b := range bots {
				b.P.Client().WaitForDisconnect()
			}
			return
		case now := <-frame.C:
			sample := now.Sub(lastSample) >= latencyEvery
			if sample {
				lastSample = now
			}
			c.frame(now, bots, sample)
		}
	}
}

// frame runs one frame of every bot and publishes their states.
func (c *crowd) frame(now time.Time, bots []*arena.Bot, sample bool) {
	var rtts []time.Duration
	for i, b := range bots {
		cl := b.P.Client()
		if !cl.Status().Closed() {
			b.P.Frame(now, b.Input(now))
		}
		in := b.P.InGame()
		c.mu.Lock()
		p := &c.players[i]
		p.inGame, p.stats = in, cl.Stats()
		if in {
			p.wasIn = true
			p.addr, p.token = cl.LocalAddr(), cl.Token()
		} else if p.wasIn && !p.left {
			p.left = true
		}
		if !in && p.why == "" {
			if err := b.P.Err(); err != nil {
				p.why = player.Explain(err, "the server")
			}
		}
		c.mu.Unlock()
		if sample && in {
			rtts = append(rtts, 2*cl.Latency())
		}
	}
	c.mu.Lock()
	if c.measured {
		c.rtts = append(c.rtts, rtts...)
	}
	c.mu.Unlock()
}

// waitJoined waits until every player is in the game, or joinWithin;
// it returns how many are.
func (c *crowd) waitJoined(ctx context.Context) int {
	deadline := time.Now().Add(joinWithin)
	for {
		n := c.inGame()
		if n == len(c.players) || time.Now().After(deadline) || ctx.Err() != nil {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inGame counts the players in the game now.
func (c *crowd) inGame() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.players {
		if p.inGame {
			n++
		}
	}
	return n
}

// measure starts the measurement: round trips from now on, packets
// counted from now.
func (c *crowd) measure() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.measured, c.rtts = true, nil
	for i := range c.players {
		c.players[i].base = c.players[i].stats
	}
}

// states returns a copy of the players' states.
func (c *crowd) states() []playerState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.players)
}

// stop disconnects the players and waits for them.
func (c *crowd) stop() {
	c.cancel()
	<-c.done
}

// report is the players' table cell: how many joined and stayed, the
// share of their packets never acknowledged since measure, and their
// round trips.
func (c *crowd) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	joined, stayed := 0, 0
	var sent, acked uint64
	why := ""
	for _, p := range c.players {
		if p.wasIn {
			joined++
			if !p.left {
				stayed++
			}
		}
		if (p.left || !p.wasIn) && why == "" {
			why = p.why
		}
		sent += p.stats.Assembled - p.base.Assembled
		acked += p.stats.Acked - p.base.Acked
	}
	s := fmt.Sprintf("%d/%d stayed", stayed, len(c.players))
	if joined < len(c.players) {
		s = fmt.Sprintf("%d/%d joined, %d stayed", joined, len(c.players), stayed)
	}
	if why != "" {
		s += fmt.Sprintf(" (%s)", why)
	}
	loss := 0.0
	if sent > 0 && acked < sent {
		loss = 100 * float64(sent-acked) / float64(sent)
	}
	p50, p99 := percentile(c.rtts, 50), percentile(c.rtts, 99)
	return fmt.Sprintf("%s; loss %.2f%%; RTT %s / %s", s, loss, ms(p50), ms(p99))
}

// percentile returns the p-th percentile of ds (0 for none).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
