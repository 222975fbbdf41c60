package timeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/ops/admin"
)

// cacheDocs is how many decoded Documents a Recording keeps for its
// cursors: the latest few the monitor showed (a Document of 256 clients
// is about 150 KB decoded).
const cacheDocs = 24

// forwardSnaps is how many snapshots ahead of the last one it read a
// cursor reads on rather than seeking: a second's records or a few.
const forwardSnaps = 4

// Cursor reads the recording's snapshots whole, decoded, by their index.
// It is not safe for concurrent use: give each goroutine its own. Its
// Documents are shared with the Recording's other cursors (a small cache):
// do not change them.
type Cursor struct {
	rec   *Recording
	files map[int]*fileCursor
}

// fileCursor reads one file and knows where it stands.
type fileCursor struct {
	r     *record.Reader
	at    pos // the position of the last snapshot record it read
	known bool
	last  int // that snapshot's index (-1: one not indexed)
}

// NewCursor returns a cursor over the recording; Close it.
func (r *Recording) NewCursor() *Cursor { return &Cursor{rec: r, files: map[int]*fileCursor{}} }

// Close closes the cursor's files.
func (c *Cursor) Close() error {
	var err error
	for i, f := range c.files {
		err = errors.Join(err, f.r.Close())
		delete(c.files, i)
	}
	return err
}

// Load returns snapshot i's Document. It reads the record by seeking to
// the tick it follows (block headers only, then a block or two), or by
// reading on when the cursor last read a snapshot a little before it.
func (c *Cursor) Load(i int) (*admin.Document, error) {
	if d := c.rec.cache.get(i); d != nil {
		return d, nil
	}
	s, ok := c.rec.snap(i)
	if !ok {
		return nil, fmt.Errorf("timeline: no snapshot %d (%d indexed)", i, c.rec.Len())
	}
	f, err := c.file(s.pos.file)
	if err != nil {
		return nil, err
	}
	data, err := f.find(s.pos, i)
	if err != nil {
		f.known = false
		return nil, fmt.Errorf("timeline: snapshot %d of %s: %w", i, c.rec.files[s.pos.file], err)
	}
	d := &admin.Document{}
	if err := json.Unmarshal(data, d); err != nil {
		return nil, fmt.Errorf("timeline: snapshot %d: %w", i, err)
	}
	c.rec.cache.put(i, d)
	return d, nil
}

func (c *Cursor) file(i int) (*fileCursor, error) {
	if f := c.files[i]; f != nil {
		return f, nil
	}
	rd, err := record.Open(c.rec.files[i])
	if err != nil {
		return nil, err
	}
	f := &fileCursor{r: rd, last: -1}
	c.files[i] = f
	return f, nil
}

// find positions the file at the snapshot record at p, snapshot i, and
// returns its data (valid until the reader's next call).
func (f *fileCursor) find(p pos, i int) ([]byte, error) {
	if !f.known || !f.at.before(p) || f.last < 0 || i-f.last > forwardSnaps {
		if err := f.seek(p); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := f.r.Next()
		switch {
		case errors.Is(err, record.ErrCorrupt):
			continue // the index skipped it too
		case err == io.EOF:
			return nil, errors.New("the recording ends before it")
		case err != nil:
			return nil, err
		}
		switch rec.Kind {
		case record.KindTick:
			f.at = pos{file: p.file, tick: rec.Tick, ticked: true, ord: -1}
		case record.KindSnapshot:
			f.at.ord++
			if f.at == p {
				f.last = i
				return rec.Data, nil
			}
		}
		if p.before(f.at) {
			return nil, errors.New("the recording changed: no snapshot record where the index has one")
		}
	}
}

// seek goes to the Tick record p follows, or to the file's first record
// when p comes before any.
func (f *fileCursor) seek(p pos) error {
	f.known, f.last = false, -1
	if !p.ticked {
		if err := f.r.SeekTime(time.Time{}); err != nil {
			return err
		}
		f.at, f.known = pos{file: p.file, ord: -1}, true
		return nil
	}
	if err := f.r.SeekTick(p.tick); err != nil {
		return err
	}
	// Next returns the Tick record: find reads it.
	f.at, f.known = pos{file: p.file, ord: -1}, true
	return nil
}

// cache keeps the latest Documents decoded, by snapshot index.
type cache struct {
	mu   sync.Mutex
	max  int
	use  uint64
	docs []cached
}

type cached struct {
	i    int
	doc  *admin.Document
	used uint64
}

func (c *cache) get(i int) *admin.Document {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.docs {
		if c.docs[k].i == i {
			c.use++
			c.docs[k].used = c.use
			return c.docs[k].doc
		}
	}
	return nil
}

func (c *cache) put(i int, d *admin.Document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.use++
	if len(c.docs) < c.max {
		c.docs = append(c.docs, cached{i, d, c.use})
		return
	}
	old := 0
	for k := range c.docs {
		if c.docs[k].used < c.docs[old].used {
			old = k
		}
	}
	c.docs[old] = cached{i, d, c.use}
}
