package lagcomp

import (
	"cmp"
	"math"
	"slices"
	"time"
	"unsafe"
)

// Shape is an entity's hit shape at one time: a circle.
type Shape struct {
	// ID is the game's id of the entity; an entity keeps it from one
	// record to the next.
	ID uint64
	// X and Y are the circle's center, R its radius. A shape with a
	// coordinate that is not finite (NaN or infinite), or a negative
	// radius, is kept but is never hit.
	X, Y, R float64
}

// Config configures a History; a zero (or negative) field takes its
// default.
type Config struct {
	// Window is how far back the history goes (1 s). Records older than
	// Window before the newest are dropped.
	Window time.Duration
	// Frames bounds the number of records kept (128): the memory is
	// Frames × MaxShapes shapes at most.
	Frames int
	// MaxShapes bounds the shapes of one record (4,096); those beyond are
	// left out (Stats.Truncated).
	MaxShapes int
	// MaxRewind caps how far before now a shot is judged (200 ms):
	// an older view time is judged at now - MaxRewind.
	MaxRewind time.Duration
}

// Defaults of Config.
const (
	DefaultWindow    = time.Second
	DefaultFrames    = 128
	DefaultMaxShapes = 4096
	DefaultMaxRewind = 200 * time.Millisecond
)

// withDefaults returns cfg with its zero or negative fields set to their
// defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Frames <= 0 {
		cfg.Frames = DefaultFrames
	}
	if cfg.MaxShapes <= 0 {
		cfg.MaxShapes = DefaultMaxShapes
	}
	if cfg.MaxRewind <= 0 {
		cfg.MaxRewind = DefaultMaxRewind
	}
	return cfg
}

// Stats are a History's figures.
type Stats struct {
	// Frames is the number of records kept, Oldest and Newest their
	// times (zero when there are none).
	Frames         int
	Oldest, Newest time.Duration
	// Rewinds counts Rewind calls; Capped those whose view was older than
	// MaxRewind (or than the history), Future those whose view was after
	// now.
	Rewinds, Capped, Future uint64
	// Truncated counts shapes left out of records over MaxShapes;
	// Unordered records refused for a time not after the newest.
	Truncated, Unordered uint64
	// Memory is the bytes the records hold: the capacity of every
	// record's shapes, kept for reuse, and the ring of records.
	Memory int
}

// record is the world at one time: its shapes sorted by ID, without
// duplicate IDs.
type record struct {
	t      time.Duration
	shapes []Shape
}

// History is a bounded history of the entities' hit shapes.
type History struct {
	cfg Config
	// ring holds the records, the oldest at head, n of them; the slots
	// not in use keep their shapes' arrays for reuse. It grows (by
	// doubling) up to cfg.Frames slots, when a record finds it full.
	ring []record
	head int
	n    int

	rewinds, capped, future uint64
	truncated, unordered    uint64
}

// New returns an empty history.
func New(cfg Config) *History {
	return &History{cfg: cfg.withDefaults()}
}

// at returns the i-th record kept, oldest first.
func (h *History) at(i int) *record {
	i += h.head
	if i >= len(h.ring) {
		i -= len(h.ring)
	}
	return &h.ring[i]
}

// dropOldest forgets the oldest record (its slot keeps its array).
func (h *History) dropOldest() {
	h.head++
	if h.head == len(h.ring) {
		h.head = 0
	}
	h.n--
}

// grow doubles the ring (up to cfg.Frames slots); it is full. The records
// keep their order, the oldest moving to slot 0, and their arrays.
func (h *History) grow() {
	size := min(max(2*len(h.ring), 4), h.cfg.Frames)
	ring := make([]record, size)
	for i := range h.ring {
		ring[i] = *h.at(i)
	}
	h.ring, h.head = ring, 0
}

func byID(a, b Shape) int { return cmp.Compare(a.ID, b.ID) }

func sameID(a, b Shape) bool { return a.ID == b.ID }

