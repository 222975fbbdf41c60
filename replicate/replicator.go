package replicate

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// ID names an entity, the same on the server and its clients. IDs are
// small numbers, reused some time after an entity is destroyed.
type ID uint32

// A Sender is where a Viewer's snapshots go: a *server.Peer. Snapshots
// are sent with conn.RetryNone and a callback, which the replicator needs
// to learn what the client acknowledged.
type Sender interface {
	Send(payload []byte, retry conn.RetryMode, callback func(ok bool)) error
}

// latencer is the optional side of a Sender that knows its latency.
type latencer interface{ Latency() time.Duration }

// Config is a Replicator's configuration; a zero field takes its default.
type Config struct {
	// Interval is the time between snapshots (1/30 s). Update sends one
	// to every client at most this often.
	Interval time.Duration
	// Budget is each client's downstream budget in bits per second,
	// datagram overhead included (64,000). A snapshot takes at most
	// Budget*Interval, and never more than one datagram.
	Budget int
	// Heartbeat is the longest time without a snapshot: when nothing
	// changed, an empty one goes this often (250 ms) so that clients know
	// the world is still as they have it.
	Heartbeat time.Duration
	// MaxEntities bounds the entities alive at once (65,536).
	MaxEntities int
	// MaxView bounds the entities one client is told of at once (1,024):
	// the memory of its baselines.
	MaxView int
	// CellSize is the side of the interest grid's cells in world units
	// (256).
	CellSize float64
	// Margin widens a client's view before an entity counts as having
	// left it, as a share of the view's size (1/8), so that an entity on
	// the edge does not come and go.
	Margin float64
	// Filter, when set, decides whether an entity in a client's view is
	// relevant to it (a team's fog of war, say). It is called from the
	// replicator's workers, concurrently: it must only read.
	Filter func(v *Viewer, id ID) bool
	// Workers is how many goroutines encode snapshots (GOMAXPROCS).
	Workers int
	// Tag is the first byte of every snapshot message, which Receiver
	// recognizes (0xD5). Choose one that none of the game's own messages
	// starts with.
	Tag byte
	// Full turns replication off, to compare with: every client gets the
	// whole world, every entity in full, in every snapshot (fragmented as
	// needed), without interest, deltas or budget.
	Full bool
}

// Defaults.
const (
	DefaultInterval  = time.Second / 30
	DefaultBudget    = 64_000
	DefaultHeartbeat = 250 * time.Millisecond
	DefaultTag       = 0xD5
	// MaxData is the most bytes of game data a snapshot carries for its
	// client (Viewer.SetData).
	MaxData = 32
	// overhead is what a datagram costs beyond the snapshot: the
	// protocol's header, tag and message header.
	overhead = 20 + 16 + 2 + 2
	// window is how far back (in snapshots) a baseline may be.
	window = 64
	// ageBits is the width of a baseline's age on the wire.
	ageBits = 6
	// ringSize is how many sent snapshots a viewer remembers until
	// their acks: a client's Receiver keeps as many.
	ringSize = 2 * window
	// historyLen is how many past states an entity keeps.
	historyLen = window
	// maxPerSnapshot bounds the entities (updates and removals each) of
	// one snapshot.
	maxPerSnapshot = 512
	// reclaimAfter is how long (snapshots) a destroyed entity's slot
	// waits for clients to acknowledge its removal before it is reused.
	reclaimAfter = 4 * window
)

// ErrFull is returned by Spawn when MaxEntities are alive.
var ErrFull = errors.New("replicate: too many entities")

// A Replicator holds the replicated world and sends each client what it
// should see of it. Its methods must be called from one goroutine, the
// server's event goroutine (the handler's methods), except Close.
type Replicator struct {
	s   *Schema
	cfg Config

	ents    []entity
	vals    []uint32 // current values, stride per slot
	hist    []uint32 // history values, historyLen*stride per slot
	free    []uint32 // FIFO of free slots
	freeAt  int
	top     uint32 // slots ever used
	dirty   []uint32
	globals []uint32
	moving  []uint32 // entities whose newest record has a velocity
	zombies []uint32 // destroyed slots waiting for their removal acks
	alive   int
	g       *grid

	epoch    uint32 // snapshots taken
	start    time.Time
	last     time.Time // of the last snapshot
	times    [2 * window]uint32
	viewers  []*Viewer
	nowMS    uint32
	workers  int
	next     atomic.Int64
	ready    atomic.Uint32 // the epoch whose world is recorded, for workers
	wake     []chan struct{}
	wg       sync.WaitGroup
	closed   bool
	stats    Stats
	budgetB  int // bytes per snapshot, overhead excluded
	heartbit int // snapshots between heartbeats
}

