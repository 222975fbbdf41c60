package timeline

import (
	"fmt"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/server"
)

// Kind is a kind of trouble a marker shows.
type Kind int

// The kinds of markers.
const (
	Stall        Kind = iota // ticks so late the watchdog logged them (Stats.Stalls rose)
	LateTicks                // ticks longer than the interval (Stats.LateTicks rose)
	Panic                    // handler methods that panicked (Stats.HandlerPanics rose)
	Drop                     // datagrams dropped, for one reason (Reason)
	Timeout                  // clients that went silent (Disconnect records, server.LeftTimedOut)
	Disconnect               // clients that left otherwise (Disconnect records, by Reason)
	LatencySpike             // a client's latency well above its own recent level
	Lost                     // records the recording lost (its writer's queue was full)
	NumKinds
)

var kindNames = [NumKinds]string{"stall", "late ticks", "panic", "drops", "timeout", "disconnect", "latency spike", "records lost"}

// String returns the kind's short name.
func (k Kind) String() string {
	if k < 0 || k >= NumKinds {
		return "?"
	}
	return kindNames[k]
}

// Marker is a trouble in the recording: one event, or a run of them of
// the same kind (and reason, and client for a latency spike) none more
// than MergeGap after the one before.
type Marker struct {
	Kind Kind
	// At and Until are the first and last moments of the run. Those of
	// a snapshot's counters are the snapshot's Taken; those of a
	// Disconnect or Dropped record are the end of the tick it belongs
	// to, reckoned from the latest snapshot and the Tick records' deltas
	// since: the first snapshot taken at or after it shows it.
	At, Until time.Time
	// Count is how many: ticks, panics, datagrams, clients, records.
	Count uint64
	// Reason names the drops' reason (Drop: "auth", "junk", ...), or why
	// the clients left (Disconnect).
	Reason string
	// Peer is the client (LatencySpike), or the first one (Timeout,
	// Disconnect).
	Peer uint32
	// Peak is a latency spike's highest latency, Base the client's usual
	// latency (the median of its recent seconds) when it began.
	Peak, Base time.Duration
}

// MergeGap is how far apart two events of the same kind may be to make
// one marker.
const MergeGap = 2 * time.Second

// Latency spikes: a client's latency above spikeFactor times the median
// of its last spikeWindow seconds (once it has spikeMin of them) and above
// spikeFloor.
const (
	spikeFactor = 2
	spikeFloor  = 100 * time.Millisecond
	spikeWindow = 30
	spikeMin    = 5
)

