//go:build !js

package rtc

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPionLogsFormatOnlyWhenShown: pion's per-packet debug lines cost no
// allocation when the server's logger does not show debug lines, and read
// as formatted when it does.
func TestPionLogsFormatOnlyWhenShown(t *testing.T) {
	quiet := pionLogs(slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelInfo}))).NewLogger("sctp")
	n := "chunk"
	allocs := testing.AllocsPerRun(100, func() {
		quiet.Debugf("%s %d of %s", n, 7, n)
		quiet.Warnf("%s %d", n, 7)
	})
	assert.Zero(t, allocs)

	var buf bytes.Buffer
	loud := pionLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).NewLogger("sctp")
	loud.Warnf("%s %d", n, 7)
	assert.Contains(t, buf.String(), `msg="chunk 7" pion=sctp pion_level=warn`)
}
