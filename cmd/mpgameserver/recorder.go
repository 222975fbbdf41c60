package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// flightRecorder is --record's server.Recorder: the record.Writer, which
// keeps what the game is given, and once a second what a monitor shows
// (the admin Document, as JSON: a Snapshot record) and, for a game that
// can write its world's state (the arena), that state (a World record;
// whole every wholeEvery seconds, else without what barely changes).
//
// The Document is encoded on a goroutine of its own, from what the server
// published, and handed back to be written at the next tick: the event
// goroutine only signals it. Unless addresses are kept, the Document's
// client addresses are left out and its log lines keep their message
// only (their attributes name addresses).
type flightRecorder struct {
	*record.Writer
	keepAddrs bool
	local     *admin.Local // set before the server runs
	world     stateAppender
	worldBuf  []byte
	worlds    int // World records written

	wake    chan struct{} // to the encoder: a snapshot was published
	encoded chan []byte   // from the encoder: a Document to write
	stopped chan struct{} // the encoder returned
}

// stateAppender is a handler that can write its world's state, whole or
// only what changes most (arena.Handler).
type stateAppender interface {
	AppendState(b []byte, whole bool) []byte
}

// wholeEvery is how often a World record holds the whole state: the rest
// leave out what barely changes (the arena's asteroids), a sixth of the
// bytes.
const wholeEvery = 10

func newFlightRecorder(w *record.Writer, keepAddrs bool, handler server.EventHandler) *flightRecorder {
	f := &flightRecorder{Writer: w, keepAddrs: keepAddrs,
		wake: make(chan struct{}, 1), encoded: make(chan []byte, 1), stopped: make(chan struct{})}
	f.world, _ = handler.(stateAppender)
	go f.encode()
	return f
}

// RecordSnapshot (the event goroutine, once a second): the world's state
// now, and the Document to the encoder.
func (f *flightRecorder) RecordSnapshot(now time.Time, _ *server.Snapshot) {
	f.written(now)
	if f.world != nil {
		f.worldBuf = f.world.AppendState(f.worldBuf[:0], f.worlds%wholeEvery == 0)
		f.Writer.World(now, f.worldBuf)
		f.worlds++
	}
	select {
	case f.wake <- struct{}{}:
	default: // the encoder is still on the last one
	}
}

// Tick writes an encoded Document before the tick.
func (f *flightRecorder) Tick(now time.Time, tick uint64, delta time.Duration) {
	f.written(now)
	f.Writer.Tick(now, tick, delta)
}

// written writes the Document the encoder finished, if any.
func (f *flightRecorder) written(now time.Time) {
	select {
	case b := <-f.encoded:
		f.Writer.Snapshot(now, b)
	default:
	}
}

// encode makes a Document's JSON each time it is woken, until Close. It
// reuses the Document's storage and two buffers (one being written, one
// being encoded), so that a second's Document of hundreds of clients
// costs the process no garbage.
func (f *flightRecorder) encode() {
	defer close(f.stopped)
	var (
		d    admin.Document
		bufs [2]bytes.Buffer
		next int
	)
	for range f.wake {
		if f.local == nil {
			continue
		}
		d.Version, d.Network, d.Actions = admin.Version, f.local.Network(), false
		f.local.Snapshot(&d.Snapshot)
		d.Logs = append(d.Logs[:0], f.local.Logs()...)
		if !f.keepAddrs {
			for i := range d.Snapshot.Peers {
				d.Snapshot.Peers[i].Addr = netip.AddrPort{}
			}
			for i := range d.Logs {
				d.Logs[i].Attrs = ""
			}
		}
		// The map is for the eye: whole units take half the bytes.
		for i := range d.Snapshot.World.Points {
			pt := &d.Snapshot.World.Points[i]
			pt.X, pt.Y = float32(math.Round(float64(pt.X))), float32(math.Round(float64(pt.Y)))
		}
		buf := &bufs[next]
		buf.Reset()
		if err := json.NewEncoder(buf).Encode(&d); err != nil {
			continue
		}
		select {
		case f.encoded <- buf.Bytes():
			next = 1 - next // the writer copies it at the next tick
		default: // the last one was not written yet: keep that one
		}
	}
}

// Close stops the encoder and closes the recording.
func (f *flightRecorder) Close() error {
	close(f.wake)
	<-f.stopped
	return f.Writer.Close()
}