// String describes the marker in a few words, such as "client 1003 timed
// out" or "12 stalled ticks over 4 s".
func (m *Marker) String() string {
	var s string
	switch m.Kind {
	case Stall:
		s = plural(m.Count, "stalled tick", "stalled ticks")
	case LateTicks:
		s = plural(m.Count, "late tick", "late ticks")
	case Panic:
		s = plural(m.Count, "handler panic", "handler panics")
	case Drop:
		s = fmt.Sprintf("%s dropped: %s", plural(m.Count, "datagram", "datagrams"), m.Reason)
	case Timeout:
		if m.Count == 1 {
			s = fmt.Sprintf("client %d timed out", m.Peer)
		} else {
			s = fmt.Sprintf("%d clients timed out", m.Count)
		}
	case Disconnect:
		if m.Count == 1 {
			s = fmt.Sprintf("client %d left (%s)", m.Peer, m.Reason)
		} else {
			s = fmt.Sprintf("%d clients left (%s)", m.Count, m.Reason)
		}
	case LatencySpike:
		s = fmt.Sprintf("client %d latency %s (its usual %s)", m.Peer, roundMs(m.Peak), roundMs(m.Base))
	case Lost:
		s = fmt.Sprintf("the recording lost %s", plural(m.Count, "record", "records"))
	default:
		s = m.Kind.String()
	}
	if d := m.Until.Sub(m.At); d >= time.Second {
		s += fmt.Sprintf(" over %d s", int(d.Round(time.Second).Seconds())+1)
	}
	return s
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func roundMs(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// leftReason names why clients left (server.DisconnectReason).
func leftReason(r uint8) string {
	switch r {
	case server.LeftTimedOut:
		return "timed out"
	case server.LeftClientClosed:
		return "closed by the client"
	case server.LeftServerClosed:
		return "closed by the server"
	case server.LeftOther:
		return "dropped: over budget, out of window or a failure"
	}
	return fmt.Sprintf("reason %d", r)
}

// serverDrops are the reasons of the datagrams a server drops before they
// reach a connection, as a snapshot counts them (history.Troubles).
func serverDrops() [9]history.Trouble {
	return [...]history.Trouble{
		history.Blocked, history.Junk, history.Overflow, history.BadHeader, history.Unexpected,
		history.Throttled, history.HandshakeInvalid, history.HandshakeRejected, history.KernelDrops,
	}
}

// connDrops returns the datagrams connections refused, by reason
// (conn.Drops), in the order of history.ClientDrop.
func connDrops(s *server.Snapshot) [history.NumClientDrops - 1]uint64 {
	d := &s.Drops
	return [history.NumClientDrops - 1]uint64{d.Header, d.Auth, d.Payload, d.Duplicate, d.Stale, d.Handshake, d.NoSession, d.Closed}
}

type peerLatency struct {
	token   uint32
	latency time.Duration
}

// latencies is a client's recent latencies, one a snapshot.
type latencies struct {
	v    [spikeWindow]time.Duration
	n, i int
	seen int // the snapshot that last had the client
}

func (l *latencies) add(d time.Duration) {
	l.v[l.i] = d
	l.i = (l.i + 1) % len(l.v)
	l.n = min(l.n+1, len(l.v))
}

func (l *latencies) median(scratch []time.Duration) time.Duration {
	s := append(scratch[:0], l.v[:l.n]...)
	slices.Sort(s)
	return s[len(s)/2]
}

// key tells which markers merge.
type key struct {
	kind   Kind
	reason string
	peer   uint32
}

// detector finds markers in the records and snapshots, in order.
type detector struct {
	prev    server.Snapshot // the previous snapshot's figures
	havePrv bool
	n       int // snapshots seen
	lat     map[uint32]*latencies
	open    map[key]int // the latest marker of each key, an index in the markers
	scratch []time.Duration
}

func newDetector() detector {
	return detector{lat: map[uint32]*latencies{}, open: map[key]int{}}
}

// mark records an event of k at t: it extends the latest marker of k when
// that ended at most MergeGap before t, or starts a new one.
func (d *detector) mark(ms *[]Marker, k key, t time.Time, n uint64, fill func(m *Marker, fresh bool)) {
	if i, ok := d.open[k]; ok {
		m := &(*ms)[i]
		if !t.After(m.Until.Add(MergeGap)) {
			if t.After(m.Until) {
				m.Until = t
			}
			m.Count += n
			if fill != nil {
				fill(m, false)
			}
			return
		}
	}
	*ms = append(*ms, Marker{Kind: k.kind, At: t, Until: t, Count: n, Reason: k.reason, Peer: k.peer})
	d.open[k] = len(*ms) - 1
	if fill != nil {
		fill(&(*ms)[len(*ms)-1], true)
	}
}

// snapshot takes in a snapshot's figures and its clients' latencies.
func (d *detector) snapshot(ms *[]Marker, s *server.Snapshot, peers []peerLatency) {
	t := s.Taken
	if d.havePrv && s.Started.Equal(d.prev.Started) {
		st, was := &s.Stats, &d.prev.Stats
		if n := diff(st.Stalls, was.Stalls); n > 0 {
			d.mark(ms, key{kind: Stall}, t, n, nil)
		}
		if n := diff(st.LateTicks, was.LateTicks); n > 0 {
			d.mark(ms, key{kind: LateTicks}, t, n, nil)
		}
		if n := diff(st.HandlerPanics, was.HandlerPanics); n > 0 {
			d.mark(ms, key{kind: Panic}, t, n, nil)
		}
		now, then := history.Troubles(s), history.Troubles(&d.prev)
		for _, tr := range serverDrops() {
			if n := diff(now[tr], then[tr]); n > 0 {
				d.mark(ms, key{kind: Drop, reason: tr.String()}, t, n, nil)
			}
		}
		cn, cw := connDrops(s), connDrops(&d.prev)
		for i := range cn {
			if n := diff(cn[i], cw[i]); n > 0 {
				d.mark(ms, key{kind: Drop, reason: history.ClientDrop(i).String()}, t, n, nil)
			}
		}
	} else {
		clear(d.lat) // a new server: its clients are new
	}
	d.prev, d.havePrv = *s, true
	d.prev.Peers, d.prev.World = nil, server.WorldMap{}
	d.n++
	for _, p := range peers {
		l := d.lat[p.token]
		if l == nil {
			l = &latencies{}
			d.lat[p.token] = l
		}
		l.seen = d.n
		if l.n >= spikeMin {
			base := l.median(d.scratch)
			if p.latency > spikeFactor*base && p.latency > spikeFloor {
				lat := p.latency
				d.mark(ms, key{kind: LatencySpike, peer: p.token}, t, 1, func(m *Marker, fresh bool) {
					if fresh {
						m.Base = base
					}
					m.Peak = max(m.Peak, lat)
				})
			}
		}
		l.add(p.latency)
	}
	for tok, l := range d.lat {
		if l.seen != d.n {
			delete(d.lat, tok)
		}
	}
}

// disconnect takes in a Disconnect record, reckoned to have happened at t.
func (d *detector) disconnect(ms *[]Marker, t time.Time, peer uint32, reason uint8) {
	k := key{kind: Disconnect, reason: leftReason(reason)}
	if reason == server.LeftTimedOut {
		k = key{kind: Timeout}
	}
	d.mark(ms, k, t, 1, func(m *Marker, fresh bool) {
		if fresh {
			m.Peer = peer
		}
	})
}

// lost takes in a Dropped record.
func (d *detector) lost(ms *[]Marker, t time.Time, n uint64) {
	d.mark(ms, key{kind: Lost}, t, n, nil)
}

func diff(now, then uint64) uint64 {
	if now < then {
		return 0
	}
	return now - then
}