// Record keeps the shapes of the entities at time t (copied: shapes may be
// reused after). Times must increase: a record not after the newest is
// refused (Stats.Unordered). It drops records older than Window before t,
// and the oldest beyond Frames. Its work is O(n log n) in the number of
// shapes (they are sorted by ID) and it allocates nothing once the ring
// has grown.
//
// Only the first MaxShapes shapes given are kept (Stats.Truncated counts
// the others). Shapes that share an ID are one entity given twice: the
// first given is kept and the others are dropped (they do not count in
// Stats.Truncated).
func (h *History) Record(t time.Duration, shapes []Shape) {
	if h.n > 0 && t <= h.at(h.n-1).t {
		h.unordered++
		return
	}
	// Drop what falls out of the window, then make room for the new
	// record in the ring.
	oldest := subSat(t, h.cfg.Window)
	for h.n > 0 && h.at(0).t < oldest {
		h.dropOldest()
	}
	if h.n == h.cfg.Frames {
		h.dropOldest()
	}
	if h.n == len(h.ring) {
		h.grow()
	}
	if len(shapes) > h.cfg.MaxShapes {
		h.truncated += uint64(len(shapes) - h.cfg.MaxShapes)
		shapes = shapes[:h.cfg.MaxShapes]
	}
	r := h.at(h.n)
	r.t, r.shapes = t, copySorted(r.shapes[:0], shapes)
	h.n++
}

// copySorted copies src into dst (empty: its array is reused), sorted by
// ID; of the shapes sharing an ID, only the first in src is kept.
func copySorted(dst, src []Shape) []Shape {
	dst = append(dst, src...)
	sorted := true
	for i := 1; i < len(dst) && sorted; i++ {
		sorted = dst[i-1].ID < dst[i].ID
	}
	if sorted { // in order already, without duplicates: the common case
		return dst
	}
	// pdqsort is fast, and right when the IDs are distinct, as they
	// should be.
	slices.SortFunc(dst, byID)
	dup := false
	for i := 1; i < len(dst) && !dup; i++ {
		dup = dst[i-1].ID == dst[i].ID
	}
	if !dup {
		return dst
	}
	// Of shapes sharing an ID, the unstable sort may have put any
	// first: again, stably, from src's order.
	copy(dst, src)
	slices.SortStableFunc(dst, byID)
	return slices.CompactFunc(dst, sameID)
}

// Rewind returns the world as it was at view, for a shot judged at now:
// view is clamped to [now-MaxRewind, now], then to the records kept. The
// Rewind is valid until the next Record.
//
// When the records kept do not overlap [now-MaxRewind, now] (the history
// was not recorded lately, or now is before it), the second clamp wins:
// the shot is judged at the nearest record, and By may exceed MaxRewind
// (or be negative). With no records, the world is empty.
func (h *History) Rewind(now, view time.Duration) Rewind {
	h.rewinds++
	at := view
	capped := false
	if at > now {
		at = now
		h.future++
	}
	if lo := subSat(now, h.cfg.MaxRewind); at < lo {
		at = lo
		capped = true
	}
	w := Rewind{Asked: view}
	if h.n > 0 {
		if oldest := h.at(0).t; at < oldest {
			at = oldest
			capped = true
		}
		if newest := h.at(h.n - 1).t; at > newest {
			at = newest
		}
		// The last record at or before at: at is within the records,
		// so there is one.
		lo, hi := 0, h.n // records [lo, hi) are after at, before lo not
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if h.at(m).t <= at {
				lo = m + 1
			} else {
				hi = m
			}
		}
		a := h.at(lo - 1)
		w.a = a.shapes
		if a.t != at {
			b := h.at(lo)
			w.b = b.shapes
			w.two = true
			// The differences as unsigned: they fit, where the
			// signed ones could overflow.
			w.alpha = float64(uint64(at)-uint64(a.t)) / float64(uint64(b.t)-uint64(a.t))
		}
	}
	if capped {
		h.capped++
	}
	w.At, w.By = at, subSat(now, at)
	w.Capped = at != view
	return w
}

