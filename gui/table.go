package gui

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// column is one column of the client table.
type column struct {
	title string
	width float32
	right bool // right-aligned (numbers)
	text  func(r *history.Row) string
	cmp   func(a, b *history.Row) int
}

// columns returns the client table's columns, in order.
func columns() []column {
	num := func(f func(r *history.Row) int64) func(a, b *history.Row) int {
		return func(a, b *history.Row) int { return cmp.Compare(f(a), f(b)) }
	}
	return []column{
		{"address", 200, false,
			func(r *history.Row) string { return r.Addr.String() },
			func(a, b *history.Row) int {
				if c := a.Addr.Addr().Compare(b.Addr.Addr()); c != 0 {
					return c
				}
				return cmp.Compare(a.Addr.Port(), b.Addr.Port())
			}},
		{"name", 130, false,
			func(r *history.Row) string { return r.Label },
			func(a, b *history.Row) int { return cmp.Compare(a.Label, b.Label) }},
		{"token", 110, true,
			func(r *history.Row) string { return fmt.Sprint(r.Token) },
			num(func(r *history.Row) int64 { return int64(r.Token) })},
		{"latency", 100, true,
			func(r *history.Row) string { return formatLatency(r.Latency) },
			num(func(r *history.Row) int64 { return int64(r.Latency) })},
		{"pkts/s in", 100, true,
			func(r *history.Row) string { return plot.SI(float64(r.PktsIn)) },
			num(func(r *history.Row) int64 { return r.PktsIn })},
		{"pkts/s out", 100, true,
			func(r *history.Row) string { return plot.SI(float64(r.PktsOut)) },
			num(func(r *history.Row) int64 { return r.PktsOut })},
		{"bytes/s in", 110, true,
			func(r *history.Row) string { return plot.SI(float64(r.BytesIn)) + "B" },
			num(func(r *history.Row) int64 { return r.BytesIn })},
		{"bytes/s out", 110, true,
			func(r *history.Row) string { return plot.SI(float64(r.BytesOut)) + "B" },
			num(func(r *history.Row) int64 { return r.BytesOut })},
		{"acked", 90, true,
			func(r *history.Row) string { return fmt.Sprintf("%.1f%%", r.AckedPercent()) },
			func(a, b *history.Row) int { return cmp.Compare(a.AckedPercent(), b.AckedPercent()) }},
		{"timeouts", 100, true,
			func(r *history.Row) string { return plot.SI(float64(r.Stats.Timeouts)) },
			num(func(r *history.Row) int64 { return int64(r.Stats.Timeouts) })},
		{"via", 70, false,
			func(r *history.Row) string { return r.Carrier },
			func(a, b *history.Row) int { return cmp.Compare(a.Carrier, b.Carrier) }},
	}
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
