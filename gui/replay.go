package gui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"

	"github.com/mpgs/mpgameserver/gui/internal/timeline"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// ErrReplay is the error of every action asked of a Replay: a recording
// takes none.
var ErrReplay = errors.New("a replay takes no actions: it shows a recording")

// Replay is a flight recording (`mpgameserver serve --record DIR`) as a
// monitor's Source: its snapshot, logs and network are those of the
// snapshot under its cursor, which the monitor moves (the timeline bar).
// It takes no actions. OpenReplay indexes the recording in the background
// (the snapshots' places and per-second figures, and markers of trouble)
// and decodes whole snapshots only when they are shown, a few of them
// cached. Its methods may be called from any goroutine.
type Replay struct {
	rec     *timeline.Recording
	cancel  context.CancelFunc
	indexed chan struct{}

	mu      sync.Mutex
	cur     *timeline.Cursor // the monitor's reads
	at      int              // the snapshot shown, -1 before any
	doc     *admin.Document
	version uint64
}

// OpenReplay opens the recording at path, a directory of recording files
// or one of them, and starts indexing it on a goroutine of its own; Close
// stops it.
func OpenReplay(path string) (*Replay, error) {
	rec, err := timeline.Open(path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Replay{rec: rec, cancel: cancel, indexed: make(chan struct{}), cur: rec.NewCursor(), at: -1}
	go func() {
		defer close(r.indexed)
		_ = rec.Index(ctx) // Progress tells
	}()
	return r, nil
}

// Close stops the indexing and closes the recording's files.
func (r *Replay) Close() error {
	r.cancel()
	<-r.indexed
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur.Close()
}

// Path returns the recording's path.
func (r *Replay) Path() string { return r.rec.Path() }

// Indexed is closed once the recording is indexed (or indexing stopped:
// Summary tells).
func (r *Replay) Indexed() <-chan struct{} { return r.indexed }

// Summary describes the recording in a line: its snapshots, their span
// and its markers, or how far indexing got.
func (r *Replay) Summary() string {
	done, err, skipped, corrupt := r.rec.Progress()
	snaps := r.rec.Snaps()
	var s string
	if len(snaps) == 0 {
		s = "no snapshots"
	} else {
		first, last := snaps[0].Taken(), snaps[len(snaps)-1].Taken()
		s = fmt.Sprintf("%d snapshots from %s to %s", len(snaps), first.Local().Format("2006-01-02 15:04:05"), last.Local().Format("15:04:05"))
	}
	s += fmt.Sprintf(", %d markers", len(r.rec.Markers()))
	if skipped+corrupt > 0 {
		s += fmt.Sprintf(" (skipped %d undecodable snapshots, %d corrupt blocks)", skipped, corrupt)
	}
	switch {
	case err != nil:
		s += fmt.Sprintf("; indexing stopped: %v", err)
	case !done:
		s += "; indexing"
	}
	return s
}

// seek makes snapshot i the one shown.
func (r *Replay) seek(i int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i == r.at {
		return nil
	}
	d, err := r.cur.Load(i)
	if err != nil {
		return err
	}
	r.at, r.doc = i, d
	r.version++
	return nil
}

// load returns snapshot i's Document (shared: do not change it).
func (r *Replay) load(i int) (*admin.Document, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur.Load(i)
}

// shown returns the snapshot shown (-1: none yet) and its Document.
func (r *Replay) shown() (int, *admin.Document) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at, r.doc
}

// Snapshot copies the snapshot under the cursor into dst.
func (r *Replay) Snapshot(dst *server.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.doc == nil {
		(&server.Snapshot{}).CopyTo(dst)
		return
	}
	r.doc.Snapshot.CopyTo(dst)
}

// SnapshotVersion changes each time the cursor moves.
func (r *Replay) SnapshotVersion() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// Logs returns the server's latest warnings and errors at the cursor.
// A recording that hashes addresses leaves out their attributes.
func (r *Replay) Logs() []admin.LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.doc == nil {
		return nil
	}
	return r.doc.Logs
}

// Network returns the simulated network at the cursor.
func (r *Replay) Network() admin.Network {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.doc == nil {
		return admin.Network{}
	}
	return r.doc.Network
}

// Actions reports false: a recording takes no actions.
func (r *Replay) Actions() bool { return false }

// Disconnect returns ErrReplay.
func (r *Replay) Disconnect(context.Context, uint32) error { return ErrReplay }

// Block returns ErrReplay.
func (r *Replay) Block(context.Context, netip.Addr) error { return ErrReplay }

// SetConditions returns ErrReplay.
func (r *Replay) SetConditions(context.Context, uint32, admin.Conditions) error { return ErrReplay }

// Replayed is a monitor window of a flight recording: the monitor of the
// snapshot under the cursor of a timeline bar along its bottom, which
// plays, pauses, steps and jumps from trouble to trouble.
type Replayed struct {
	replay *Replay
	mon    *Monitor
	out    io.Writer
	inited bool
}

// NewReplayed returns the window of the recording r (OpenReplay). It
// does not close r.
func NewReplayed(r *Replay) *Replayed { return &Replayed{replay: r, out: os.Stdout} }

// Monitor returns the window's game, available after Init.
func (w *Replayed) Monitor() *Monitor { return w.mon }

// SetOutput sets where screenshot paths and the end of indexing
// ("indexed PATH: 1800 snapshots from ... to ..., 12 markers") are
// printed (standard output by default).
func (w *Replayed) SetOutput(out io.Writer) { w.out = out }

// Init prepares the window: title, size, fonts. Run calls it if needed.
func (w *Replayed) Init() error {
	if w.inited {
		return nil
	}
	mon, err := newWindow(w.replay, "mpgameserver replay "+w.replay.Path(), w.out)
	if err != nil {
		return err
	}
	w.mon = mon
	w.inited = true
	return nil
}

// Run shows the recording until the window closes or ctx is done.
func (w *Replayed) Run(ctx context.Context) error {
	if err := w.Init(); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.replay.Indexed():
			fmt.Fprintf(w.out, "indexed %s: %s\n", w.replay.Path(), w.replay.Summary())
		case <-rctx.Done():
		}
	}()
	if err := runWindow(ctx, w.mon); err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	return nil
}
