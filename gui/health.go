package gui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
)

// healthWindow is how many seconds the health strip looks back to call a
// trouble active and to find the worst.
const healthWindow = 10

// troubleState is a trouble as the health strip shows it.
type troubleState struct {
	kind   history.Trouble
	last   int64  // in the latest second
	recent int64  // in the last healthWindow seconds
	total  uint64 // since the server started
	worst  bool
}

// troubles returns each trouble's latest figures; the worst is the one
// with most in the last seconds (none when nothing went wrong).
func troubles(h *history.History) []troubleState {
	out := make([]troubleState, history.NumTroubles)
	worst := -1
	now := h.Last() + 1
	for i := range out {
		s := &h.Trouble[i]
		out[i] = troubleState{kind: history.Trouble(i), last: s.At(h.Last()), recent: s.Sum(now, healthWindow), total: h.Totals[i]}
		if out[i].recent > 0 && (worst < 0 || out[i].recent > out[worst].recent) {
			worst = i
		}
	}
	if worst >= 0 {
		out[worst].worst = true
	}
	return out
}

// health draws the health strip: a chip per trouble with its count in
// the latest second and since the start; troubles of the last seconds
// are tinted, the worst filled.
func (r *renderer) health(hr plot.Rect, m *Monitor, f *faces) {
	p := &r.pal
	r.rect(hr, p.Panel)
	r.text("health: per second", float64(hr.X+10), float64(hr.Y+4), f.text, p.Text, text.AlignStart)
	line, any := dropSummary(&m.snap, 3)
	c := p.Dim
	if any {
		c = p.Warn
	}
	r.text("since start: "+line, float64(hr.Right()-10), float64(hr.Y+7), f.small, c, text.AlignEnd)
	for i, t := range troubles(m.hist) {
		cell := healthCell(hr, i)
		bg, fg, val := p.Header, p.Dim, p.Dim
		switch {
		case t.worst:
			bg, fg, val = p.Warn, p.Ink, p.Ink
		case t.recent > 0:
			bg, fg, val = p.WarnDim, p.Text, p.Warn
		case t.total > 0:
			fg = p.Axis
		}
		r.rect(cell, bg)
		r.text(t.kind.String(), float64(cell.X+5), float64(cell.Y+1), f.small, fg, text.AlignStart)
		r.text(fmt.Sprintf("%s/s", plot.SI(float64(t.last))), float64(cell.X+5), float64(cell.Y+16), f.small, val, text.AlignStart)
		r.text(plot.SI(float64(t.total)), float64(cell.Right()-5), float64(cell.Y+16), f.small, fg, text.AlignEnd)
	}
}

// healthCell is where the health strip hr draws the chip of trouble i:
// seven to a row.
func healthCell(hr plot.Rect, i int) plot.Rect {
	const cols, pad, ch = 7, 6, 30
	cw := (hr.W - 20 - (cols-1)*pad) / cols
	col, row := i%cols, i/cols
	return plot.Rect{X: hr.X + 10 + float32(col)*(cw+pad), Y: hr.Y + 26 + float32(row)*(ch+5), W: cw, H: ch}
}

// logLines is how many of the server's latest warnings and errors the
// overview shows.
const logLines = 5

// logTail draws the server's latest warnings and errors, newest last.
func (r *renderer) logTail(lr plot.Rect, m *Monitor, f *faces) {
	p := &r.pal
	r.rect(lr, p.Panel)
	r.text("latest warnings and errors", float64(lr.X+10), float64(lr.Y+4), f.text, p.Text, text.AlignStart)
	logs := m.logs
	if len(logs) == 0 {
		r.text("none", float64(lr.X+10), float64(lr.Y+30), f.small, p.Dim, text.AlignStart)
		return
	}
	const top, lineH = 24, 14
	rows := int((lr.H - top - 4) / lineH)
	width := 0
	if r.charW > 0 {
		width = int(float64(lr.W-20) / r.charW)
	}
	for i, row := range logRows(logs[max(0, len(logs)-logLines):], width, rows) {
		c := p.Update
		if row.err {
			c = p.Warn
		}
		r.text(row.text, float64(lr.X+10), float64(lr.Y+top+float32(i)*lineH), f.mono, c, text.AlignStart)
	}
}

// logRow is one row of the log tile: a log line or the rest of one.
type logRow struct {
	text string
	err  bool // an ERROR line's
}

// logRows lays out logs (oldest first) in at most rows rows of width
// characters: each line wrapped at spaces, its rest indented; when they
// do not all fit, the newest lines whole and the oldest cut from the top.
func logRows(logs []admin.LogLine, width, rows int) []logRow {
	var out []logRow
	for i := range logs {
		err := strings.HasPrefix(logs[i].Level, "ERROR")
		for _, t := range wrapText(formatLog(&logs[i]), width, "  ") {
			out = append(out, logRow{text: t, err: err})
		}
	}
	return out[max(0, len(out)-max(rows, 1)):]
}

// wrapText cuts s at spaces into lines of at most width runes, the lines
// after the first starting with indent (a few spaces); a word longer than
// a line is cut where the line ends. A width under 8 leaves s whole.
func wrapText(s string, width int, indent string) []string {
	ind := utf8.RuneCountInString(indent)
	if width < 8 || ind > width/2 || utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	var lines []string
	var line []rune // the current line, without its indent
	flush := func() {
		if len(lines) == 0 {
			lines = append(lines, string(line))
		} else {
			lines = append(lines, indent+string(line))
		}
		line = line[:0]
	}
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		for len(w) > 0 {
			avail := width - len(line)
			if len(lines) > 0 {
				avail -= ind
			}
			if len(line) > 0 {
				avail-- // the space before the word
			}
			switch {
			case len(w) <= avail:
				if len(line) > 0 {
					line = append(line, ' ')
				}
				line, w = append(line, w...), nil
			case len(line) > 0 && (len(w) <= width-ind || avail <= 0):
				flush() // the word starts the next line
			default: // longer than a line: fill this one
				if len(line) > 0 {
					line = append(line, ' ')
				}
				line, w = append(line, w[:avail]...), w[avail:]
				flush()
			}
		}
	}
	if len(line) > 0 {
		flush()
	}
	return lines
}

// formatLog writes a log line in one line of text.
func formatLog(l *admin.LogLine) string {
	s := l.Time.Local().Format("15:04:05") + " " + l.Level + " " + l.Msg
	if l.Attrs != "" {
		s += " " + l.Attrs
	}
	return strings.Join(strings.Fields(s), " ")
}
