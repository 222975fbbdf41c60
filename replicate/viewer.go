package replicate

import (
	"cmp"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/mpgs/mpgameserver/conn"
)

// A Viewer is one client of a Replicator: where it looks, what it was
// sent and what it acknowledged. Its methods must be called on the
// replicator's goroutine.
type Viewer struct {
	r    *Replicator
	send Sender

	hasView      bool
	x, y, hw, hh float64
	relevant     []uint32
	data         []byte
	removed      bool

	ents  []ventry
	freeE []int32
	live  []int32 // entries in use
	table table

	ring [ringSize]sent
	recs []rec // a circle of recCap
	nrec uint32
	out  []byte // the snapshot to deliver, nil for none
	idle int    // snapshots since the last one sent

	charged int      // bytes held on the client's connection (Hold)
	newRefs []uint32 // entities this snapshot began to track

	cands []cand
	pick  []cand
	rems  []uint32
	w     bitWriter
	buf   []byte
	// curBuf and baseBuf hold an entity's states as sent (its records
	// carried to the snapshot's time).
	curBuf, baseBuf []uint32
	stats           ViewerStats
}

// ViewerStats describe one client's replication, for monitors.
type ViewerStats struct {
	InView  int // entities the client is told of
	Waiting int // entities whose change waits for room in a snapshot
	// OldestWait is how long the longest-waiting entity has waited.
	OldestWait time.Duration
	// Bytes is the size of the last snapshot, datagram overhead
	// included; Budget is what one may take.
	Bytes, Budget int
	Snapshots     uint64 // sent
	SentBytes     uint64 // of all snapshots, overhead included
	Acked         uint64 // snapshots the client acknowledged
	// Memory is what the viewer holds for the client, in bytes: charged
	// to its connection when the Sender is a *server.Peer (Peer.Hold).
	Memory int
	Full   uint64 // entities sent without a baseline
	Deltas uint64 // entities sent against a baseline
	// Resyncs counts Resync calls.
	Resyncs uint64
	// FullBits and DeltaBits are the bits those took, ids included.
	FullBits, DeltaBits uint64
	// View is the client's view area (centre and half sizes).
	X, Y, HalfW, HalfH float64
}

const (
	stFree uint8 = iota
	stVisible
	stLeaving
)

type ventry struct {
	slot    uint32
	gen     uint32
	inc     uint32 // incarnation, so that old acks miss a reused entry
	state   uint8
	hasBase bool
	base    uint32 // epoch of the acknowledged baseline
	sent    uint32 // epoch of the last send not yet acknowledged, 0 none
	stamp   uint32 // epoch it was last found in view
	prio    float64
	since   uint32 // epoch it started waiting, 0 not waiting
	livePos int32
}

type cand struct {
	prio float64
	e    int32
	id   uint32
	bits int
}

// sent is what one snapshot carried: its records in the viewer's recs,
// updates then removals.
type sent struct {
	seq        uint32
	pending    bool   // sent, its callback not yet called
	start      uint32 // of its records, counted since the viewer began
	nupd, nrem uint32
	cb         func(ok bool)
}

// rec is an entry a snapshot carried, and the entry's incarnation then.
type rec struct {
	e   int32
	inc uint32
}

// recCap bounds the records of the snapshots awaiting acks: when more
// are written, the oldest snapshots' acks are no longer applied.
const recCap = 4096

// Add makes a viewer of the world for a client; snapshots go to s (a
// *server.Peer). A new viewer sees nothing until SetView, except global
// kinds and entities marked relevant.
func (r *Replicator) Add(s Sender) *Viewer {
	v := &Viewer{r: r, send: s}
	n := r.cfg.MaxView
	v.ents = make([]ventry, 0, min(n, 256))
	v.table.init(min(n, 256))
	v.stats.Budget = r.budgetB + overhead
	v.recs = make([]rec, recCap)
	v.curBuf, v.baseBuf = make([]uint32, r.s.stride), make([]uint32, r.s.stride)
	for i := range v.ring {
		v.ring[i].cb = func(ok bool) { v.acked(i, ok) }
	}
	r.viewers = append(r.viewers, v)
	return v
}

