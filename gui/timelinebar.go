package gui

import (
	"fmt"
	"time"

	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/gui/internal/timeline"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// barH is the height a replay's timeline bar takes at the bottom of the
// window.
const barH = 72

// barRect is where the timeline bar goes on a w x h screen.
func barRect(w, h int) plot.Rect {
	return plot.Rect{X: margin, Y: float32(h - barH), W: float32(w - 2*margin), H: barH - 8}
}

// trackRect is the bar's track of time, inside the bar b.
func trackRect(b plot.Rect) plot.Rect {
	return plot.Rect{X: b.X + 14, Y: b.Y + 32, W: b.W - 28, H: 8}
}

// span returns the times at the ends of the track: the recording's
// blocks and snapshots, whichever reach further.
func (rp *replayUI) span(snaps []timeline.Snap) (time.Time, time.Time) {
	from, to := rp.rec.Span()
	if len(snaps) > 0 {
		if t := snaps[0].Taken(); t.Before(from) {
			from = t
		}
		if t := snaps[len(snaps)-1].Taken(); t.After(to) {
			to = t
		}
	}
	if !to.After(from) {
		to = from.Add(time.Second)
	}
	return from, to
}

// place puts the bar at b, over the recording's span as indexed so far:
// clicks go by it until the next render.
func (rp *replayUI) place(b plot.Rect) {
	rp.bar, rp.track = b, trackRect(b)
	rp.from, rp.to = rp.span(rp.rec.Snaps())
}

// barX returns where t is on the track of the latest render.
func (rp *replayUI) barX(t time.Time) float32 {
	f := float64(t.Sub(rp.from)) / float64(rp.to.Sub(rp.from))
	f = max(0, min(1, f))
	return rp.track.X + float32(f)*rp.track.W
}

// barTime returns the time at x on the track of the latest render.
func (rp *replayUI) barTime(x float32) time.Time {
	if rp.track.W <= 0 {
		return rp.from
	}
	f := float64((x - rp.track.X) / rp.track.W)
	f = max(0, min(1, f))
	return rp.from.Add(time.Duration(f * float64(rp.to.Sub(rp.from))))
}

// markColor is the color of a kind of marker.
func (p *palette) markColor(k timeline.Kind) plot.Color {
	switch k {
	case timeline.Stall:
		return p.Warn
	case timeline.LateTicks:
		return p.Update
	case timeline.Panic:
		return p.Series[6]
	case timeline.Drop:
		return p.Series[1]
	case timeline.Timeout:
		return p.Sim
	case timeline.Disconnect:
		return p.Axis
	case timeline.LatencySpike:
		return p.Series[3]
	}
	return p.Text
}

// drawOrder is the kinds of markers from the mildest to the gravest: the
// order the bar draws them in, so that where two meet the graver shows.
func drawOrder() [timeline.NumKinds]timeline.Kind {
	return [...]timeline.Kind{timeline.Disconnect, timeline.LateTicks, timeline.LatencySpike, timeline.Drop,
		timeline.Timeout, timeline.Lost, timeline.Panic, timeline.Stall}
}

// clock writes a duration as h:mm:ss, or m:ss under an hour.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// timelineKeys reminds the timeline's keys.
const timelineKeys = "Space play/pause   Left/Right 1 s (Shift 10 s)   [ ] speed   M next marker, Shift+M previous   click or drag: go there"

// timelineBar draws a replay's timeline in b: whether it plays and how
// fast, the time under the cursor, the track with what is indexed, the
// markers and the cursor, the marker under the cursor in words (else how
// many of each kind), the ends' times and the keys.
func (r *renderer) timelineBar(m *Monitor, b plot.Rect, f *faces) {
	rp, p := m.rp, &r.pal
	snaps := rp.rec.Snaps()
	i := rp.cursorAt()
	rp.place(b)
	tr := rp.track
	r.rect(b, p.Panel)

	// The track: indexed, not yet, the markers, the cursor.
	r.rect(tr, p.Header)
	if len(snaps) > 0 {
		x := rp.barX(snaps[len(snaps)-1].Taken())
		r.rect(plot.Rect{X: tr.X, Y: tr.Y, W: max(1, x-tr.X), H: tr.H}, p.Grid)
	}
	// A marker is a tick where it begins, its run a thin band over the
	// track (long runs would hide the rest); the graver kinds on top.
	for _, k := range drawOrder() {
		for _, mk := range rp.marks {
			if mk.Kind != k {
				continue
			}
			c := p.markColor(mk.Kind)
			x0, x1 := rp.barX(mk.At), rp.barX(mk.Until)
			if x1-x0 > 3 {
				r.rect(plot.Rect{X: x0, Y: tr.Y - 6, W: x1 - x0, H: 4}, c)
			}
			r.rect(plot.Rect{X: x0 - 1, Y: tr.Y - 6, W: 3, H: tr.H + 12}, c)
		}
	}
	if i >= 0 {
		x := rp.barX(snaps[i].Taken())
		r.rect(plot.Rect{X: x - 1, Y: tr.Y - 10, W: 3, H: tr.H + 20}, p.Text)
		r.rect(plot.Rect{X: x - 5, Y: tr.Y - 10, W: 11, H: 4}, p.Text)
	}

	// First line: playing, the time, the markers.
	y := float64(b.Y + 5)
	state, sc := "PAUSED", p.Dim
	if rp.playing {
		state, sc = "PLAYING", p.OK
	}
	r.text(fmt.Sprintf("%s %s", state, formatSpeed(rp.speed)), float64(b.X+14), y, f.text, sc, text.AlignStart)
	at := "no snapshot yet"
	if i >= 0 {
		t := snaps[i].Taken()
		at = fmt.Sprintf("%s   %s of %s   snapshot %d of %d", t.Local().Format("15:04:05"), clock(t.Sub(rp.from)), clock(rp.to.Sub(rp.from)), i+1, len(snaps))
	}
	if done, err, _, _ := rp.rec.Progress(); !done || err != nil {
		if err != nil {
			at += "   (indexing stopped: " + err.Error() + ")"
		} else {
			at += "   (indexing...)"
		}
	}
	x := b.X + 14 + float32(text.Advance("PLAYING 0.25× ", f.text)) + 14
	r.text(at, float64(x), y+2, f.small, p.Text, text.AlignStart)
	right := b.Right() - 14
	if here := rp.marksAt(i); i >= 0 && len(here) > 0 {
		s := here[0].String()
		if len(here) > 1 {
			s += fmt.Sprintf("  (and %d more)", len(here)-1)
		}
		r.text(r.fit(s, right-x-360), float64(right), y+1, f.text, p.markColor(here[0].Kind), text.AlignEnd)
	} else {
		r.markLegend(rp.marks, right, float32(y)+2, f)
	}

	// Third line: the ends' times and the keys.
	y3 := float64(tr.Bottom() + 11)
	r.text(rp.from.Local().Format("15:04:05"), float64(tr.X), y3, f.small, p.Axis, text.AlignStart)
	r.text(rp.to.Local().Format("15:04:05"), float64(tr.Right()), y3, f.small, p.Axis, text.AlignEnd)
	r.text(timelineKeys, float64(tr.X+tr.W/2), y3, f.small, p.Dim, text.AlignCenter)
}

// markLegend writes how many markers of each kind there are, right-aligned
// at right: a color key and a count each.
func (r *renderer) markLegend(marks []markView, right, y float32, f *faces) {
	var n [timeline.NumKinds]int
	for _, mk := range marks {
		n[mk.Kind]++
	}
	if len(marks) == 0 {
		r.text("no markers", float64(right), float64(y), f.small, r.pal.Dim, text.AlignEnd)
		return
	}
	x := right
	for k := timeline.NumKinds - 1; k >= 0; k-- {
		if n[k] == 0 {
			continue
		}
		s := fmt.Sprintf("%s %d", k, n[k])
		w := float32(text.Advance(s, f.small))
		r.text(s, float64(x), float64(y), f.small, r.pal.Text, text.AlignEnd)
		x -= w + 16
		r.rect(plot.Rect{X: x + 2, Y: y + 3, W: 10, H: 10}, r.pal.markColor(k))
		x -= 10
	}
}
