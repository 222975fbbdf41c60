// Package timeline indexes a flight recording (internal/record) for the
// monitor's replay: where the monitor's once-a-second snapshots are, the
// per-second figures the monitor's history is made of, and markers of
// trouble (stalls, late ticks, handler panics, drops by reason, clients
// that timed out or left, a client's latency spikes, records the recording
// lost).
//
// A server recording with `serve --record` writes, once a second, a
// Snapshot record whose data is the JSON of an admin.Document, right after
// the Tick record of the tick in progress. Index reads the recording once,
// file by file, and keeps for each snapshot its place (the file, the tick
// whose Tick record it follows, and its rank after that record) and its
// figures without the clients' rows (about 1 KB a second); the whole
// Documents are decoded again on demand by a Cursor, which seeks by tick
// (reading block headers only) and keeps a few in a cache shared by the
// Recording's cursors. Nothing here reads the clock.
package timeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/server"
)

// Recording is a flight recording being indexed, or indexed. Its methods
// may be called from any goroutine.
type Recording struct {
	path       string
	files      []string
	start, end time.Time // the first and last blocks' times

	cache cache

	mu      sync.Mutex
	snaps   []Snap
	markers []Marker
	det     detector
	done    bool
	err     error
	skipped int // snapshot records that did not decode, or went back in time
	corrupt int // corrupt blocks (or unreadable files) skipped
}

// Snap is one of the monitor's snapshots in the recording.
type Snap struct {
	// Figures is the snapshot without its clients' rows and world map
	// (Peers and World are empty): what the monitor's per-second history
	// takes in. Figures.Taken is when the server published it.
	Figures server.Snapshot
	// Peers is how many clients the snapshot had rows for.
	Peers int
	// Tick is the tick in progress when it was recorded (0 before the
	// file's first Tick record).
	Tick uint64
	pos  pos
}

// Taken is when the server published the snapshot.
func (s *Snap) Taken() time.Time { return s.Figures.Taken }

// pos is where a snapshot record is: in file, after the Tick record of
// tick (or before the file's first Tick record, !ticked), the ord-th
// snapshot record after it.
type pos struct {
	file   int
	tick   uint64
	ticked bool
	ord    int
}

// before reports whether p comes before q in the same file.
func (p pos) before(q pos) bool {
	switch {
	case p.ticked != q.ticked:
		return !p.ticked
	case p.tick != q.tick:
		return p.tick < q.tick
	}
	return p.ord < q.ord
}

// Open opens the recording at path, a recording file or a directory of
// them (see internal/record), and reads its span from block headers. It
// does not index it: call Index, on a goroutine of its own to show the
// recording at once.
func Open(path string) (*Recording, error) {
	files, err := recordingFiles(path)
	if err != nil {
		return nil, err
	}
	r := &Recording{path: path, cache: cache{max: cacheDocs}, det: newDetector()}
	for _, name := range files {
		rd, err := record.Open(name)
		if err != nil {
			if len(files) == 1 {
				return nil, err
			}
			continue // Index counts it
		}
		_, _, s, e, err := rd.Span()
		rd.Close()
		if err != nil {
			continue // no blocks
		}
		if r.start.IsZero() || s.Before(r.start) {
			r.start = s
		}
		if e.After(r.end) {
			r.end = e
		}
	}
	if r.start.IsZero() {
		return nil, fmt.Errorf("timeline: %s: the recording holds no blocks", path)
	}
	r.files = files
	return r, nil
}

// recordingFiles returns the recording files of path in the order a
// record.Reader reads them: path itself, or a directory's files named
// rec-<unix-seconds>-<seq>.mpgsrec by (unix-seconds, seq).
func recordingFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	// record.Open checks the directory holds recording files of a
	// version this program reads.
	rd, err := record.Open(path)
	if err != nil {
		return nil, err
	}
	rd.Close()
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	type named struct {
		name     string
		sec, seq uint64
	}
	var names []named
	for _, e := range ents {
		s, ok := strings.CutPrefix(e.Name(), "rec-")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if s, ok = strings.CutSuffix(s, ".mpgsrec"); !ok {
			continue
		}
		a, b, ok := strings.Cut(s, "-")
		sec, err1 := strconv.ParseUint(a, 10, 63)
		seq, err2 := strconv.ParseUint(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		names = append(names, named{e.Name(), sec, seq})
	}
	slices.SortFunc(names, func(a, b named) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.seq, b.seq), strings.Compare(a.name, b.name))
	})
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(path, n.name)
	}
	return out, nil
}

