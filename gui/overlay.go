package gui

import (
	"fmt"

	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/internal/plot"
)

// centered returns a w x h box in the middle of the screen.
func (r *renderer) centered(w, h float32) plot.Rect {
	w = min(w, r.lay.W-2*margin)
	return plot.Rect{X: float32(int((r.lay.W - w) / 2)), Y: float32(int((r.lay.H - h) / 2)), W: w, H: h}
}

// box draws a framed box.
func (r *renderer) box(b plot.Rect, frame plot.Color) {
	r.rect(b, r.pal.Background)
	r.cur.mesh.Frame(b, 2, frame)
}

// confirmBox asks whether to take an action.
func (r *renderer) confirmBox(c *confirmation, f *faces) {
	p := &r.pal
	b := r.centered(720, 120)
	r.box(b, p.Warn)
	r.text(r.fit(c.question, b.W-40), float64(b.X+20), float64(b.Y+20), f.text, p.Text, text.AlignStart)
	r.text("Y  yes, do it          N or Esc  no", float64(b.X+20), float64(b.Y+72), f.text, p.Warn, text.AlignStart)
}

// networkPanel draws the simulated network's conditions being edited.
func (r *renderer) networkPanel(m *Monitor, f *faces) {
	p, n := &r.pal, &m.net
	b := r.centered(640, 290)
	r.box(b, p.Sim)
	x, y := float64(b.X+20), float64(b.Y+16)
	r.text("Simulated network: "+targetName(n.target), x, y, f.title, p.Text, text.AlignStart)
	y += 34
	if !m.network.Available {
		r.text("start the server with --netsim to use this", x, y+20, f.title, p.Warn, text.AlignStart)
		r.text("(mpgameserver serve --netsim or gui --netsim: its socket then runs behind a simulated network,", x, y+60, f.small, p.Dim, text.AlignStart)
		r.text("perfect until changed here)", x, y+76, f.small, p.Dim, text.AlignStart)
		r.text("Esc or N  close", x, float64(b.Bottom()-30), f.small, p.Dim, text.AlignStart)
		return
	}
	applied := conditionsOf(&m.network, n.target)
	r.text("applied now: "+describeConditions(applied), x, y, f.small, p.Dim, text.AlignStart)
	y += 26
	for i, fd := range netFields {
		row := plot.Rect{X: b.X + 12, Y: float32(y) - 3, W: b.W - 24, H: 26}
		if i == n.field {
			r.rect(row, p.Selected)
		}
		r.text(fd.name, x, y, f.text, p.Text, text.AlignStart)
		v := fd.get(&n.form)
		c := p.Text
		if v != fd.get(&applied) {
			c = p.Sim // changed, not applied yet
		}
		r.text(fmt.Sprintf("%g%s", v, fd.unit), x+300, y, f.mono, c, text.AlignEnd)
		y += 30
	}
	y += 8
	r.text("Up/Down field   +/- or Left/Right change   Enter apply   0 reset to perfect", x, y, f.small, p.Dim, text.AlignStart)
	target := "T  switch to all clients"
	if n.target == 0 {
		target = "T  switch to the selected client"
		if m.selectedOrCursor() == 0 {
			target = "(select a client in the table to give it its own)"
		}
	}
	r.text(target+"   Esc or N  close", x, y+18, f.small, p.Dim, text.AlignStart)
	if !m.actions {
		r.text(m.refusal(), x, y+40, f.small, p.Warn, text.AlignStart)
	}
}

// toastBox shows a message at the bottom of the screen.
func (r *renderer) toastBox(t *toast, f *faces) {
	p := &r.pal
	w := float32(text.Advance(t.text, f.text)) + 40
	b := r.centered(w, 34)
	b.Y = r.lay.H - margin - 34 - footerH - 8
	c := p.OK
	if t.err {
		c = p.Warn
	}
	r.rect(b, c)
	r.text(r.fit(t.text, b.W-20), float64(b.X+20), float64(b.Y+8), f.text, p.Ink, text.AlignStart)
}