// Remove forgets a viewer (its client left).
func (r *Replicator) Remove(v *Viewer) {
	if v.removed {
		return
	}
	v.removed = true
	for _, i := range v.live {
		v.release(&v.ents[i])
	}
	if h, ok := v.send.(holder); ok && v.charged > 0 {
		h.Release(v.charged)
		v.charged = 0
	}
	v.live = nil
	r.viewers = slices.DeleteFunc(r.viewers, func(o *Viewer) bool { return o == v })
}

// SetView sets the client's view area: a rectangle of half sizes hw, hh
// around (x, y), in the units of the position fields.
func (v *Viewer) SetView(x, y, hw, hh float64) {
	v.hasView, v.x, v.y, v.hw, v.hh = true, x, y, math.Abs(hw), math.Abs(hh)
}

// SetRelevant marks an entity relevant to this client wherever it is (its
// own avatar, a teammate), or clears the mark. At most 64 are marked.
func (v *Viewer) SetRelevant(id ID, on bool) {
	i := slices.Index(v.relevant, uint32(id))
	switch {
	case on && i < 0 && len(v.relevant) < 64:
		v.relevant = append(v.relevant, uint32(id))
	case !on && i >= 0:
		v.relevant = slices.Delete(v.relevant, i, i+1)
	}
}

// Resync forgets what the client acknowledged: every entity in its view
// goes whole again, as to a new client. A game calls it when the client
// says its receiver lacks a baseline (replicate.ErrNoBaseline); the budget
// still bounds what it costs.
func (v *Viewer) Resync() {
	for _, i := range v.live {
		e := &v.ents[i]
		e.hasBase, e.sent = false, 0
		e.inc++ // acks of snapshots sent before count no more
	}
	v.stats.Resyncs++
}

// SetData sets up to MaxData bytes that every snapshot to this client
// carries (what the client needs beside the world: the last input
// applied, its own entity). Receiver.Data returns it.
func (v *Viewer) SetData(b []byte) {
	v.data = append(v.data[:0], b[:min(len(b), MaxData)]...)
}

// Stats returns the client's replication figures.
func (v *Viewer) Stats() ViewerStats {
	s := v.stats
	s.X, s.Y, s.HalfW, s.HalfH = v.x, v.y, v.hw, v.hh
	s.Memory = v.footprint()
	return s
}

// newEntry starts tracking slot for this client, or returns -1 when its
// view is full.
func (v *Viewer) newEntry(slot uint32) int32 {
	var i int32
	if n := len(v.freeE); n > 0 {
		i = v.freeE[n-1]
		v.freeE = v.freeE[:n-1]
	} else {
		if len(v.ents) >= v.r.cfg.MaxView {
			return -1
		}
		v.ents = append(v.ents, ventry{})
		i = int32(len(v.ents) - 1)
	}
	e := &v.ents[i]
	inc := e.inc + 1
	*e = ventry{slot: slot, gen: v.r.ents[slot].gen, inc: inc, state: stVisible, livePos: int32(len(v.live))}
	v.live = append(v.live, i)
	v.table.put(slot, i)
	// Counted on the replicator's goroutine (deliver): workers share the
	// entities.
	v.newRefs = append(v.newRefs, slot)
	return i
}

// release stops tracking an entry.
func (v *Viewer) release(e *ventry) {
	if re := &v.r.ents[e.slot]; re.gen == e.gen && re.refs > 0 {
		re.refs--
	}
	e.state = stFree
	e.inc++
}

func (v *Viewer) drop(i int32) {
	e := &v.ents[i]
	v.table.del(e.slot)
	v.release(e)
	last := int32(len(v.live) - 1)
	if e.livePos != last {
		m := v.live[last]
		v.live[e.livePos] = m
		v.ents[m].livePos = e.livePos
	}
	v.live = v.live[:last]
	v.freeE = append(v.freeE, i)
}