// Stats returns the history's figures.
func (h *History) Stats() Stats {
	s := Stats{
		Frames:    h.n,
		Rewinds:   h.rewinds,
		Capped:    h.capped,
		Future:    h.future,
		Truncated: h.truncated,
		Unordered: h.unordered,
		Memory:    cap(h.ring) * int(unsafe.Sizeof(record{})),
	}
	if h.n > 0 {
		s.Oldest, s.Newest = h.at(0).t, h.at(h.n-1).t
	}
	for _, r := range h.ring {
		s.Memory += cap(r.shapes) * int(unsafe.Sizeof(Shape{}))
	}
	return s
}

// subSat returns a - b, saturated at the bounds of time.Duration; b >= 0.
func subSat(a, b time.Duration) time.Duration {
	if b >= 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	if b < 0 && a > math.MaxInt64+b {
		return math.MaxInt64
	}
	return a - b
}

// Rewind is the recorded world at one time: between the two records
// around it, each entity in both is interpolated linearly; an entity in
// the older record only (it was removed) is where it last was, until the
// newer record's time; an entity in the newer record only (it appeared)
// is not there yet. Its zero value is an empty world.
//
// At a record's time exactly, that record alone is the world. A Rewind
// refers to the history's records: it is valid until the next Record.
type Rewind struct {
	// At is the time judged; By how far before now it is (now - At).
	At, By time.Duration
	// Asked is the view time the shot claimed; Capped reports whether At
	// differs from it (a view older than MaxRewind or than the history,
	// or in the future).
	Asked  time.Duration
	Capped bool

	// a is the record at or before At, b the one after it when At is not
	// a's time (two), alpha how far At is from a's time to b's, in (0, 1).
	a, b  []Shape
	two   bool
	alpha float64
}

// lerp returns the shape of an entity at a (in record a) and b (in record
// b) at alpha between them. Each of X, Y and R stays between its two
// values, however the arithmetic rounds.
func lerp(a, b Shape, alpha float64) Shape {
	return Shape{
		ID: a.ID,
		X:  lerp1(a.X, b.X, alpha),
		Y:  lerp1(a.Y, b.Y, alpha),
		R:  lerp1(a.R, b.R, alpha),
	}
}

func lerp1(a, b, alpha float64) float64 {
	if a == b {
		return a // exact for what did not move, infinities too
	}
	v := a + (b-a)*alpha
	if !finite(v) {
		// b-a overflowed, or a or b is infinite.
		v = a*(1-alpha) + b*alpha
	}
	lo, hi := min(a, b), max(a, b)
	if v < lo {
		v = lo
	} else if v > hi {
		v = hi
	}
	return v
}

// Shape returns entity id's shape at the rewound time.
func (r Rewind) Shape(id uint64) (Shape, bool) {
	i, ok := slices.BinarySearchFunc(r.a, id, func(s Shape, id uint64) int { return cmp.Compare(s.ID, id) })
	if !ok {
		return Shape{}, false
	}
	s := r.a[i]
	if r.two {
		if j, ok := slices.BinarySearchFunc(r.b, id, func(s Shape, id uint64) int { return cmp.Compare(s.ID, id) }); ok {
			s = lerp(s, r.b[j], r.alpha)
		}
	}
	return s, true
}

// Shapes appends every entity's shape at the rewound time to dst, in
// order of ID.
func (r Rewind) Shapes(dst []Shape) []Shape {
	j := 0
	for _, s := range r.a {
		dst = append(dst, r.shape(s, &j))
	}
	return dst
}

