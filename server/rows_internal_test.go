package server

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/session"
)

// TestRowsGatheredOverTheSecond walks a second of 60 ticks with 3,000
// clients coming and going: the rows are taken only in the second's last
// 250 ms, a share a tick, and the published rows are exactly the clients
// connected at the publish, each once.
func TestRowsGatheredOverTheSecond(t *testing.T) {
	s := &Server{cfg: Config{Interval: time.Second / 60}}
	s.rows.round = 1
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	next := 0
	rng := rand.New(rand.NewPCG(1, 2))
	add := func() {
		c, err := session.NewClient(&session.Config{}, start)
		require.NoError(t, err)
		p := &Peer{conn: c, index: len(s.peers), label: strconv.Itoa(next)}
		next++
		s.peers = append(s.peers, p)
	}
	remove := func(p *Peer) { // what forget does to the pool
		s.dropRow(p)
		removeAt(&s.peers, p.index)
	}
	for range 3000 {
		add()
	}
	var snap Snapshot
	for round := range 3 {
		for tick := range 60 {
			s.now = start.Add(time.Duration(round)*time.Second + time.Duration(tick)*s.cfg.Interval)
			before := len(s.rows.rows)
			s.gatherRows(s.rowsPerTick())
			took := len(s.rows.rows) - before
			if s.now.Nanosecond() < int(750*time.Millisecond) {
				assert.Zero(t, took, "tick %d: rows are taken in the last 250 ms only", tick)
			} else {
				assert.LessOrEqual(t, took, 3000/14+2, "tick %d: a share of the clients", tick)
			}
			// Clients leave, taken or not, from anywhere in the pool,
			// and new ones come.
			for range 5 {
				remove(s.peers[rng.IntN(len(s.peers))])
			}
			for range 5 {
				add()
			}
		}
		s.gatherRows(len(s.peers))
		s.finishRows(&snap)
		require.Equal(t, len(s.peers), len(snap.Peers), "round %d", round)
		var labels, rowLabels []string
		for _, p := range s.peers {
			labels = append(labels, p.label)
		}
		for _, r := range snap.Peers {
			rowLabels = append(rowLabels, r.Label)
		}
		assert.ElementsMatch(t, labels, rowLabels, "round %d: the rows are the clients, each once", round)
	}
}
