//go:build !js

package rtc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs sends pion's log lines to log at debug level, whatever level
// pion gives them: what a peer makes pion say (a failed DTLS record, an
// ICE check from nowhere) is the peer's doing, and a peer may not fill
// the server's log. Without it pion writes its errors to standard error,
// past the server's logger and its format. A nil log discards them.
func pionLogs(log *slog.Logger) logging.LoggerFactory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return pionFactory{log}
}

type pionFactory struct{ log *slog.Logger }

func (f pionFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) line(level string, msg string) {
	if l.on() {
		l.log.Debug(msg, "pion_level", level)
	}
}

// linef formats only for a logger that shows debug lines: pion logs a
// line or two for every packet, and formatting them for nothing was 7% of
// a WebRTC transfer's allocations.
func (l pionLogger) linef(level string, format string, args []any) {
	if l.on() {
		l.log.Debug(fmt.Sprintf(format, args...), "pion_level", level)
	}
}

func (l pionLogger) on() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }

func (l pionLogger) Trace(msg string)                  {}
func (l pionLogger) Tracef(format string, args ...any) {}
func (l pionLogger) Debug(msg string)                  { l.line("debug", msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.linef("debug", format, args) }
func (l pionLogger) Info(msg string)                   { l.line("info", msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.linef("info", format, args) }
func (l pionLogger) Warn(msg string)                   { l.line("warn", msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.linef("warn", format, args) }
func (l pionLogger) Error(msg string)                  { l.line("error", msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.linef("error", format, args) }
