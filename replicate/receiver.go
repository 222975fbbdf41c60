package replicate

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"time"
)

// ErrMalformed is wrapped by every error of a snapshot that does not
// decode.
var ErrMalformed = errors.New("replicate: malformed snapshot")

// ErrNoBaseline is wrapped by the error of a snapshot built on a state the
// receiver does not have: a snapshot the client received was not given to
// Handle. The receiver cannot recover by itself; the game asks the server
// to call Viewer.Resync for the client.
var ErrNoBaseline = errors.New("replicate: a snapshot builds on one this receiver was not given")

// ReceiverConfig is a Receiver's configuration; a zero field takes its
// default.
type ReceiverConfig struct {
	// Tag is the first byte of snapshot messages (DefaultTag): the
	// server's Config.Tag.
	Tag byte
	// MinDelay is the shortest interpolation delay: how far in the past
	// entities are shown (0: two snapshot intervals). The delay grows
	// with the jitter the receiver measures.
	MinDelay time.Duration
	// MaxExtrapolation is how far past the newest snapshot an entity
	// with a velocity is carried along it (500 ms); then it stops.
	MaxExtrapolation time.Duration
	// OnEnter is called from Advance when an entity appears at the
	// render time; OnLeave when it leaves (out of view or destroyed).
	OnEnter, OnLeave func(e Entity)
	// MaxEntities bounds the entities a receiver tracks (65,536).
	MaxEntities int
}

// A Receiver is the client's side: it decodes snapshots, keeps a short
// history of every entity and shows them at a render time slightly in the
// past, interpolated between snapshots (extrapolated a little when one is
// late). Handle and Advance never block: call them from the game's frame
// (Ebitengine's Update) on one goroutine. A Receiver is not safe for
// concurrent use.
type Receiver struct {
	s   *Schema
	cfg ReceiverConfig

	hist   [ringSize]rsnap
	have   bool
	newest uint32 // newest snapshot seq (full)
	newT   uint32 // its server time (ms)
	dataAt uint32
	data   []byte

	ents  []rentity
	index map[uint32]int32
	freeI []int32
	order []int32 // entities entered, in the order of entry

	start   time.Time
	offset  float64 // local ms - server ms, the smallest seen, drifting up
	jitter  float64 // ms
	period  float64 // ms between snapshots
	render  float64 // server ms shown
	lastAdv float64 // local ms of the last Advance
	stats   ReceiverStats
	strs    [MaxFields][]byte // strings of the entity being decoded
	dataBuf [MaxData]byte
}

// ReceiverStats describe what a Receiver got.
type ReceiverStats struct {
	Snapshots uint64 // decoded
	Late      uint64 // too old to use
	Errors    uint64 // malformed
	// NoBaseline counts snapshots built on a state the receiver lacks
	// (ErrNoBaseline): the game should ask for Viewer.Resync.
	NoBaseline uint64
	Bytes      uint64
	Entities   int           // shown now
	Delay      time.Duration // interpolation delay
	Jitter     time.Duration
	Interval   time.Duration // between the server's snapshots
	// Extrapolated counts entities drawn past their newest state at the
	// last Advance.
	Extrapolated int
}

type rsnap struct {
	seq   uint32
	ok    bool
	ids   []uint32
	kinds []int16
	vals  []uint32 // stride per id
}

const samples = 8

type rentity struct {
	id      uint32
	kind    int16
	used    bool
	lastSeq uint32 // newest update or removal applied
	gone    bool   // removed at goneT
	goneT   uint32
	shown   bool // OnEnter called
	n, head int  // samples
	t       [samples]uint32
	vals    []uint32 // samples*stride
	strs    [][]byte
	pos     int32 // in order, -1 when not shown
}

// NewReceiver returns a receiver for snapshots of schema's kinds.
func NewReceiver(s *Schema, cfg ReceiverConfig) *Receiver {
	if cfg.Tag == 0 {
		cfg.Tag = DefaultTag
	}
	if cfg.MaxExtrapolation <= 0 {
		cfg.MaxExtrapolation = 500 * time.Millisecond
	}
	if cfg.MaxEntities <= 0 {
		cfg.MaxEntities = 1 << 16
	}
	return &Receiver{s: s, cfg: cfg, index: map[uint32]int32{}, period: 1000.0 / 30}
}

