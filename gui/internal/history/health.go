package history

import "github.com/mpgs/mpgameserver/server"

// Trouble is a kind of thing that went wrong on a server, counted per
// second for the monitor's health strip: datagrams dropped by reason,
// handler panics, tick overruns.
type Trouble int

// The troubles, in the order the health strip shows them.
const (
	Blocked           Trouble = iota // datagrams from a blocked address
	Junk                             // datagrams not of the protocol
	Overflow                         // the queue between ticks was full
	BadHeader                        // unparseable headers
	Unexpected                       // out-of-place datagrams
	Throttled                        // beyond a client's share of a tick
	HandshakeInvalid                 // hellos that failed a check
	HandshakeRejected                // valid hellos refused (pool or queue full)
	KernelDrops                      // dropped by the system: receive buffer full
	ConnDrops                        // refused by a connection (conn.Drops)
	Panics                           // handler methods that panicked
	LateTicks                        // ticks longer than the interval
	Stalls                           // ticks so late the watchdog logged them
	NumTroubles
)

// troubleNames are the health strip's names of the troubles.
var troubleNames = [NumTroubles]string{
	"blocked", "junk", "overflow", "bad header", "unexpected", "throttled", "bad hello",
	"hello refused", "kernel drops", "conn drops", "panics", "late ticks", "stalls",
}

// String returns the trouble's short name.
func (t Trouble) String() string {
	if t < 0 || t >= NumTroubles {
		return "?"
	}
	return troubleNames[t]
}

// Troubles reads the counters of every trouble from a snapshot (totals
// since the server started).
func Troubles(s *server.Snapshot) [NumTroubles]uint64 {
	st := &s.Stats
	return [NumTroubles]uint64{
		Blocked: st.Blocked, Junk: st.Junk, Overflow: st.Overflow, BadHeader: st.BadHeader,
		Unexpected: st.Unexpected, Throttled: st.Throttled, HandshakeInvalid: st.HandshakeInvalid,
		HandshakeRejected: st.HandshakeRejected, KernelDrops: st.KernelDrops, ConnDrops: s.Drops.Total(),
		Panics: st.HandlerPanics, LateTicks: st.LateTicks, Stalls: st.Stalls,
	}
}

// counterDiff is now-then, or 0 when the counter went back (a restarted
// server).
func counterDiff(now, then uint64) int64 {
	if now < then {
		return 0
	}
	return int64(min(now-then, 1<<62))
}

// spread records diff, counted over the seconds after from up to to, as a
// per-second value in each (the last gets the remainder), so that a missed
// snapshot neither loses counts nor makes a spike. A to not after from adds
// diff to the bin of to.
func spread(s *Series, from, to, diff int64) {
	k := to - from
	if from == 0 || k <= 0 {
		s.Add(to, diff)
		return
	}
	q, r := diff/k, diff%k
	start := from + 1
	if n := int64(s.Len()); k > n {
		start = to - n + 1 // older seconds fall out of the ring anyway
	}
	for sec := start; sec <= to; sec++ {
		v := q
		if sec == to {
			v += r
		}
		s.Set(sec, v)
	}
}

// gauge records v, a level read at second to, in every second after from
// up to to: a missed snapshot repeats the level rather than dropping to 0.
func gauge(s *Series, from, to, v int64) {
	if from == 0 || to-from <= 0 || to-from > int64(s.Len()) {
		s.Set(to, v)
		return
	}
	for sec := from + 1; sec <= to; sec++ {
		s.Set(sec, v)
	}
}
