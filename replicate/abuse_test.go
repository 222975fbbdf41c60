package replicate

import (
	"testing"

	"github.com/mpgs/mpgameserver/conn"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clients that never acknowledge, acknowledge everything at once, or
// acknowledge what they were never sent, beside a well-behaved one: the
// well-behaved one converges as alone, and what the others make the
// server hold stays bounded.
func TestReplicateAbusiveAcks(t *testing.T) {
	s := testSchema(t)
	r := New(s, Config{Workers: 2, MaxView: 256})
	defer r.Close()
	w := newWorld(t, r, 1500, 8, 9)
	good := newLink(s, 10)
	good.loss = 0.05
	silent := newLink(s, 11)
	silent.noAcks = true
	hoarder := newLink(s, 12) // keeps every callback, calls them all later
	var hoard []func(bool)
	hoarding := &hoardSender{l: hoarder, keep: &hoard}
	liar := newLink(s, 13)
	links := []*link{good, silent, hoarder, liar}
	vs := map[*link]*Viewer{}
	for _, l := range links {
		var snd Sender = l
		if l == hoarder {
			snd = hoarding
		}
		v := r.Add(snd)
		v.SetView(0, 0, 1500, 1500) // more than MaxView entities in view
		if l == good {
			v.SetView(0, 0, 500, 500)
		}
		vs[l] = v
	}
	now := epoch0
	for range 20 {
		now = run(w, links, now, time.Second, func(time.Time) {
			// The liar calls callbacks of snapshots never sent, and
			// calls each twice.
			lv := vs[liar]
			for i := range lv.ring {
				if !lv.ring[i].pending {
					lv.ring[i].cb(true)
				}
			}
		})
		for _, cb := range hoard {
			cb(true)
		}
		hoard = hoard[:0]
	}
	require.Empty(t, good.errs)
	for _, v := range vs {
		assert.LessOrEqual(t, len(v.ents), 256, "entries held for one client")
		assert.LessOrEqual(t, len(v.live), 256)
		assert.Len(t, v.recs, recCap, "records held for one client")
		assert.LessOrEqual(t, cap(v.cands), 1024)
	}
	// The silent client stopped getting snapshots once its ring was full
	// of unanswered ones, and holds no more than its view.
	assert.LessOrEqual(t, vs[silent].stats.Snapshots, uint64(ringSize))
	assert.Zero(t, vs[silent].stats.Acked)
	settle(t, w, good, vs[good], now)
}

type hoardSender struct {
	l    *link
	keep *[]func(bool)
}

func (h *hoardSender) Send(p []byte, retry conn.RetryMode, cb func(bool)) error {
	*h.keep = append(*h.keep, cb)
	return h.l.Send(p, retry, func(bool) {})
}
