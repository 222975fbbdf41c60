package gui

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/ops/admin"
)

func TestWrapText(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  []string
	}{
		{"short enough", 20, []string{"short enough"}},
		{"the socket is behind a simulated network", 16, []string{"the socket is", "  behind a", "  simulated", "  network"}},
		{"a 0123456789abcdefghij word", 10, []string{"a 01234567", "  89abcdef", "  ghij", "  word"}},
		{"whole when the tile is too narrow to wrap", 5, []string{"whole when the tile is too narrow to wrap"}},
	} {
		got := wrapText(tc.s, tc.width, "  ")
		assert.Equal(t, tc.want, got, tc.s)
		for _, l := range got {
			if tc.width >= 8 {
				assert.LessOrEqual(t, utf8.RuneCountInString(l), tc.width, l)
			}
		}
		// Nothing is lost but the spaces.
		assert.Equal(t, strings.Join(strings.Fields(tc.s), ""), strings.Join(strings.Fields(strings.Join(got, "")), ""))
	}
}

// TestLogRows: the log tile wraps its lines instead of cutting them, and
// when they do not all fit keeps the newest whole.
func TestLogRows(t *testing.T) {
	at := time.Date(2026, 1, 2, 13, 37, 31, 0, time.Local)
	logs := []admin.LogLine{
		{Time: at, Level: "WARN", Msg: "old news that scrolls away"},
		{Time: at, Level: "ERROR", Msg: "--netsim: the socket is behind a simulated network"},
	}
	rows := logRows(logs, 30, 3)
	assert.Equal(t, []logRow{
		{"13:37:31 ERROR --netsim: the", true},
		{"  socket is behind a simulated", true},
		{"  network", true},
	}, rows)
	assert.Len(t, logRows(logs, 200, 3), 2, "wide enough: a row each")
	assert.Len(t, logRows(logs, 30, 0), 1, "always a row")
}
