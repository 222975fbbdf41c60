package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A logLimiter lets a burst of log lines through, then one per interval,
// and counts the lines it held back, so that nothing a client does (or a
// flood of datagrams) can make the server write more than a few lines a
// second. The next line let through says how many were held back.
type logLimiter struct {
	burst int
	every time.Duration

	mu         sync.Mutex
	tokens     int
	last       time.Time
	suppressed int
}

func newLogLimiter(burst int, every time.Duration) *logLimiter {
	return &logLimiter{burst: burst, every: every, tokens: burst}
}

// allow reports whether a line logged at now may go out, and how many
// were held back before it.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.last = now
	}
	if n := int(now.Sub(l.last) / l.every); n > 0 {
		l.tokens = min(l.burst, l.tokens+n)
		l.last = l.last.Add(time.Duration(n) * l.every)
	}
	if l.tokens == 0 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// handle passes r to h if the limiter allows it.
func (l *logLimiter) handle(ctx context.Context, h slog.Handler, r slog.Record) error {
	ok, held := l.allow(r.Time)
	if !ok {
		return nil
	}
	if held > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", held))
	}
	return h.Handle(ctx, r)
}

// Limits of the log lines a client's connection may cause, and of the
// lines about dropped datagrams the whole server writes.
const (
	clientLogBurst = 10
	clientLogEvery = time.Second
	dropLogBurst   = 20
	dropLogEvery   = 200 * time.Millisecond
)

// clientHandler adds a client's token (and address) to the records of the
// server's handler, at most a few a second per client. Unlike
// Logger.With, it formats nothing until a record is logged, so that
// thousands of clients do not each hold a copy of the handler with their
// attributes pre-rendered.
type clientHandler struct {
	h     slog.Handler
	c     *Peer
	token uint32
	addr  bool // add the client's address
	lim   *logLimiter
}

func newClientHandler(h slog.Handler, c *Peer, token uint32, addr bool) *clientHandler {
	return &clientHandler{h: h, c: c, token: token, addr: addr, lim: newLogLimiter(clientLogBurst, clientLogEvery)}
}

func (h *clientHandler) attrs() []slog.Attr {
	if h.addr {
		return []slog.Attr{slog.String("client", h.c.Addr().String()), slog.Uint64("token", uint64(h.token))}
	}
	return []slog.Attr{slog.Uint64("token", uint64(h.token))}
}

func (h *clientHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *clientHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.lim.handle(ctx, h.h.WithAttrs(h.attrs()), r)
}

func (h *clientHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &limitedHandler{h: h.h.WithAttrs(h.attrs()).WithAttrs(as), lim: h.lim}
}

func (h *clientHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{h: h.h.WithAttrs(h.attrs()).WithGroup(name), lim: h.lim}
}

// limitedHandler passes records to h through a limiter it shares with the
// handler it was derived from.
type limitedHandler struct {
	h   slog.Handler
	lim *logLimiter
}

func (h *limitedHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *limitedHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.lim.handle(ctx, h.h, r)
}

func (h *limitedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &limitedHandler{h: h.h.WithAttrs(as), lim: h.lim}
}

func (h *limitedHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{h: h.h.WithGroup(name), lim: h.lim}
}
