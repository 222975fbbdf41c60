package endpoint

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Timeouts are the bounds of an http.Server's waits and header size.
type Timeouts struct {
	// ReadHeader bounds reading a request's header, from its first byte
	// (or from the connection's start).
	ReadHeader time.Duration
	// Read bounds reading a whole request, its body included.
	Read time.Duration
	// Write bounds writing a response, from the end of its request's
	// header.
	Write time.Duration
	// Idle bounds the wait for the next request on a keep-alive
	// connection.
	Idle time.Duration
	// MaxHeaderBytes bounds the size of a request's header (its request
	// line included); a larger one is answered 431.
	MaxHeaderBytes int
}

// PublicTimeouts are bounds for a server that faces the internet and
// serves a page, files of a few megabytes and small requests: ReadHeader
// 5 s, Read 30 s (its requests are small), Write 5 min (a 7 MB file over
// a slow link), Idle 30 s, MaxHeaderBytes 16 KiB.
func PublicTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     5 * time.Second,
		Read:           30 * time.Second,
		Write:          5 * time.Minute,
		Idle:           30 * time.Second,
		MaxHeaderBytes: 16 << 10,
	}
}

// AdminTimeouts are bounds for a status, metrics and admin server:
// ReadHeader 5 s, Read 10 s, Write 60 s (a pprof profile, capped at
// 30 s, fits), Idle 30 s, MaxHeaderBytes 16 KiB.
func AdminTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     5 * time.Second,
		Read:           10 * time.Second,
		Write:          60 * time.Second,
		Idle:           30 * time.Second,
		MaxHeaderBytes: 16 << 10,
	}
}

// NewServer returns an http.Server of h with the bounds of t; a zero
// field of t takes PublicTimeouts' value, so that no wait is unbounded
// by omission (other values go to http.Server as they are). The server's
// ErrorLog goes to errLog at debug level, since most of what it reports
// is caused by clients (TLS handshakes that fail, say) and must not fill
// the log; failures to accept, which are the server's own (out of file
// descriptors, say), go at warning level. A nil errLog discards it all.
func NewServer(h http.Handler, t Timeouts, errLog *slog.Logger) *http.Server {
	d := PublicTimeouts()
	if t.ReadHeader == 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read == 0 {
		t.Read = d.Read
	}
	if t.Write == 0 {
		t.Write = d.Write
	}
	if t.Idle == 0 {
		t.Idle = d.Idle
	}
	if t.MaxHeaderBytes == 0 {
		t.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          errorLog(errLog),
	}
}

// errorLog is a log.Logger writing to l as the comment of NewServer says.
func errorLog(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return log.New(logWriter{l.Handler()}, "", 0)
}

// logWriter turns each line an http.Server logs into a record of h.
type logWriter struct{ h slog.Handler }

// Write logs p, one line of a log.Logger without prefix or flags.
func (w logWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelDebug
	if strings.HasPrefix(msg, "http: Accept error") {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !w.h.Enabled(ctx, level) {
		return len(p), nil
	}
	return len(p), w.h.Handle(ctx, slog.NewRecord(time.Now(), level, msg, 0))
}