// consider marks slot as in view this snapshot; enter says whether it may
// enter the view (it is in the view proper, not only in its margin).
func (v *Viewer) consider(slot uint32, enter bool) {
	r := v.r
	re := &r.ents[slot]
	if !re.alive {
		return
	}
	if i, ok := v.table.get(slot); ok {
		e := &v.ents[i]
		switch {
		case e.gen != re.gen: // its slot was reused: the old one leaves first
			e.state = stLeaving
		case e.state == stVisible:
			e.stamp = r.epoch
		case enter && (r.cfg.Filter == nil || r.cfg.Filter(v, ID(slot))):
			// Back before its removal was acknowledged: a new
			// incarnation, sent whole.
			e.state, e.hasBase, e.sent, e.stamp, e.since = stVisible, false, 0, r.epoch, 0
			e.inc++
		}
		return
	}
	if !enter || (r.cfg.Filter != nil && !r.cfg.Filter(v, ID(slot))) {
		return
	}
	if i := v.newEntry(slot); i >= 0 {
		v.ents[i].stamp = r.epoch
	}
}

// interest finds the entities relevant to the client this snapshot.
func (v *Viewer) interest() {
	r := v.r
	for _, s := range r.globals {
		v.consider(s, true)
	}
	for _, s := range v.relevant {
		if uint32(s) < r.top {
			v.consider(s, true)
		}
	}
	if !v.hasView || r.cfg.Full {
		return
	}
	mx, my := v.hw*(1+r.cfg.Margin), v.hh*(1+r.cfg.Margin)
	g := r.g
	cx0, cy0, cx1, cy1 := g.span(v.x-mx, v.y-my, v.x+mx, v.y+my)
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			for _, s := range g.cells[cy*g.w+cx] {
				e := &r.ents[s]
				dx, dy := math.Abs(e.x-v.x), math.Abs(e.y-v.y)
				if dx > mx || dy > my {
					continue
				}
				v.consider(s, dx <= v.hw && dy <= v.hh)
			}
		}
	}
}

// build works out the client's next snapshot into v.out. It runs on a
// worker: it reads the world and writes only the viewer.
func (v *Viewer) build() {
	r := v.r
	v.out = nil
	v.interest()
	v.cands, v.rems = v.cands[:0], v.rems[:0]
	waiting, oldest := 0, uint32(0)
	for li := 0; li < len(v.live); li++ {
		i := v.live[li]
		e := &v.ents[i]
		re := &r.ents[e.slot]
		if e.state == stVisible && (e.gen != re.gen || !re.alive || e.stamp != r.epoch) {
			e.state = stLeaving
		}
		if e.state == stLeaving {
			if len(v.rems) < v.perSnapshot() {
				v.rems = append(v.rems, e.slot)
			}
			continue
		}
		if !v.dirty(e, re) {
			e.since = 0
			continue
		}
		if e.since == 0 {
			e.since = r.epoch
		}
		waiting++
		oldest = max(oldest, r.epoch-e.since)
		e.prio += v.importance(e, re)
		v.cands = append(v.cands, cand{prio: e.prio, e: i, id: e.slot})
	}
	v.stats.InView = len(v.live) - len(v.rems)
	v.compose()
	v.stats.Waiting = waiting - len(v.pick)
	v.stats.OldestWait = time.Duration(oldest) * r.cfg.Interval
}

// importance is what an entity waiting gains per snapshot: its kind's
// priority, more the nearer it is to the client's view centre.
func (v *Viewer) importance(e *ventry, re *entity) float64 {
	k := &v.r.s.kinds[re.kind]
	p := k.prio
	if !e.hasBase {
		p *= 4 // entering matters most
	}
	if v.hasView && k.pos[0] >= 0 && !k.Global {
		d := math.Hypot(re.x-v.x, re.y-v.y)
		p /= 1 + d/(v.hw+v.hh+1)
	}
	return p
}