// Path returns the path the recording was opened from.
func (r *Recording) Path() string { return r.path }

// Files returns how many files the recording has.
func (r *Recording) Files() int { return len(r.files) }

// Span returns the times of the recording's first and last blocks (a
// block spans at most a second), as block headers tell.
func (r *Recording) Span() (start, end time.Time) { return r.start, r.end }

// Len returns how many snapshots were indexed so far.
func (r *Recording) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.snaps)
}

// Snaps returns the snapshots indexed so far, in order. The slice is
// shared: do not change it.
func (r *Recording) Snaps() []Snap {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snaps[:len(r.snaps):len(r.snaps)]
}

// Find returns the last snapshot taken at or before t, or -1 when none
// was (or none is indexed yet).
func (r *Recording) Find(t time.Time) int {
	snaps := r.Snaps()
	return sort.Search(len(snaps), func(i int) bool { return snaps[i].Figures.Taken.After(t) }) - 1
}

// FindAfter returns the first snapshot taken at or after t, or Len() when
// none is indexed.
func (r *Recording) FindAfter(t time.Time) int {
	snaps := r.Snaps()
	return sort.Search(len(snaps), func(i int) bool { return !snaps[i].Figures.Taken.Before(t) })
}

// Markers returns the markers found so far, ordered by their start.
func (r *Recording) Markers() []Marker {
	r.mu.Lock()
	out := slices.Clone(r.markers)
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Marker) int { return a.At.Compare(b.At) })
	return out
}

// Progress tells how far Index got: whether it ended, the error that
// ended it early (nil when it read everything), and how many snapshot
// records it skipped (undecodable, or earlier than the one before) and
// corrupt blocks or unreadable files it met.
func (r *Recording) Progress() (done bool, err error, skipped, corrupt int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done, r.err, r.skipped, r.corrupt
}

// scanDoc is what Index decodes of a snapshot record: the Document's
// snapshot without its world map, and of each client only its token and
// latency.
type scanDoc struct {
	Snapshot struct {
		server.Snapshot
		// Peers and World hide the snapshot's own (encoding/json takes
		// the shallower field).
		Peers []struct {
			Token   uint32
			Latency time.Duration
		}
		World skipJSON
	} `json:"snapshot"`
	Logs    skipJSON `json:"logs"`
	Network skipJSON `json:"network"`
}

// skipJSON takes any JSON value and keeps nothing.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// Index reads the whole recording once: the snapshots' places and
// figures, and the markers. The Recording's methods show its progress
// meanwhile. It returns when it read everything or ctx is done (with
// ctx's error). Corrupt blocks and undecodable snapshots are skipped and
// counted (Progress).
func (r *Recording) Index(ctx context.Context) error {
	err := r.index(ctx)
	r.mu.Lock()
	r.done, r.err = true, err
	r.mu.Unlock()
	return err
}

