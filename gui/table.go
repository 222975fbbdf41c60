package gui

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/server"
)

// column is one column of the client table.
type column struct {
	title string
	width float32
	least float32 // the width its usual text needs, padding included (scaledColumns)
	right bool    // right-aligned (numbers)
	text  func(r *history.Row) string
	cmp   func(a, b *history.Row) int
}

// columns returns the client table's columns, in order.
func columns() []column {
	num := func(f func(r *history.Row) int64) func(a, b *history.Row) int {
		return func(a, b *history.Row) int { return cmp.Compare(f(a), f(b)) }
	}
	return []column{
		{"address", 200, 128, false,
			func(r *history.Row) string { return addrText(r.Addr) },
			func(a, b *history.Row) int {
				if c := a.Addr.Addr().Compare(b.Addr.Addr()); c != 0 {
					return c
				}
				return cmp.Compare(a.Addr.Port(), b.Addr.Port())
			}},
		{"name", 130, 56, false,
			func(r *history.Row) string { return r.Label },
			func(a, b *history.Row) int { return cmp.Compare(a.Label, b.Label) }},
		{"token", 110, 90, true,
			func(r *history.Row) string { return fmt.Sprint(r.Token) },
			num(func(r *history.Row) int64 { return int64(r.Token) })},
		{"latency", 100, 67, true,
			func(r *history.Row) string { return formatLatency(r.Latency) },
			num(func(r *history.Row) int64 { return int64(r.Latency) })},
		{"pkts/s in", 100, 44, true,
			func(r *history.Row) string { return plot.SI(float64(r.PktsIn)) },
			num(func(r *history.Row) int64 { return r.PktsIn })},
		{"pkts/s out", 100, 44, true,
			func(r *history.Row) string { return plot.SI(float64(r.PktsOut)) },
			num(func(r *history.Row) int64 { return r.PktsOut })},
		{"bytes/s in", 110, 70, true,
			func(r *history.Row) string { return plot.SI(float64(r.BytesIn)) + "B" },
			num(func(r *history.Row) int64 { return r.BytesIn })},
		{"bytes/s out", 110, 70, true,
			func(r *history.Row) string { return plot.SI(float64(r.BytesOut)) + "B" },
			num(func(r *history.Row) int64 { return r.BytesOut })},
		{"acked", 90, 60, true,
			func(r *history.Row) string { return fmt.Sprintf("%.1f%%", r.AckedPercent()) },
			func(a, b *history.Row) int { return cmp.Compare(a.AckedPercent(), b.AckedPercent()) }},
		{"timeouts", 100, 44, true,
			func(r *history.Row) string { return plot.SI(float64(r.Stats.Timeouts)) },
			num(func(r *history.Row) int64 { return int64(r.Stats.Timeouts) })},
		{"via", 70, 40, false,
			func(r *history.Row) string { return r.Carrier },
			func(a, b *history.Row) int { return cmp.Compare(a.Carrier, b.Carrier) }},
	}
}

// worldColumns returns the columns a game that reports its replication
// adds after the others (server.WorldReporter): the entities the client
// is told of, its last snapshot's bytes of its budget, and the entities
// whose change waits for room with the oldest wait. A client the game did
// not report on shows dashes and sorts below the others.
func worldColumns() []column {
	num := func(f func(w *server.PeerWorld) int64) func(a, b *history.Row) int {
		key := func(r *history.Row) int64 {
			if !r.World.Reported {
				return -1
			}
			return f(&r.World)
		}
		return func(a, b *history.Row) int { return cmp.Compare(key(a), key(b)) }
	}
	cell := func(f func(w *server.PeerWorld) string) func(r *history.Row) string {
		return func(r *history.Row) string {
			if !r.World.Reported {
				return "-"
			}
			return f(&r.World)
		}
	}
	return []column{
		{"in view", 80, 44, true,
			cell(func(w *server.PeerWorld) string { return fmt.Sprint(w.InView) }),
			num(func(w *server.PeerWorld) int64 { return int64(w.InView) })},
		{"bytes/budget", 110, 70, true,
			cell(func(w *server.PeerWorld) string { return fmt.Sprintf("%d/%d", w.Bytes, w.Budget) }),
			num(func(w *server.PeerWorld) int64 { return int64(w.Bytes) })},
		{"waiting", 120, 84, true,
			cell(formatWaiting),
			func(a, b *history.Row) int {
				if c := num(func(w *server.PeerWorld) int64 { return int64(w.Waiting) })(a, b); c != 0 {
					return c
				}
				return cmp.Compare(a.World.OldestWait, b.World.OldestWait)
			}},
	}
}

// anyReported reports whether the game reported its replication of any
// of rows' clients: the table then shows worldColumns.
func anyReported(rows []history.Row) bool {
	for i := range rows {
		if rows[i].World.Reported {
			return true
		}
	}
	return false
}

// formatWaiting writes the entities waiting for room and, when any, the
// oldest wait: "3 (120ms)".
func formatWaiting(w *server.PeerWorld) string {
	if w.Waiting == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", w.Waiting, formatWait(w.OldestWait))
}

// formatWait writes a wait in milliseconds under a second, in seconds
// from there.
func formatWait(d time.Duration) string {
	switch d = d.Round(time.Millisecond); {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 9950*time.Millisecond:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
}

// addrText writes a client's address, a dash when it has none (a
// recording that hashed addresses).
func addrText(a netip.AddrPort) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

// formatLatency prints a latency in milliseconds with a precision that
// suits it.
func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// tableState is what the user chose: sort column, direction, scroll.
type tableState struct {
	sortCol int
	desc    bool
	offset  int
}

// sortRows orders rows by the chosen column, ties broken by token so the
// order is stable from one second to the next.
func sortRows(rows []history.Row, cols []column, st tableState) {
	c := cols[st.sortCol]
	slices.SortStableFunc(rows, func(a, b history.Row) int {
		r := c.cmp(&a, &b)
		if st.desc {
			r = -r
		}
		if r == 0 {
			r = cmp.Compare(a.Token, b.Token)
		}
		return r
	})
}