// dirty reports whether the entry must be sent: the client has no
// state of it, or not its newest record (and no send of it is on its
// way).
func (v *Viewer) dirty(e *ventry, re *entity) bool {
	if v.r.cfg.Full {
		return true
	}
	if e.hasBase && re.last <= e.base {
		return false
	}
	return !v.inFlight(e, re)
}

// inFlight reports whether the entry's last send, not yet acknowledged,
// still stands for it: no newer record, an ack can still be expected,
// and what the client had before it has not strayed far (a lost send of
// a turning entity is not waited for).
func (v *Viewer) inFlight(e *ventry, re *entity) bool {
	r := v.r
	if e.sent == 0 || r.epoch-e.sent > v.patience() || re.last > e.sent {
		return false
	}
	if !e.hasBase {
		return true
	}
	k := &r.s.kinds[re.kind]
	if k.vel[0] < 0 {
		return true
	}
	has := r.state(e.slot, e.base, v.baseBuf)
	if has == nil {
		return true
	}
	cur := r.vals[int(e.slot)*r.s.stride:]
	for a := range 2 {
		pf := &k.fields[k.pos[a]]
		if math.Abs(pf.value(has[k.pos[a]])-pf.value(cur[k.pos[a]])) > 4*k.tol {
			return false
		}
	}
	return true
}

// patience is how many snapshots an unacknowledged send is trusted: a
// round trip and a snapshot.
func (v *Viewer) patience() uint32 {
	p := uint32(2)
	if l, ok := v.send.(latencer); ok {
		p += uint32(2 * l.Latency() / v.r.cfg.Interval)
	}
	return min(p, window/2)
}

// perSnapshot bounds the updates (and the removals) of one snapshot.
func (v *Viewer) perSnapshot() int {
	if v.r.cfg.Full {
		return v.r.cfg.MaxView
	}
	return maxPerSnapshot
}

// compose picks what fits the budget, most important first, and encodes
// the snapshot.
func (v *Viewer) compose() {
	r := v.r
	budget := r.budgetB * 8
	if r.cfg.Full {
		budget = conn.MaxMessageSize * 8
	}
	budget -= 8 + 16 + 32 + 1 + 3 + 3 // tag, seq, time, data flag, two counts' prefixes
	if len(v.data) > 0 {
		budget -= 6 + 8*len(v.data)
	}
	// Removals first: they are small and a client must not keep a ghost.
	slices.Sort(v.rems)
	prev := uint32(0)
	nrem := 0
	for _, id := range v.rems {
		b := uvarBits(id - prev)
		if budget-b < 64 && nrem > 0 {
			break
		}
		budget -= b
		prev = id
		nrem++
	}
	v.rems = v.rems[:nrem]
	budget -= 32 // the counts' widest forms
	slices.SortFunc(v.cands, func(a, b cand) int { return cmp.Compare(b.prio, a.prio) })
	v.pick = v.pick[:0]
	misses := 0
	for _, c := range v.cands {
		if len(v.pick) >= v.perSnapshot() {
			break
		}
		v.w.reset(nil, true)
		v.encodeEntity(&v.w, &v.ents[c.e])
		c.bits = v.w.bits + 10 // its id's usual form (checked below)
		if c.bits > budget && !(len(v.pick) == 0 && c.bits <= budget+v.r.budgetB*8) {
			// (An entity larger than a whole budget still goes, alone
			// in its snapshot, rather than never.)
			if misses++; misses > 8 {
				break
			}
			continue
		}
		budget -= c.bits
		v.pick = append(v.pick, c)
	}
	slices.SortFunc(v.pick, func(a, b cand) int { return cmp.Compare(a.id, b.id) })
	// Ids went in at 10 bits each: take the least important out until
	// their true sizes fit.
	for over := v.idOverrun(budget); over > 0 && len(v.pick) > 1; over = v.idOverrun(budget) {
		least := 0
		for j, c := range v.pick {
			if c.prio < v.pick[least].prio {
				least = j
			}
		}
		v.pick = slices.Delete(v.pick, least, least+1)
	}
	v.idle++
	if len(v.pick) == 0 && len(v.rems) == 0 && v.idle < r.heartbit {
		return
	}
	if v.ring[r.epoch%ringSize].pending {
		// The snapshot that used this slot 64 snapshots ago was never
		// acknowledged nor timed out: the client is not keeping up.
		return
	}
	v.idle = 0
	v.write()
}

