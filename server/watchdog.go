package server

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// A watchdog watches the event goroutine from another goroutine. When a
// tick has not ended long after it should have (a handler blocked, an
// endless loop), it logs the event goroutine's stack, once per stall, so
// that the operator sees where it is stuck; the stall also shows in
// Server.LastTick and in Stats.Stalls.
type watchdog struct {
	last   atomic.Int64 // Unix nanoseconds when the latest tick started
	stalls atomic.Uint64
	goid   []byte // "goroutine N [" of the event goroutine
	limit  time.Duration
	stopCh chan struct{}
	done   chan struct{}
}

// stallAfter is how long a tick may run before the watchdog speaks: far
// beyond any tick's normal length.
func stallAfter(interval time.Duration) time.Duration { return max(250*time.Millisecond, 15*interval) }

// start begins watching; it must run on the event goroutine.
func (w *watchdog) start(s *Server) {
	w.limit = stallAfter(s.cfg.Interval)
	w.goid = eventGoroutine()
	w.stopCh, w.done = make(chan struct{}), make(chan struct{})
	w.beat(time.Now())
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.limit / 4)
		defer t.Stop()
		reported := int64(0)
		for {
			select {
			case <-w.stopCh:
				return
			case now := <-t.C:
				last := w.last.Load()
				if last == reported || now.Sub(time.Unix(0, last)) < w.limit {
					continue
				}
				reported = last
				w.stalls.Add(1)
				s.log.Error("the event goroutine is stuck: no tick has ended for a long time",
					"since", now.Sub(time.Unix(0, last)).Round(time.Millisecond), "stack", w.stack())
			}
		}
	}()
}

// beat records the start of a tick.
func (w *watchdog) beat(now time.Time) { w.last.Store(now.UnixNano()) }

func (w *watchdog) stop() {
	if w.stopCh != nil {
		close(w.stopCh)
		<-w.done
	}
}

// eventGoroutine returns the header of the calling goroutine's stack
// trace, "goroutine N [", which identifies it in a dump of all.
func eventGoroutine() []byte {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	if _, err := strconv.ParseUint(string(id), 10, 64); err != nil {
		return nil
	}
	return []byte("goroutine " + string(id) + " [")
}

// stack returns the event goroutine's stack trace.
func (w *watchdog) stack() string {
	buf := make([]byte, 1<<20)
	all := buf[:runtime.Stack(buf, true)]
	if w.goid == nil {
		return string(all)
	}
	i := bytes.Index(all, w.goid)
	if i < 0 {
		return "(the event goroutine was not found)"
	}
	g := all[i:]
	if j := bytes.Index(g, []byte("\n\n")); j >= 0 {
		g = g[:j]
	}
	return string(g)
}
