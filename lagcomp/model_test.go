package lagcomp

import (
	"sort"
	"time"
)

// model is a plain history: every record kept in a slice, the rules of
// History written the simple way, to check History against.
type model struct {
	cfg       Config
	recs      []record
	truncated uint64
	unordered uint64
}

func newModel(cfg Config) *model { return &model{cfg: cfg.withDefaults()} }

func (m *model) record(t time.Duration, shapes []Shape) {
	if len(m.recs) > 0 && t <= m.recs[len(m.recs)-1].t {
		m.unordered++
		return
	}
	if len(shapes) > m.cfg.MaxShapes {
		m.truncated += uint64(len(shapes) - m.cfg.MaxShapes)
		shapes = shapes[:m.cfg.MaxShapes]
	}
	seen := map[uint64]bool{}
	var kept []Shape
	for _, s := range shapes {
		if !seen[s.ID] {
			seen[s.ID] = true
			kept = append(kept, s)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID })
	m.recs = append(m.recs, record{t: t, shapes: kept})
	var recs []record
	for _, r := range m.recs {
		// Older than Window before t: t - r.t > Window, without overflow.
		if r.t == t || uint64(t)-uint64(r.t) <= uint64(m.cfg.Window) {
			recs = append(recs, r)
		}
	}
	if len(recs) > m.cfg.Frames {
		recs = recs[len(recs)-m.cfg.Frames:]
	}
	m.recs = recs
}

// around returns the records at or before at (a) and after it (b, nil
// when a is at at exactly); at is within the records.
func (m *model) around(at time.Duration) (a, b *record) {
	for i := range m.recs {
		if m.recs[i].t <= at {
			a = &m.recs[i]
		} else if b == nil {
			b = &m.recs[i]
		}
	}
	if a != nil && a.t == at {
		b = nil
	}
	return a, b
}

// find returns the shape of id in shapes.
func find(shapes []Shape, id uint64) (Shape, bool) {
	for _, s := range shapes {
		if s.ID == id {
			return s, true
		}
	}
	return Shape{}, false
}