func (r *Receiver) localMS(now time.Time) float64 {
	if r.start.IsZero() {
		r.start = now
	}
	return float64(now.Sub(r.start)) / float64(time.Millisecond)
}

// Handle takes a message the client received. It reports whether the
// message was a snapshot (its first byte is the tag), and an error when
// that snapshot did not decode; other messages are the game's.
func (r *Receiver) Handle(now time.Time, msg []byte) (bool, error) {
	if len(msg) == 0 || msg[0] != r.cfg.Tag {
		return false, nil
	}
	if err := r.decode(now, msg[1:]); err != nil {
		r.stats.Errors++
		return true, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return true, nil
}

func (r *Receiver) decode(now time.Time, b []byte) error {
	br := &bitReader{buf: b}
	seq16 := br.read(16)
	t := br.read(32)
	var data []byte
	if br.bit() {
		n := int(br.read(6))
		if n > MaxData {
			return errors.New("data too long")
		}
		data = r.dataBuf[:n]
		for i := range data {
			data[i] = byte(br.read(8))
		}
	}
	if br.err != nil {
		return br.err
	}
	seq := seq16
	if r.have {
		d := int32(int16(uint16(seq16) - uint16(r.newest)))
		seq = uint32(int64(r.newest) + int64(d))
		if int64(r.newest)+int64(d) < 1 || d <= -ringSize+1 {
			r.stats.Late++
			return nil
		}
	}
	if seq == 0 {
		return errors.New("snapshot 0")
	}
	r.stats.Bytes += uint64(len(b) + 1)
	h := &r.hist[seq%ringSize]
	if h.ok && h.seq == seq {
		return nil // a duplicate
	}
	if h.ok && h.seq > seq {
		r.stats.Late++
		return nil
	}
	h.seq, h.ok = seq, false
	h.ids, h.kinds, h.vals = h.ids[:0], h.kinds[:0], h.vals[:0]
	defer func() { h.ok = true }()

	// Removals.
	nrem := br.uvar()
	if int(nrem) > len(b)*8/5 {
		return errors.New("removal count beyond the message")
	}
	id := uint32(0)
	for j := range nrem {
		d := br.uvar()
		if j > 0 && d == 0 {
			return errors.New("removals out of order")
		}
		id += d
		if br.err != nil {
			return br.err
		}
		r.remove(id, seq, t)
	}
	nupd := br.uvar()
	if int(nupd) > len(b)*8/10 {
		return errors.New("update count beyond the message")
	}
	id = 0
	st := r.s.stride
	for j := range nupd {
		d := br.uvar()
		if j > 0 && d == 0 {
			return errors.New("updates out of order")
		}
		id += d
		age := br.read(ageBits)
		if br.err != nil {
			return br.err
		}
		var k int
		off := len(h.vals)
		h.vals = slices.Grow(h.vals, st)[:off+st]
		cur := h.vals[off : off+st]
		var strs uint32
		if age == 0 {
			k = int(br.read(6))
			if k >= len(r.s.kinds) {
				return fmt.Errorf("kind %d unknown", k)
			}
			kd := &r.s.kinds[k]
			mask := br.mask(len(kd.fields))
			for f := range kd.fields {
				fd := &kd.fields[f]
				cur[f] = fd.zero
				if mask&(1<<f) == 0 {
					continue
				}
				switch fd.Type {
				case TypeString:
					r.readString(br, fd, f)
					strs |= 1 << f
					cur[f] = 1
				case TypeBool:
					cur[f] = 1
				default:
					cur[f] = br.read(fd.bits)
					if cur[f] > fd.span {
						return errRange
					}
				}
			}
		} else {
			if age > seq-1 {
				return errors.New("baseline before the first snapshot")
			}
			base, bk, ok := r.baseline(seq-age, id)
			if !ok {
				r.stats.NoBaseline++
				return fmt.Errorf("%w: entity %d against snapshot %d", ErrNoBaseline, id, seq-age)
			}
			k = bk
			kd := &r.s.kinds[k]
			mask := br.mask(len(kd.fields))
			for f := range kd.fields {
				fd := &kd.fields[f]
				cur[f] = base[f]
				if mask&(1<<f) == 0 {
					continue
				}
				switch fd.Type {
				case TypeString:
					r.readString(br, fd, f)
					strs |= 1 << f
					cur[f] = base[f] + 1
				case TypeBool:
					cur[f] = base[f] ^ 1
				default:
					cur[f] = readDelta(br, fd, base[f])
					if cur[f] > fd.span {
						return errRange
					}
				}
			}
		}
		if br.err != nil {
			return br.err
		}
		h.ids = append(h.ids, id)
		h.kinds = append(h.kinds, int16(k))
		r.apply(id, k, seq, t, cur, strs)
	}
	if br.err != nil {
		return br.err
	}
	// The snapshot is good: time and data.
	r.stats.Snapshots++
	if data != nil && seq > r.dataAt {
		r.data, r.dataAt = append(r.data[:0], data...), seq
	} else if data == nil && seq > r.dataAt {
		r.data, r.dataAt = r.data[:0], seq
	}
	r.clock(now, seq, t)
	return nil
}

// baseline returns entity id's values in snapshot seq.
func (r *Receiver) baseline(seq, id uint32) ([]uint32, int, bool) {
	h := &r.hist[seq%ringSize]
	if !h.ok || h.seq != seq {
		return nil, 0, false
	}
	i, ok := slices.BinarySearch(h.ids, id)
	if !ok {
		return nil, 0, false
	}
	st := r.s.stride
	return h.vals[i*st : (i+1)*st], int(h.kinds[i]), true
}

func (r *Receiver) readString(br *bitReader, fd *field, f int) {
	n := int(br.read(fd.bits))
	if n > fd.MaxLen {
		br.err = errRange
		return
	}
	b := r.strs[f][:0]
	for range n {
		b = append(b, byte(br.read(8)))
	}
	r.strs[f] = b
}

// entity returns the record of id, making one (not yet shown) when make
// is set and there is room.
func (r *Receiver) entity(id uint32, create bool) *rentity {
	if i, ok := r.index[id]; ok {
		return &r.ents[i]
	}
	if !create || len(r.index) >= r.cfg.MaxEntities {
		return nil
	}
	var i int32
	if n := len(r.freeI); n > 0 {
		i = r.freeI[n-1]
		r.freeI = r.freeI[:n-1]
	} else {
		r.ents = append(r.ents, rentity{})
		i = int32(len(r.ents) - 1)
	}
	e := &r.ents[i]
	*e = rentity{id: id, used: true, pos: -1, vals: e.vals[:0], strs: e.strs[:0]}
	r.index[id] = i
	return e
}

// remove applies a removal of id in snapshot seq at server time t.
func (r *Receiver) remove(id, seq, t uint32) {
	e := r.entity(id, true)
	if e == nil || e.lastSeq >= seq {
		return
	}
	e.lastSeq = seq
	if !e.gone {
		e.gone, e.goneT = true, t
	}
}

// apply records entity id's state in snapshot seq, unless a newer one
// was applied.
func (r *Receiver) apply(id uint32, k int, seq, t uint32, vals []uint32, strs uint32) {
	e := r.entity(id, true)
	if e == nil || e.lastSeq >= seq {
		return
	}
	kd := &r.s.kinds[k]
	if e.gone || int(e.kind) != k || e.n == 0 {
		if e.shown && int(e.kind) != k && r.cfg.OnLeave != nil {
			// Its id now names another kind: the old one left.
			r.hide(e)
		}
		e.gone, e.kind, e.n, e.head = false, int16(k), 0, 0
		if len(e.vals) != samples*r.s.stride {
			e.vals = make([]uint32, samples*r.s.stride)
		}
		e.strs = e.strs[:0]
		for range kd.fields {
			e.strs = append(e.strs, nil)
		}
	}
	e.lastSeq = seq
	e.head = (e.head + 1) % samples
	e.n = min(e.n+1, samples)
	e.t[e.head] = t
	st := r.s.stride
	copy(e.vals[e.head*st:(e.head+1)*st], vals)
	for f := range kd.fields {
		if strs&(1<<f) != 0 {
			e.strs[f] = append(e.strs[f][:0], r.strs[f]...)
		}
	}
}

// clock learns the server's time and the snapshots' pace from snapshot
// seq sent at server time t.
func (r *Receiver) clock(now time.Time, seq, t uint32) {
	local := r.localMS(now)
	o := local - float64(t)
	if !r.have {
		r.have, r.newest, r.newT, r.offset = true, seq, t, o
		r.render = float64(t) - r.delay()
		r.lastAdv = local
		return
	}
	if seq > r.newest {
		if dt := float64(t - r.newT); t >= r.newT && dt < 5000 {
			p := dt / float64(seq-r.newest)
			r.period += (p - r.period) * 0.1
		}
		r.newest, r.newT = seq, t
	}
	if o < r.offset {
		r.offset = o
	} else {
		// Drift up slowly: the clocks' rates differ, the route changes.
		r.offset += (o - r.offset) * 0.002
	}
	r.jitter += (o - r.offset - r.jitter) * 0.1
}

func (r *Receiver) delay() float64 {
	d := 2*r.period + 3*r.jitter
	d = max(d, float64(r.cfg.MinDelay)/float64(time.Millisecond))
	return min(d, 1000)
}

// Advance moves the render time to now: call it once per frame, after
// Handle and before reading entities. It calls OnEnter and OnLeave.
func (r *Receiver) Advance(now time.Time) {
	if !r.have {
		return
	}
	local := r.localMS(now)
	target := local - r.offset - r.delay()
	r.render += local - r.lastAdv
	r.lastAdv = local
	if err := target - r.render; math.Abs(err) > 250 {
		r.render = target
	} else {
		r.render += err * 0.1
	}
	extr := 0
	for i := range r.ents {
		e := &r.ents[i]
		if !e.used {
			continue
		}
		if e.gone && float64(e.goneT) <= r.render {
			if e.shown {
				r.hide(e)
			}
			if r.newest-e.lastSeq > ringSize {
				r.forget(int32(i))
			}
			continue
		}
		if !e.shown && !e.gone && e.n > 0 && float64(e.t[e.oldest()]) <= r.render {
			e.shown = true
			e.pos = int32(len(r.order))
			r.order = append(r.order, int32(i))
			if r.cfg.OnEnter != nil {
				r.cfg.OnEnter(Entity{r, int32(i)})
			}
		}
		if e.shown && float64(e.t[e.head]) < r.render {
			extr++
		}
	}
	r.stats.Extrapolated = extr
}

func (e *rentity) oldest() int { return (e.head - e.n + 1 + samples) % samples }

func (r *Receiver) hide(e *rentity) {
	i := r.index[e.id]
	if r.cfg.OnLeave != nil {
		r.cfg.OnLeave(Entity{r, i})
	}
	e.shown = false
	last := int32(len(r.order) - 1)
	if e.pos >= 0 && e.pos <= last {
		m := r.order[last]
		r.order[e.pos] = m
		r.ents[m].pos = e.pos
		r.order = r.order[:last]
	}
	e.pos = -1
}

func (r *Receiver) forget(i int32) {
	e := &r.ents[i]
	delete(r.index, e.id)
	e.used = false
	r.freeI = append(r.freeI, i)
}

// Entities returns the entities shown at the render time, in no
// particular order.
func (r *Receiver) Entities() iter.Seq[Entity] {
	return func(yield func(Entity) bool) {
		for _, i := range r.order {
			if !yield(Entity{r, i}) {
				return
			}
		}
	}
}

// Len returns the number of entities shown.
func (r *Receiver) Len() int { return len(r.order) }

// Entity returns entity id if it is shown.
func (r *Receiver) Entity(id ID) (Entity, bool) {
	i, ok := r.index[uint32(id)]
	if !ok || !r.ents[i].shown {
		return Entity{}, false
	}
	return Entity{r, i}, true
}

// Data returns the game data of the newest snapshot (Viewer.SetData).
// It is valid until the next Handle.
func (r *Receiver) Data() []byte { return r.data }

// RenderTime returns the server time being shown, since the server's
// replicator started; Delay how far behind the newest snapshot it is.
func (r *Receiver) RenderTime() time.Duration {
	return time.Duration(r.render * float64(time.Millisecond))
}

// ServerTime returns the receiver's estimate of the server's time now
// (the newest snapshot's time, carried forward by the local clock).
func (r *Receiver) ServerTime(now time.Time) time.Duration {
	return time.Duration((r.localMS(now) - r.offset) * float64(time.Millisecond))
}

// Stats returns the receiver's figures.
func (r *Receiver) Stats() ReceiverStats {
	s := r.stats
	s.Entities = len(r.order)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	s.Delay, s.Jitter, s.Interval = ms(r.delay()), ms(r.jitter), ms(r.period)
	return s
}

// Schema returns the receiver's schema.
func (r *Receiver) Schema() *Schema { return r.s }

// An Entity is one entity as a Receiver shows it at its render time. It
// is valid until the next Handle or Advance.
type Entity struct {
	r *Receiver
	i int32
}

func (e Entity) rec() *rentity { return &e.r.ents[e.i] }

// ID returns the entity's id.
func (e Entity) ID() ID { return ID(e.rec().id) }

// Kind returns the entity's kind.
func (e Entity) Kind() int { return int(e.rec().kind) }

// Float returns a float or angle field at the render time: interpolated
// between the snapshots around it, or carried along its velocity past the
// newest (at most MaxExtrapolation past the newest snapshot).
func (e Entity) Float(f int) float64 {
	r, x := e.r, e.rec()
	kd := &r.s.kinds[x.kind]
	if f < 0 || f >= len(kd.fields) || x.n == 0 {
		return 0
	}
	fd := &kd.fields[f]
	st := r.s.stride
	val := func(s int, f int) float64 { return kd.fields[f].value(x.vals[s*st+f]) }
	// Find the newest sample at or before the render time.
	s := x.head
	for k := 0; k < x.n && float64(x.t[s]) > r.render; k++ {
		if k == x.n-1 {
			return val(s, f) // before the first: its first state
		}
		s = (s + samples - 1) % samples
	}
	axis := -1
	if kd.vel[0] >= 0 {
		if f == kd.pos[0] {
			axis = 0
		} else if f == kd.pos[1] {
			axis = 1
		}
	}
	if s != x.head {
		n := (s + 1) % samples
		t0, t1 := float64(x.t[s]), float64(x.t[n])
		if axis >= 0 {
			// Along the older state's velocity, as the server
			// promised it would be within tolerance, blending over
			// the last snapshot interval into the newer state's
			// line: exact for a drift, close for a thrust, and a
			// bounce is not cut short.
			vf := kd.vel[axis]
			pa := val(s, f) + val(s, vf)*(r.render-t0)/1000
			pb := val(n, f) + val(n, vf)*(r.render-t1)/1000
			alpha := min(max((r.render-(t1-r.period))/r.period, 0), 1)
			return pa + (pb-pa)*alpha
		}
		frac := 0.0
		if t1 > t0 {
			frac = (r.render - t0) / (t1 - t0)
		}
		a, b := val(s, f), val(n, f)
		switch fd.Type {
		case TypeFloat:
			return a + (b-a)*frac
		case TypeAngle:
			return a + math.Remainder(b-a, 2*math.Pi)*frac
		}
		return a
	}
	// Past the newest state: along the velocity, if the kind has one.
	v := val(s, f)
	if axis < 0 {
		return v
	}
	limit := float64(r.newT) + float64(r.cfg.MaxExtrapolation)/float64(time.Millisecond)
	dt := (min(r.render, limit) - float64(x.t[s])) / 1000
	if dt <= 0 {
		return v
	}
	return v + val(s, kd.vel[axis])*dt
}

// Int returns an int (or bool) field: the value of the state shown.
func (e Entity) Int(f int) int64 {
	r, x := e.r, e.rec()
	kd := &r.s.kinds[x.kind]
	if f < 0 || f >= len(kd.fields) || x.n == 0 {
		return 0
	}
	return kd.fields[f].intValue(x.vals[e.shownSample()*r.s.stride+f])
}

// Bool returns a bool field.
func (e Entity) Bool(f int) bool { return e.Int(f) != 0 }

// String returns a string field (its newest value).
func (e Entity) String(f int) string {
	x := e.rec()
	if f < 0 || f >= len(x.strs) {
		return ""
	}
	return string(x.strs[f])
}

// shownSample is the newest sample at or before the render time.
func (e Entity) shownSample() int {
	r, x := e.r, e.rec()
	s := x.head
	for k := 0; k < x.n-1 && float64(x.t[s]) > r.render; k++ {
		s = (s + samples - 1) % samples
	}
	return s
}