type entity struct {
	kind    int16 // -1: free
	alive   bool
	changed bool
	gen     uint32
	refs    int32
	died    uint32 // epoch of Destroy
	last    uint32 // epoch of the newest history record
	hn      uint8  // records in the history
	hhead   uint8  // index of the newest record
	hepoch  [historyLen]uint32
	htime   [historyLen]uint32 // ms
	strs    [][]byte
	cell    int32 // -1: not in the grid
	cellI   int32
	globalI int32
	movingI int32 // in moving, -1 when not
	x, y    float64
}

// Stats are a replicator's counters.
type Stats struct {
	Entities  int    // alive
	Viewers   int    // clients
	Snapshots uint64 // sent, all clients
	Bytes     uint64 // of snapshots sent, all clients
	SendFails uint64 // snapshots the connection refused
}

// New returns a replicator of schema's kinds.
func New(s *Schema, cfg Config) *Replicator {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.MaxEntities <= 0 || cfg.MaxEntities > 1<<20 {
		cfg.MaxEntities = 1 << 16
	}
	if cfg.MaxView <= 0 {
		cfg.MaxView = 1024
	}
	if cfg.Full {
		cfg.MaxView = cfg.MaxEntities
	}
	if cfg.CellSize <= 0 {
		cfg.CellSize = 256
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 1.0 / 8
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Tag == 0 {
		cfg.Tag = DefaultTag
	}
	r := &Replicator{s: s, cfg: cfg, workers: cfg.Workers}
	r.budgetB = int(int64(cfg.Budget)*int64(cfg.Interval)/int64(time.Second)/8) - overhead
	r.budgetB = min(max(r.budgetB, 32), conn.MaxSingleMessage)
	r.heartbit = max(1, int(cfg.Heartbeat/cfg.Interval))
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, k := range s.kinds {
		if k.pos[0] < 0 {
			continue
		}
		fx, fy := k.fields[k.pos[0]], k.fields[k.pos[1]]
		minX, maxX = min(minX, fx.Min), max(maxX, fx.Max)
		minY, maxY = min(minY, fy.Min), max(maxY, fy.Max)
	}
	if minX > maxX {
		minX, minY, maxX, maxY = 0, 0, 1, 1
	}
	cell := cfg.CellSize
	for (maxX-minX)/cell*(maxY-minY)/cell > 1<<18 { // bound the grid's size
		cell *= 2
	}
	r.g = newGrid(minX, minY, maxX, maxY, cell)
	if r.workers > 1 {
		for range r.workers - 1 {
			ch := make(chan struct{})
			r.wake = append(r.wake, ch)
			go r.worker(ch)
		}
	}
	return r
}

// Schema returns the replicator's schema.
func (r *Replicator) Schema() *Schema { return r.s }

// Close stops the replicator's workers. It may be called from any
// goroutine, once Update no longer runs.
func (r *Replicator) Close() {
	if r.closed {
		return
	}
	r.closed = true
	for _, ch := range r.wake {
		close(ch)
	}
}

// Spawn makes an entity of kind k, all its fields zero, and returns its
// ID. It enters clients' views at the next snapshot after its position
// is set.
func (r *Replicator) Spawn(k int) (ID, error) {
	if k < 0 || k >= len(r.s.kinds) {
		return 0, fmt.Errorf("replicate: no kind %d", k)
	}
	r.reclaim(false)
	if r.alive >= r.cfg.MaxEntities {
		return 0, ErrFull
	}
	var slot uint32
	if r.freeAt < len(r.free) && !(r.top < uint32(r.cfg.MaxEntities) && len(r.free)-r.freeAt < 64) {
		// Reuse the slot freed longest ago, unless there is room to
		// let freed slots rest a while longer.
		slot = r.free[r.freeAt]
		r.freeAt++
		if r.freeAt > 1024 && r.freeAt*2 > len(r.free) {
			n := copy(r.free, r.free[r.freeAt:])
			r.free, r.freeAt = r.free[:n], 0
		}
	} else if r.top < uint32(r.cfg.MaxEntities) {
		slot = r.top
		r.top++
		st := r.s.stride
		r.ents = append(r.ents, entity{kind: -1, cell: -1, globalI: -1, movingI: -1})
		r.vals = append(r.vals, make([]uint32, st)...)
		r.hist = append(r.hist, make([]uint32, st*historyLen)...)
	} else {
		slot = r.free[r.freeAt]
		r.freeAt++
	}
	e := &r.ents[slot]
	gen := e.gen + 1
	*e = entity{kind: int16(k), alive: true, gen: gen, cell: -1, globalI: -1, movingI: -1, strs: e.strs[:0]}
	kd := &r.s.kinds[k]
	copy(r.vals[int(slot)*r.s.stride:int(slot+1)*r.s.stride], kd.zeros)
	if kd.strings {
		for range kd.fields {
			e.strs = append(e.strs, nil)
		}
	}
	if kd.Global || r.cfg.Full {
		e.globalI = int32(len(r.globals))
		r.globals = append(r.globals, slot)
	}
	r.alive++
	r.markChanged(slot)
	return ID(slot), nil
}

func (r *Replicator) markChanged(slot uint32) {
	e := &r.ents[slot]
	if !e.changed {
		e.changed = true
		r.dirty = append(r.dirty, slot)
	}
}

// Destroy removes an entity: every client that knew it is told, reliably.
func (r *Replicator) Destroy(id ID) {
	e := r.get(id)
	if e == nil {
		return
	}
	slot := uint32(id)
	e.alive = false
	e.died = r.epoch
	r.alive--
	if e.cell >= 0 {
		if moved, ok := r.g.remove(e.cell, e.cellI); ok {
			r.ents[moved].cellI = e.cellI
		}
		e.cell = -1
	}
	if e.globalI >= 0 {
		last := len(r.globals) - 1
		if int(e.globalI) != last {
			m := r.globals[last]
			r.globals[e.globalI] = m
			r.ents[m].globalI = e.globalI
		}
		r.globals = r.globals[:last]
		e.globalI = -1
	}
	r.setMoving(slot, false)
	r.zombies = append(r.zombies, slot)
}

// setMoving keeps the list of entities whose newest record moves: each
// snapshot checks them against their line, changed or not.
func (r *Replicator) setMoving(slot uint32, on bool) {
	e := &r.ents[slot]
	switch {
	case on && e.movingI < 0:
		e.movingI = int32(len(r.moving))
		r.moving = append(r.moving, slot)
	case !on && e.movingI >= 0:
		last := len(r.moving) - 1
		if int(e.movingI) != last {
			m := r.moving[last]
			r.moving[e.movingI] = m
			r.ents[m].movingI = e.movingI
		}
		r.moving = r.moving[:last]
		e.movingI = -1
	}
}

// reclaim frees destroyed slots no client refers to any more, or that
// waited long enough (all, with force).
func (r *Replicator) reclaim(force bool) {
	keep := r.zombies[:0]
	for _, slot := range r.zombies {
		e := &r.ents[slot]
		if e.refs > 0 && !force && r.epoch-e.died < reclaimAfter {
			keep = append(keep, slot)
			continue
		}
		e.kind, e.refs = -1, 0
		r.free = append(r.free, slot)
	}
	r.zombies = keep
}

func (r *Replicator) get(id ID) *entity {
	if uint32(id) >= r.top {
		return nil
	}
	e := &r.ents[id]
	if !e.alive {
		return nil
	}
	return e
}

// Alive reports whether id names a live entity.
func (r *Replicator) Alive(id ID) bool { return r.get(id) != nil }

// Kind returns the kind of a live entity, or -1.
func (r *Replicator) Kind(id ID) int {
	if e := r.get(id); e != nil {
		return int(e.kind)
	}
	return -1
}

func (r *Replicator) field(id ID, f int) (*entity, *field) {
	e := r.get(id)
	if e == nil {
		return nil, nil
	}
	k := &r.s.kinds[e.kind]
	if f < 0 || f >= len(k.fields) {
		return nil, nil
	}
	return e, &k.fields[f]
}

func (r *Replicator) setQ(id ID, f int, q uint32) {
	v := &r.vals[int(id)*r.s.stride+f]
	if *v != q {
		*v = q
		r.markChanged(uint32(id))
	}
}

// Set sets a float, angle, int or bool field (non-zero is true) of an
// entity. Setting a field of a dead entity, or a field it does not have,
// does nothing.
func (r *Replicator) Set(id ID, f int, v float64) {
	if _, fd := r.field(id, f); fd != nil && fd.Type != TypeString {
		r.setQ(id, f, fd.quantize(v))
	}
}

// SetInt sets an int (or other numeric) field.
func (r *Replicator) SetInt(id ID, f int, v int64) {
	if _, fd := r.field(id, f); fd != nil && fd.Type != TypeString {
		r.setQ(id, f, fd.quantizeInt(v))
	}
}

// SetBool sets a bool field.
func (r *Replicator) SetBool(id ID, f int, v bool) {
	if v {
		r.SetInt(id, f, 1)
	} else {
		r.SetInt(id, f, 0)
	}
}

// SetString sets a string field, cut to its MaxLen bytes.
func (r *Replicator) SetString(id ID, f int, s string) {
	e, fd := r.field(id, f)
	if fd == nil || fd.Type != TypeString {
		return
	}
	if len(s) > fd.MaxLen {
		s = s[:fd.MaxLen]
	}
	if string(e.strs[f]) == s {
		return
	}
	e.strs[f] = append(e.strs[f][:0], s...)
	// The stored value is a version, so that baselines see the change.
	r.setQ(id, f, r.vals[int(id)*r.s.stride+f]+1)
}

// Value returns a field's current value as sent (quantized).
func (r *Replicator) Value(id ID, f int) float64 {
	if _, fd := r.field(id, f); fd != nil {
		return fd.value(r.vals[int(id)*r.s.stride+f])
	}
	return 0
}

// Stats returns the replicator's counters.
func (r *Replicator) Stats() Stats {
	s := r.stats
	s.Entities, s.Viewers = r.alive, len(r.viewers)
	return s
}

// Update sends the snapshots that are due: call it every tick, with the
// tick's time. It records what changed, works out each client's snapshot
// on the replicator's workers, and sends them.
func (r *Replicator) Update(now time.Time) {
	if r.start.IsZero() {
		r.start = now
	}
	if !r.last.IsZero() && now.Sub(r.last) < r.cfg.Interval-r.cfg.Interval/8 {
		return
	}
	r.last = now
	r.epoch++
	ms := now.Sub(r.start).Milliseconds()
	r.nowMS = uint32(ms)
	r.times[r.epoch%uint32(len(r.times))] = r.nowMS
	parallel := len(r.wake) > 0 && len(r.viewers) > 1
	if parallel {
		// Wake the workers first: a parked thread takes tens of
		// microseconds to run, which the recording below hides. They
		// wait for it to end (ready).
		r.next.Store(int64(len(r.viewers))) // nothing to take yet
		r.wg.Add(len(r.wake))
		for _, ch := range r.wake {
			ch <- struct{}{}
		}
	}
	r.record()
	r.reclaim(false)
	r.next.Store(0)
	if parallel {
		r.ready.Store(r.epoch)
		r.drain()
		r.wg.Wait()
	} else {
		r.drain()
	}
	for _, v := range r.viewers {
		v.deliver()
	}
}

func (r *Replicator) worker(wake chan struct{}) {
	for range wake {
		epoch := r.epoch // written before the wake-up's send
		for r.ready.Load() != epoch {
			runtime.Gosched() // the recording is short: wait on the CPU
		}
		r.drain()
		r.wg.Done()
	}
}

// drain builds snapshots for viewers until none is left.
func (r *Replicator) drain() {
	for {
		i := int(r.next.Add(1)) - 1
		if i >= len(r.viewers) {
			return
		}
		r.viewers[i].build()
	}
}

// record writes the changed entities' states into their histories and
// moves them in the grid. An entity with a velocity gets a new record only
// when it strays from its last one's line by more than its kind's
// tolerance, or a field other than its motion changed: a drifting entity
// keeps one record, and clients that have it need nothing more.
func (r *Replicator) record() {
	st := r.s.stride
	for _, slot := range r.moving {
		r.markChanged(slot)
	}
	for _, slot := range r.dirty {
		e := &r.ents[slot]
		e.changed = false
		if !e.alive {
			continue
		}
		k := &r.s.kinds[e.kind]
		cur := r.vals[int(slot)*st : int(slot+1)*st]
		if k.pos[0] >= 0 && !k.Global && !r.cfg.Full {
			e.x, e.y = k.fields[k.pos[0]].value(cur[k.pos[0]]), k.fields[k.pos[1]].value(cur[k.pos[1]])
			if c := r.g.cellOf(e.x, e.y); c != e.cell {
				if e.cell >= 0 {
					if moved, ok := r.g.remove(e.cell, e.cellI); ok {
						r.ents[moved].cellI = e.cellI
					}
				}
				e.cell, e.cellI = c, r.g.insert(c, slot)
			}
		}
		if k.vel[0] >= 0 && e.hn > 0 && !r.cfg.Full && r.follows(slot, k, cur) {
			continue
		}
		e.hhead = uint8((int(e.hhead) + 1) % historyLen)
		if e.hn < historyLen {
			e.hn++
		}
		e.hepoch[e.hhead] = r.epoch
		e.htime[e.hhead] = r.nowMS
		e.last = r.epoch
		copy(r.hist[(int(slot)*historyLen+int(e.hhead))*st:], cur)
		if k.vel[0] >= 0 && !r.cfg.Full {
			r.setMoving(slot, cur[k.vel[0]] != k.zeros[k.vel[0]] || cur[k.vel[1]] != k.zeros[k.vel[1]])
		}
	}
	r.dirty = r.dirty[:0]
}

// follows reports whether cur is what slot's newest record predicts now:
// the same but for its motion, its position within tolerance of the
// record's line.
func (r *Replicator) follows(slot uint32, k *kind, cur []uint32) bool {
	e := &r.ents[slot]
	st := r.s.stride
	rec := r.hist[(int(slot)*historyLen+int(e.hhead))*st:]
	for f := range k.fields {
		if f != k.pos[0] && f != k.pos[1] && f != k.vel[0] && f != k.vel[1] && cur[f] != rec[f] {
			return false
		}
	}
	dt := float64(r.nowMS-e.htime[e.hhead]) / 1000
	for a := range 2 {
		pf, vf := &k.fields[k.pos[a]], &k.fields[k.vel[a]]
		want := pf.value(rec[k.pos[a]]) + vf.value(rec[k.vel[a]])*dt
		if math.Abs(want-pf.value(cur[k.pos[a]])) > k.tol {
			return false
		}
	}
	return true
}

// state returns the values slot was sent with at snapshot epoch seq (its
// newest record then, carried along its velocity to seq's time), in dst
// or in its history; nil when its history no longer goes back that far or
// seq is out of the window.
func (r *Replicator) state(slot uint32, seq uint32, dst []uint32) []uint32 {
	e := &r.ents[slot]
	if r.epoch-seq >= window {
		return nil
	}
	st := r.s.stride
	h := int(e.hhead)
	for range e.hn {
		if e.hepoch[h] <= seq {
			rec := r.hist[(int(slot)*historyLen+h)*st : (int(slot)*historyLen+h+1)*st]
			k := &r.s.kinds[e.kind]
			if k.vel[0] < 0 || r.cfg.Full {
				return rec
			}
			copy(dst, rec)
			dt := float64(r.timeOf(seq)-e.htime[h]) / 1000
			for a := range 2 {
				pf, vf := &k.fields[k.pos[a]], &k.fields[k.vel[a]]
				dst[k.pos[a]] = pf.quantize(pf.value(rec[k.pos[a]]) + vf.value(rec[k.vel[a]])*dt)
			}
			return dst
		}
		h = (h + historyLen - 1) % historyLen
	}
	return nil
}

// timeOf returns the time (ms) of a snapshot epoch within the window.
func (r *Replicator) timeOf(seq uint32) uint32 { return r.times[seq%uint32(len(r.times))] }
