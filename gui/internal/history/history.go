// Package history keeps the monitor's five minutes of per-second series,
// sampled from the snapshots a server publishes once a second, and its
// per-client rates, the difference of two snapshots' counters. The server
// keeps counters only; history is the monitor's. Nothing here reads the
// clock: every value carries the second it belongs to.
package history

import (
	"time"

	"github.com/mpgs/mpgameserver/server"
)

// A Row is a client's line in the monitor's table: its snapshot and its
// rates over the last interval between snapshots.
type Row struct {
	server.PeerSnapshot
	// Per second, each way.
	PktsIn, PktsOut, BytesIn, BytesOut int64
}

// History is the series of a server's life, a bin per second.
type History struct {
	// Ticks run each second, and the event goroutine's time in each phase
	// (microseconds).
	Ticks, Messages, Update, Network, Idle Series
	// Datagrams and bytes each way, and clients connected.
	PktsIn, PktsOut, BytesIn, BytesOut, Clients Series
	// Trouble counts each trouble per second, the difference of two
	// snapshots' counters (nothing for the first snapshot: it has no
	// previous one to differ from).
	Trouble [NumTroubles]Series
	// Totals are the latest snapshot's trouble counters, since the server
	// started.
	Totals [NumTroubles]uint64
	// Rows are the clients of the latest snapshot.
	Rows []Row

	first, last int64 // Unix seconds of the first and latest samples
	taken       time.Time
	started     time.Time                      // the server's start, to tell a restarted one
	troubleSec  int64                          // the second of Totals, 0 before a snapshot
	prev        map[uint32]server.PeerSnapshot // the previous snapshot's clients by token
	cur         map[uint32]server.PeerSnapshot
}

// New returns a history of bins seconds.
func New(bins int) *History {
	h := &History{prev: map[uint32]server.PeerSnapshot{}, cur: map[uint32]server.PeerSnapshot{}}
	for _, s := range h.series() {
		s.Init(bins)
	}
	return h
}

func (h *History) series() []*Series {
	s := []*Series{&h.Ticks, &h.Messages, &h.Update, &h.Network, &h.Idle,
		&h.PktsIn, &h.PktsOut, &h.BytesIn, &h.BytesOut, &h.Clients}
	for i := range h.Trouble {
		s = append(s, &h.Trouble[i])
	}
	return s
}

// Seconds returns how many seconds of the series hold data: from the first
// sample to the latest, at most the series' length.
func (h *History) Seconds() int {
	if h.last == 0 {
		return 0
	}
	return min(int(h.last-h.first+1), h.Ticks.Len())
}

// Last returns the Unix second of the latest sample (0 before any).
func (h *History) Last() int64 { return h.last }

// Add takes in a snapshot: its last second goes into the series, its
// clients into Rows with their rates since the previous snapshot. A
// snapshot already taken in (same publication time) changes nothing.
func (h *History) Add(s *server.Snapshot) {
	if s.Taken.Equal(h.taken) && h.last != 0 {
		return
	}
	elapsed := s.Taken.Sub(h.taken)
	if h.taken.IsZero() || elapsed <= 0 {
		elapsed = time.Second
	}
	h.taken = s.Taken
	if ls := s.LastSecond; ls.Unix > 0 {
		sec := ls.Unix
		if h.last == 0 {
			h.first = sec
		}
		h.last = max(h.last, sec)
		h.Ticks.Set(sec, int64(ls.Ticks))
		h.Messages.Set(sec, ls.Phase.Messages.Microseconds())
		h.Update.Set(sec, ls.Phase.Update.Microseconds())
		h.Network.Set(sec, ls.Phase.Network.Microseconds())
		h.Idle.Set(sec, ls.Phase.Idle.Microseconds())
		h.PktsIn.Set(sec, int64(ls.DatagramsIn))
		h.PktsOut.Set(sec, int64(ls.DatagramsOut))
		h.BytesIn.Set(sec, int64(ls.BytesIn))
		h.BytesOut.Set(sec, int64(ls.BytesOut))
		h.Clients.Set(sec, int64(s.Connections))
		h.addTroubles(s, sec)
	}
	h.prev, h.cur = h.cur, h.prev
	clear(h.cur)
	h.Rows = h.Rows[:0]
	for _, p := range s.Peers {
		h.cur[p.Token] = p
		before := h.prev[p.Token] // zero for a client new since the last snapshot
		rate := func(now, then uint64) int64 {
			if now < then {
				return 0
			}
			return int64(float64(now-then) / elapsed.Seconds())
		}
		h.Rows = append(h.Rows, Row{PeerSnapshot: p,
			PktsIn:   rate(p.Stats.Received, before.Stats.Received),
			PktsOut:  rate(p.Stats.Assembled, before.Stats.Assembled),
			BytesIn:  rate(p.Stats.BytesRecv, before.Stats.BytesRecv),
			BytesOut: rate(p.Stats.BytesSent, before.Stats.BytesSent),
		})
	}
}

// addTroubles records the troubles of the seconds since the previous
// snapshot. A restarted server starts from its own counters again.
func (h *History) addTroubles(s *server.Snapshot, sec int64) {
	now := Troubles(s)
	if h.troubleSec != 0 && s.Started.Equal(h.started) {
		for i := range now {
			spread(&h.Trouble[i], h.troubleSec, sec, counterDiff(now[i], h.Totals[i]))
		}
	} else {
		for i := range h.Trouble {
			h.Trouble[i].Set(sec, 0)
		}
	}
	h.Totals, h.troubleSec, h.started = now, sec, s.Started
}