// idOverrun returns by how many bits the picked entities' ids, sorted,
// take more than the 10 bits each that the budget reserved (budget is
// what remained after them).
func (v *Viewer) idOverrun(budget int) int {
	over, prev := -budget, uint32(0)
	for _, c := range v.pick {
		over += uvarBits(c.id-prev) - 10
		prev = c.id
	}
	return over
}

// write encodes the picked entities and removals into v.out and records
// them in the ring.
func (v *Viewer) write() {
	r := v.r
	slot := &v.ring[r.epoch%ringSize]
	slot.seq, slot.start, slot.nupd, slot.nrem = r.epoch, v.nrec, 0, 0
	w := &v.w
	v.buf = append(v.buf[:0], r.cfg.Tag)
	w.reset(v.buf, false)
	w.write(r.epoch, 16)
	w.write(r.nowMS, 32)
	w.bit(len(v.data) > 0)
	if len(v.data) > 0 {
		w.write(uint32(len(v.data)), 6)
		for _, b := range v.data {
			w.write(uint32(b), 8)
		}
	}
	w.uvar(uint32(len(v.rems)))
	prev := uint32(0)
	for _, id := range v.rems {
		w.uvar(id - prev)
		prev = id
		i, _ := v.table.get(id)
		v.record(i)
		slot.nrem++
	}
	w.uvar(uint32(len(v.pick)))
	prev = 0
	for _, c := range v.pick {
		e := &v.ents[c.e]
		at := w.bits
		w.uvar(c.id - prev)
		prev = c.id
		full := v.encodeEntity(w, e)
		if full {
			v.stats.Full++
			v.stats.FullBits += uint64(w.bits - at)
		} else {
			v.stats.Deltas++
			v.stats.DeltaBits += uint64(w.bits - at)
		}
		e.prio, e.since, e.sent = 0, 0, r.epoch
		v.record(c.e)
		slot.nupd++
	}
	v.out = w.flush()
	v.buf = v.out
	v.stats.Bytes = len(v.out) + overhead
}

// encodeEntity writes an entity against its baseline (or whole) and says
// whether it went whole.
func (v *Viewer) encodeEntity(w *bitWriter, e *ventry) (full bool) {
	r := v.r
	re := &r.ents[e.slot]
	k := &r.s.kinds[re.kind]
	cur := r.state(e.slot, r.epoch, v.curBuf)[:len(k.fields)]
	var base []uint32
	if e.hasBase && !r.cfg.Full {
		base = r.state(e.slot, e.base, v.baseBuf)
	}
	if base == nil {
		w.write(0, ageBits)
		w.write(uint32(re.kind), 6)
		for f, q := range cur {
			w.bit(q != k.zeros[f])
		}
		for f := range k.fields {
			fd := &k.fields[f]
			switch {
			case cur[f] == k.zeros[f]:
			case fd.Type == TypeString:
				writeString(w, fd, re.strs[f])
			case fd.Type != TypeBool:
				w.write(cur[f], fd.bits)
			}
		}
		return true
	}
	w.write(r.epoch-e.base, ageBits)
	for f, q := range cur {
		w.bit(q != base[f])
	}
	for f := range k.fields {
		fd := &k.fields[f]
		switch {
		case cur[f] == base[f]:
		case fd.Type == TypeString:
			writeString(w, fd, re.strs[f])
		case fd.Type != TypeBool:
			writeDelta(w, fd, cur[f], base[f])
		}
	}
	return false
}

