package admin

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogLine is one log record kept by a LogTail.
type LogLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
	Attrs string    `json:"attrs,omitempty"` // key=value pairs
}

// maxAttrs bounds the text of a line's attributes: a line quoting a
// client's input cannot grow the tail.
const maxAttrs = 512

// LogTail is a slog.Handler that passes every record on to another
// handler and keeps the last few at or above a level, for a monitor to
// show. It is safe for concurrent use.
type LogTail struct {
	next  slog.Handler
	min   slog.Level
	ring  *ring
	attrs []slog.Attr
	group string
}

type ring struct {
	mu    sync.Mutex
	lines []LogLine
	next  int
	full  bool
}

// NewLogTail returns a handler that writes to next (nil: nowhere) and
// keeps the last n records at level min or above.
func NewLogTail(next slog.Handler, n int, min slog.Level) *LogTail {
	if next == nil {
		next = slog.DiscardHandler
	}
	return &LogTail{next: next, min: min, ring: &ring{lines: make([]LogLine, max(1, n))}}
}

// Enabled reports whether either the tail or next wants the level.
func (t *LogTail) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= t.min || t.next.Enabled(ctx, l)
}

// Handle keeps the record when its level is high enough and passes it on.
func (t *LogTail) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= t.min {
		var b strings.Builder
		add := func(a slog.Attr) bool {
			if b.Len() >= maxAttrs {
				return false
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			key := a.Key
			if t.group != "" {
				key = t.group + "." + key
			}
			b.WriteString(key)
			b.WriteByte('=')
			b.WriteString(a.Value.String())
			return true
		}
		for _, a := range t.attrs {
			add(a)
		}
		r.Attrs(add)
		attrs := b.String()
		if len(attrs) > maxAttrs {
			attrs = attrs[:maxAttrs] + "…"
		}
		t.ring.add(LogLine{Time: r.Time, Level: r.Level.String(), Msg: r.Message, Attrs: attrs})
	}
	if t.next.Enabled(ctx, r.Level) {
		return t.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs returns a handler, keeping to the same tail, whose records
// carry attrs.
func (t *LogTail) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *t
	c.next = t.next.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr(nil), t.attrs...), attrs...)
	return &c
}

// WithGroup returns a handler, keeping to the same tail, whose later
// attributes are in group name.
func (t *LogTail) WithGroup(name string) slog.Handler {
	c := *t
	c.next = t.next.WithGroup(name)
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

// Lines returns the records kept, oldest first.
func (t *LogTail) Lines() []LogLine { return t.ring.copy() }

func (r *ring) add(l LogLine) {
	r.mu.Lock()
	r.lines[r.next] = l
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

func (r *ring) copy() []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]LogLine(nil), r.lines[:r.next]...)
	}
	return append(append([]LogLine(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}