func (r *Recording) index(ctx context.Context) error {
	ix := indexer{r: r, workers: runtime.GOMAXPROCS(0)}
	for fi, name := range r.files {
		rd, err := record.Open(name)
		if err != nil {
			r.count(&r.corrupt)
			continue
		}
		// The clock of events between snapshots: the file's first block's
		// time, then each Tick's delta, set again by each snapshot. A
		// record after a Tick record belongs to the next tick, reckoned
		// to end a delta later.
		_, _, start, _, err := rd.Span()
		if err != nil {
			rd.Close()
			continue // no blocks
		}
		ix.clock = start
		if ix.clock.Before(ix.last) {
			ix.clock = ix.last
		}
		err = ix.file(ctx, rd, fi)
		rd.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// indexer reads a recording's records in order and takes them in by
// batches, the snapshots of a batch decoded in parallel.
type indexer struct {
	r       *Recording
	workers int
	clock   time.Time // the events' clock, as of the items taken in
	last    time.Time // the latest snapshot's Taken
	items   []item
	snaps   int // snapshots among items
}

// item is a record the index takes in: a snapshot, a Disconnect, a
// Dropped.
type item struct {
	kind record.Kind
	// since is the Tick records' deltas since the item before (or the
	// file's start), delta the latest one's.
	since, delta time.Duration
	pos          pos    // a snapshot's place
	data         []byte // its JSON (a copy)
	doc          scanDoc
	ok           bool // it decoded
	peer         uint32
	reason       uint8
	records      uint64
}

// batchSnaps is how many snapshots each worker decodes in a batch.
const batchSnaps = 8

// file reads the records of file fi.
func (ix *indexer) file(ctx context.Context, rd *record.Reader, fi int) error {
	p := pos{file: fi}
	var since, delta time.Duration
	add := func(it item) {
		it.since, it.delta, since = since, delta, 0
		ix.items = append(ix.items, it)
	}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, record.ErrCorrupt) {
			ix.r.count(&ix.r.corrupt)
			continue
		}
		if err != nil {
			ix.r.count(&ix.r.corrupt)
			break
		}
		switch rec.Kind {
		case record.KindTick:
			p.tick, p.ticked, p.ord = rec.Tick, true, 0
			since += rec.Delta
			delta = rec.Delta
		case record.KindSnapshot:
			add(item{kind: rec.Kind, pos: p, data: append([]byte(nil), rec.Data...)})
			p.ord++
			ix.snaps++
			if ix.snaps >= batchSnaps*ix.workers {
				ix.flush()
			}
		case record.KindDisconnect:
			add(item{kind: rec.Kind, peer: rec.Peer, reason: rec.Reason})
		case record.KindDropped:
			add(item{kind: rec.Kind, records: rec.Records})
		}
	}
	ix.flush()
	return nil
}

// flush decodes the batch's snapshots, on a goroutine per worker, then
// takes the batch in, in order.
func (ix *indexer) flush() {
	var snaps []*item
	for i := range ix.items {
		if ix.items[i].kind == record.KindSnapshot {
			snaps = append(snaps, &ix.items[i])
		}
	}
	var wg sync.WaitGroup
	for w := range min(ix.workers, len(snaps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(snaps); k += ix.workers {
				it := snaps[k]
				it.ok = json.Unmarshal(it.data, &it.doc) == nil && !it.doc.Snapshot.Taken.IsZero()
				it.data = nil
			}
		}()
	}
	wg.Wait()
	r := ix.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range ix.items {
		it := &ix.items[i]
		ix.clock = ix.clock.Add(it.since)
		switch it.kind {
		case record.KindSnapshot:
			taken := it.doc.Snapshot.Taken
			if !it.ok || !taken.After(ix.last) {
				r.skipped++
				continue
			}
			ix.last, ix.clock = taken, taken
			s := Snap{Figures: it.doc.Snapshot.Snapshot, Peers: len(it.doc.Snapshot.Peers), Tick: it.pos.tick, pos: it.pos}
			s.Figures.Peers, s.Figures.World = nil, server.WorldMap{}
			r.snaps = append(r.snaps, s)
			r.det.snapshot(&r.markers, &s.Figures, peerLatencies(&it.doc))
		case record.KindDisconnect:
			r.det.disconnect(&r.markers, ix.clock.Add(it.delta), it.peer, it.reason)
		case record.KindDropped:
			r.det.lost(&r.markers, ix.clock.Add(it.delta), it.records)
		}
	}
	clear(ix.items)
	ix.items, ix.snaps = ix.items[:0], 0
}

func peerLatencies(d *scanDoc) []peerLatency {
	out := make([]peerLatency, len(d.Snapshot.Peers))
	for i, p := range d.Snapshot.Peers {
		out[i] = peerLatency{p.Token, p.Latency}
	}
	return out
}

func (r *Recording) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
}

// snap returns snapshot i.
func (r *Recording) snap(i int) (Snap, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 0 || i >= len(r.snaps) {
		return Snap{}, false
	}
	return r.snaps[i], true
}