func writeString(w *bitWriter, f *field, s []byte) {
	w.write(uint32(len(s)), f.bits)
	for _, b := range s {
		w.write(uint32(b), 8)
	}
}

func uvarBits(v uint32) int {
	switch {
	case v < 1<<4:
		return 5
	case v < 1<<8:
		return 10
	case v < 1<<16:
		return 19
	}
	return 35
}

// holder is the optional side of a Sender that charges memory to the
// client's connection (*server.Peer).
type holder interface {
	Hold(n int) error
	Release(n int)
}

// footprint is what the viewer holds for its client, in bytes.
func (v *Viewer) footprint() int {
	return cap(v.ents)*int(unsafe.Sizeof(ventry{})) + 8*len(v.table.keys) + len(v.recs)*int(unsafe.Sizeof(rec{})) +
		(cap(v.cands)+cap(v.pick))*int(unsafe.Sizeof(cand{})) + 4*(cap(v.live)+cap(v.freeE)+cap(v.rems)) + cap(v.buf) +
		int(unsafe.Sizeof(*v))
}

// charge holds the growth of the viewer's memory on its client's
// connection; it reports false when the connection refuses it (the
// client holds more than its share while memory is short, and is being
// disconnected).
func (v *Viewer) charge() bool {
	h, ok := v.send.(holder)
	if !ok {
		return true
	}
	if fp := v.footprint(); fp > v.charged {
		if err := h.Hold(fp - v.charged); err != nil {
			return false
		}
		v.charged = fp
	}
	return true
}

// deliver sends the snapshot build made, on the replicator's goroutine.
func (v *Viewer) deliver() {
	r := v.r
	for _, slot := range v.newRefs {
		r.ents[slot].refs++
	}
	v.newRefs = v.newRefs[:0]
	if v.out == nil {
		return
	}
	if !v.charge() {
		r.stats.SendFails++
		v.out = nil
		return
	}
	slot := &v.ring[r.epoch%ringSize]
	slot.pending = true
	if err := v.send.Send(v.out, conn.RetryNone, slot.cb); err != nil {
		r.stats.SendFails++
		slot.seq, slot.pending = 0, false
		v.out = nil
		return
	}
	v.stats.Snapshots++
	v.stats.SentBytes += uint64(len(v.out) + overhead)
	r.stats.Snapshots++
	r.stats.Bytes += uint64(len(v.out) + overhead)
	v.out = nil
}

// acked applies the client's acknowledgement of the snapshot in ring slot
// i: its entities' baselines move up to it, its removals are done.
func (v *Viewer) acked(i int, ok bool) {
	s := &v.ring[i]
	s.pending = false
	if !ok || v.removed || s.seq == 0 {
		return
	}
	seq := s.seq
	s.seq = 0 // an ack counts once
	if v.nrec-s.start > recCap {
		return // its records were written over
	}
	v.stats.Acked++
	// Removals were written first, then updates.
	for j := range s.nrem {
		rc := v.recs[(s.start+j)%recCap]
		if e := &v.ents[rc.e]; e.inc == rc.inc && e.state == stLeaving {
			v.drop(rc.e)
		}
	}
	for j := range s.nupd {
		rc := v.recs[(s.start+s.nrem+j)%recCap]
		e := &v.ents[rc.e]
		if e.inc != rc.inc || e.state != stVisible {
			continue
		}
		if !e.hasBase || seq > e.base {
			e.hasBase, e.base = true, seq
		}
		if e.sent <= seq {
			e.sent = 0
		}
	}
}

func (v *Viewer) record(e int32) {
	v.recs[v.nrec%recCap] = rec{e, v.ents[e].inc}
	v.nrec++
}
