package gui

import (
	"fmt"
	"math"
	"time"

	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// clientView draws the selected client up close: its facts and its own
// series over the last two minutes.
func (r *renderer) clientView(m *Monitor, f *faces) {
	p, l := &r.pal, &r.lay
	c := m.clients.Get(m.selected)
	r.footer(m, c, f)
	if l.repl.W > 0 {
		r.replication(l.repl, c, f)
	}
	if c == nil {
		fr := l.facts
		r.rect(fr, p.Panel)
		r.text(fmt.Sprintf("client %d", m.selected), float64(fr.X+10), float64(fr.Y+6), f.title, p.Text, text.AlignStart)
		r.text("no series: the client is gone, or beyond the clients the monitor follows", float64(fr.X+10), float64(fr.Y+40), f.small, p.Dim, text.AlignStart)
		return
	}
	r.facts(l.facts, m, c, f)
	r.n = c.Seconds()
	r.span = plot.Span(r.n, 60, c.Latency.Len())
	lat := r.values(&c.Latency, 1.0/1000)
	sc := r.axes(l.cplots[cplotLatency], "latency (round trip)", plot.NiceMax(plot.Peak(lat)*1.1), "ms", f)
	r.cur.mesh.Polyline(sc.PointsRight(lat, r.span), 2, p.Ticks)
	r.legend(l.cplots[cplotLatency], []string{
		fmt.Sprintf("now %s, peak %s, last 10 s %s", formatLatency(c.Last.Latency), ms(plot.Peak(lat)), ms(plot.MeanLast(lat, 10))),
	}, []plot.Color{p.Ticks}, f)
	r.rates(l.cplots[cplotPackets], "packets per second", "", r.values(&c.PktsOut, 1), r.values(&c.PktsIn, 1), false, f)
	r.rates(l.cplots[cplotBytes], "bytes per second", "B", r.values(&c.BytesOut, 1), r.values(&c.BytesIn, 1), false, f)
	r.resends(l.cplots[cplotResends], c, f)
	r.clientDrops(l.cplots[cplotDrops], c, f)
}

// nameOf is a client's name in the close-up: the game's label, or a dash
// when the game gives none (server.Peer.SetLabel).
func nameOf(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ms(v float64) string {
	return formatLatency(time.Duration(v * float64(time.Millisecond)))
}

// facts draws what the snapshot tells of the client.
func (r *renderer) facts(fr plot.Rect, m *Monitor, c *history.Client, f *faces) {
	p, s := &r.pal, &c.Last
	r.rect(fr, p.Panel)
	r.text(fmt.Sprintf("client %d", s.Token), float64(fr.X+10), float64(fr.Y+6), f.title, p.Text, text.AlignStart)
	status, sc := s.Status.String(), p.OK
	if c.Gone {
		status, sc = "GONE (not in the latest snapshot)", p.Warn
	}
	since := "-"
	if !c.FirstSeen.IsZero() {
		since = fmt.Sprintf("%s (%s)", c.FirstSeen.Local().Format("15:04:05"), roundAge(m.snap.Taken.Sub(c.FirstSeen)))
	}
	acked := fmt.Sprintf("%.1f%% of %s", s.AckedPercent(), plot.SI(float64(s.Stats.Assembled)))
	addr := addrText(s.Addr)
	if m.rp != nil && !s.Addr.IsValid() {
		addr = "- (the recording hashed it)"
	}
	rows := []struct {
		k, v string
		c    plot.Color
	}{
		{"address", addr, p.Text},
		{"name", nameOf(s.Label), p.Text},
		{"token", fmt.Sprint(s.Token), p.Text},
		{"status", status, sc},
		{"first seen", since, p.Text},
		{"latency", formatLatency(s.Latency), p.Text},
		{"pending acks", fmt.Sprint(s.Pending), p.Text},
		{"held memory", plot.SI(float64(s.Held)) + "B", p.Text},
		{"throttled", plot.SI(float64(s.Throttled)), p.Text},
		{"packets acked", acked, p.Text},
		{"resent, lost, timeouts", fmt.Sprintf("%s, %s, %s", plot.SI(float64(s.Stats.Resent)), plot.SI(float64(s.Stats.Lost)), plot.SI(float64(s.Stats.Timeouts))), p.Text},
		{"send window", fmt.Sprintf("%sB, path %sB/s", plot.SI(float64(s.Window)), plot.SI(s.Bandwidth)), p.Text},
		{"network", describeConditions(conditionsOf(&m.network, s.Token)), p.Text},
	}
	if !m.network.Available {
		rows[len(rows)-1].v = "real (no --netsim)"
	} else if !conditionsOf(&m.network, s.Token).Off() {
		rows[len(rows)-1].c = p.Sim
	}
	if s.Throttled > 0 {
		rows[8].c = p.Warn
	}
	y := fr.Y + 38
	step := min(20, (fr.Bottom()-y-6)/float32(len(rows)))
	for _, row := range rows {
		r.text(row.k, float64(fr.X+10), float64(y), f.small, p.Dim, text.AlignStart)
		r.text(r.fit(row.v, fr.W-140), float64(fr.X+130), float64(y-1), f.mono, row.c, text.AlignStart)
		y += step
	}
}

// resends plots the messages resent and packets timed out per second.
func (r *renderer) resends(pr plot.Rect, c *history.Client, f *faces) {
	p := &r.pal
	vr, vt := r.values(&c.Resent, 1), r.values(&c.Timeouts, 1)
	sc := r.axes(pr, "resends and timeouts per second", plot.CountMax(math.Max(plot.Peak(vr), plot.Peak(vt))*1.1), "", f)
	r.cur.mesh.Polyline(sc.PointsRight(vr, r.span), 4, p.Resent)
	r.cur.mesh.Polyline(sc.PointsRight(vt, r.span), 2, p.Timeouts)
	r.legend(pr, []string{
		fmt.Sprintf("resent: last 10 s %s/s", plot.SI(plot.MeanLast(vr, 10))),
		fmt.Sprintf("timed out: last 10 s %s/s", plot.SI(plot.MeanLast(vt, 10))),
	}, []plot.Color{p.Resent, p.Timeouts}, f)
}

// clientDrops plots the client's dropped datagrams per second, stacked by
// reason.
func (r *renderer) clientDrops(pr plot.Rect, c *history.Client, f *faces) {
	p := &r.pal
	var layers [][]float64
	var names []string
	var colors []plot.Color
	total := make([]float64, r.n)
	for i := range c.Drops {
		s := &c.Drops[i]
		if s.Len() == 0 {
			continue
		}
		v := r.values(s, 1)
		if len(v) < r.n {
			v = append(make([]float64, r.n-len(v)), v...)
		}
		for t := range total {
			total[t] += v[t]
		}
		layers = append(layers, v)
		var sum float64
		for _, x := range v {
			sum += x
		}
		names = append(names, fmt.Sprintf("%s %s", history.ClientDrop(i), plot.SI(sum)))
		colors = append(colors, p.Series[i%len(p.Series)])
	}
	sc := r.axes(pr, "dropped per second, by reason", plot.CountMax(plot.Peak(total)*1.1), "", f)
	r.stack(sc, layers, colors)
	if len(layers) == 0 {
		a := plotArea(pr)
		r.text("no drops", float64(a.X+a.W/2), float64(a.Y+a.H/2-10), f.title, p.Dim, text.AlignCenter)
		return
	}
	r.legend(pr, names, colors, f)
}

// footer draws the close-up's keys.
func (r *renderer) footer(m *Monitor, c *history.Client, f *faces) {
	p, fr := &r.pal, r.lay.footer
	keys := "D disconnect   B block address   N network   Up/Down next client   Esc back"
	r.text(keys, float64(fr.X), float64(fr.Y+3), f.small, p.Dim, text.AlignStart)
	if !m.actions {
		r.text(m.refusal(), float64(fr.Right()), float64(fr.Y+3), f.small, p.Warn, text.AlignEnd)
	}
}