// shape returns s, of the older record, at the rewound time. The calls
// go through the older record in order, j the place reached in the newer
// one: together, they merge the two records in O(n+m).
func (r Rewind) shape(s Shape, j *int) Shape {
	if !r.two {
		return s
	}
	for *j < len(r.b) && r.b[*j].ID < s.ID {
		*j++
	}
	if *j < len(r.b) && r.b[*j].ID == s.ID {
		return lerp(s, r.b[*j], r.alpha)
	}
	return s
}

// Hit is what a ray hit.
type Hit struct {
	Shape Shape
	// Dist is how far along the ray it was hit.
	Dist float64
}

// Raycast returns the first shape the ray from (x, y) in direction
// (dx, dy) (normalized here; a zero direction hits nothing) meets within
// length, skipping the entities skip reports (the shooter, say; nil skips
// none). A ray that starts inside a shape hits it at distance 0.
//
// Of shapes hit at the same distance, the one of lower ID wins. A length
// of zero or less hits only the shapes the ray starts inside; an infinite
// length does not limit the ray. A ray with a NaN or infinite origin or
// direction, or a NaN length, hits nothing; so does a shape with a
// coordinate not finite, a negative radius, or so far that the arithmetic
// overflows. It allocates nothing.
func (r Rewind) Raycast(x, y, dx, dy, length float64, skip func(id uint64) bool) (Hit, bool) {
	ray, ok := newRay(x, y, dx, dy, length)
	if !ok {
		return Hit{}, false
	}
	var best Hit
	found := false
	j := 0
	for _, s := range r.a {
		s = r.shape(s, &j)
		d, ok := ray.hit(s)
		// In order of ID: a tie keeps the lower ID, found first.
		if ok && (!found || d < best.Dist) && (skip == nil || !skip(s.ID)) {
			best, found = Hit{Shape: s, Dist: d}, true
		}
	}
	return best, found
}

// Raycast is Rewind.Raycast on shapes at one time: the client's own test
// of what it sees, with the server's rule. The shapes need not be sorted.
func Raycast(shapes []Shape, x, y, dx, dy, length float64, skip func(id uint64) bool) (Hit, bool) {
	ray, ok := newRay(x, y, dx, dy, length)
	if !ok {
		return Hit{}, false
	}
	var best Hit
	found := false
	for _, s := range shapes {
		d, ok := ray.hit(s)
		if ok && (!found || d < best.Dist || d == best.Dist && s.ID < best.Shape.ID) && (skip == nil || !skip(s.ID)) {
			best, found = Hit{Shape: s, Dist: d}, true
		}
	}
	return best, found
}

// ray is a ray with a unit direction.
type ray struct {
	x, y, ux, uy, length float64
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func newRay(x, y, dx, dy, length float64) (ray, bool) {
	if !finite(x) || !finite(y) || !finite(dx) || !finite(dy) || math.IsNaN(length) {
		return ray{}, false
	}
	l := math.Hypot(dx, dy)
	if l == 0 || !finite(l) {
		return ray{}, false
	}
	return ray{x: x, y: y, ux: dx / l, uy: dy / l, length: max(length, 0)}, true
}

// hit returns the distance along the ray at which it enters s, 0 if it
// starts inside (or on its edge).
func (r ray) hit(s Shape) (float64, bool) {
	ox, oy := s.X-r.x, s.Y-r.y
	// The center's distance from the ray's line, and along it.
	perp := math.Abs(ox*r.uy - oy*r.ux)
	along := ox*r.ux + oy*r.uy
	// Negations, so that NaNs miss.
	if !(perp <= s.R) || !finite(along) || !finite(s.R) {
		return 0, false
	}
	// Half the chord.
	half := math.Sqrt((s.R - perp) * (s.R + perp))
	if !finite(half) {
		// The product overflowed: a huge circle.
		half = math.Sqrt(s.R-perp) * math.Sqrt(s.R+perp)
		if !finite(half) {
			return 0, false
		}
	}
	enter, exit := along-half, along+half
	if exit < 0 {
		return 0, false // behind
	}
	d := max(enter, 0)
	if d > r.length {
		return 0, false
	}
	return d, true
}
