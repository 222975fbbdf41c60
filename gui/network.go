package gui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/ops/admin"
)

// netPanel is the network panel: simulated conditions being edited, for
// every client (target 0) or one.
type netPanel struct {
	open   bool
	target uint32
	form   admin.Conditions
	field  int
}

// netField is one line of the network panel.
type netField struct {
	name string
	get  func(c *admin.Conditions) float64 // in the field's unit
	set  func(c *admin.Conditions, v float64)
	step float64
	max  float64
	unit string
}

func probability(name string, step float64, f func(c *admin.Conditions) *float64) netField {
	return netField{name: name, step: step, max: 100, unit: "%",
		get: func(c *admin.Conditions) float64 { return *f(c) * 100 },
		set: func(c *admin.Conditions, v float64) { *f(c) = v / 100 }}
}

func duration(name string, step, maxMs float64, f func(c *admin.Conditions) *time.Duration) netField {
	return netField{name: name, step: step, max: maxMs, unit: " ms",
		get: func(c *admin.Conditions) float64 { return float64(*f(c)) / float64(time.Millisecond) },
		set: func(c *admin.Conditions, v float64) { *f(c) = time.Duration(v * float64(time.Millisecond)) }}
}

// netFields are the network panel's fields, in order.
var netFields = []netField{
	probability("loss", 5, func(c *admin.Conditions) *float64 { return &c.Loss }),
	duration("latency (one way)", 10, 2000, func(c *admin.Conditions) *time.Duration { return &c.Latency }),
	duration("jitter", 5, 1000, func(c *admin.Conditions) *time.Duration { return &c.Jitter }),
	probability("duplication", 1, func(c *admin.Conditions) *float64 { return &c.Duplicate }),
	probability("reordering", 5, func(c *admin.Conditions) *float64 { return &c.Reorder }),
}

// step changes field i of c by n steps, within its range.
func (f *netField) change(c *admin.Conditions, n int) {
	v := f.get(c) + float64(n)*f.step
	v = max(0, min(f.max, v))
	// Keep round values: 0.1 + 0.2 is not 0.3 in floating point.
	f.set(c, float64(int64(v/f.step+0.5))*f.step)
}

// conditionsOf returns the conditions applied to a client (token 0: to
// every client without conditions of its own).
func conditionsOf(n *admin.Network, token uint32) admin.Conditions {
	if c, ok := n.Clients[token]; ok && token != 0 {
		return c
	}
	return n.All
}

// openNetwork opens the network panel for a client (0: all).
func (m *Monitor) openNetwork(target uint32) {
	m.net = netPanel{open: true, target: target, form: conditionsOf(&m.network, target)}
	m.dirty = true
}

// netInput handles the network panel's keys.
func (m *Monitor) netInput(now time.Time) {
	in, p := m.in, &m.net
	if in.pressed(ebiten.KeyEscape) || in.pressed(ebiten.KeyN) {
		p.open = false
		m.dirty = true
		return
	}
	if !m.network.Available {
		return
	}
	before := *p
	switch {
	case anyPressed(in, keysDown...) || in.pressed(ebiten.KeyTab):
		p.field = (p.field + 1) % len(netFields)
	case anyPressed(in, keysUp...):
		p.field = (p.field + len(netFields) - 1) % len(netFields)
	case anyPressed(in, keysPlus...):
		netFields[p.field].change(&p.form, 1)
	case anyPressed(in, keysMinus...):
		netFields[p.field].change(&p.form, -1)
	case in.pressed(ebiten.KeyT):
		// All clients, or the one selected.
		target := uint32(0)
		if p.target == 0 {
			target = m.selectedOrCursor()
		}
		if target != p.target {
			p.target = target
			p.form = conditionsOf(&m.network, target)
		}
	case justPressed(in, keysZero...):
		p.form = admin.Conditions{}
		m.applyConditions(now)
	case justPressed(in, keysEnter...):
		m.applyConditions(now)
	}
	if *p != before {
		m.dirty = true
	}
}

// selectedOrCursor returns the client in the close-up, or the one
// highlighted in the table (0: none).
func (m *Monitor) selectedOrCursor() uint32 {
	if m.view == viewClient {
		return m.selected
	}
	if m.cursorIndex() >= 0 {
		return m.cursor
	}
	return 0
}

// applyConditions sends the panel's conditions.
func (m *Monitor) applyConditions(now time.Time) {
	if !m.actions {
		m.say(now, m.refusal(), true)
		return
	}
	src, tok, c := m.src, m.net.target, m.net.form
	done := fmt.Sprintf("network for %s: %s", targetName(tok), describeConditions(c))
	m.run(done, func(ctx context.Context) error { return src.SetConditions(ctx, tok, c) })
}

func targetName(token uint32) string {
	if token == 0 {
		return "all clients"
	}
	return fmt.Sprintf("client %d", token)
}

// describeConditions writes conditions in a few words: "20% loss, 100 ms
// latency ±10 ms", or "perfect".
func describeConditions(c admin.Conditions) string {
	if c.Off() {
		return "perfect"
	}
	pct := func(p float64) string { return fmt.Sprintf("%g%%", float64(int64(p*1000+0.5))/10) }
	var parts []string
	if c.Loss > 0 {
		parts = append(parts, pct(c.Loss)+" loss")
	}
	if c.Latency > 0 || c.Jitter > 0 {
		s := fmt.Sprintf("%d ms latency", c.Latency.Milliseconds())
		if c.Jitter > 0 {
			s += fmt.Sprintf(" ±%d ms", c.Jitter.Milliseconds())
		}
		parts = append(parts, s)
	}
	if c.Duplicate > 0 {
		parts = append(parts, pct(c.Duplicate)+" duplicated")
	}
	if c.Reorder > 0 {
		parts = append(parts, pct(c.Reorder)+" reordered")
	}
	return strings.Join(parts, ", ")
}

// networkSummary is the band every screen shows while a simulated
// network is on ("" while it is perfect).
func networkSummary(n *admin.Network) string {
	var parts []string
	if !n.All.Off() {
		parts = append(parts, "all clients: "+describeConditions(n.All))
	}
	for _, tok := range slices.Sorted(maps.Keys(n.Clients)) {
		if c := n.Clients[tok]; !c.Off() {
			parts = append(parts, fmt.Sprintf("client %d: %s", tok, describeConditions(c)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "SIMULATED NETWORK: " + strings.Join(parts, "; ")
}
