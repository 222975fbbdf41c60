package gui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/server"
)

// dropSummary describes in one line what the server dropped since it
// started: the top reasons, worst first, and the datagrams the kernel
// dropped before the server could read them. any reports whether anything
// was dropped at all.
func dropSummary(s *server.Snapshot, top int) (line string, any bool) {
	st, d := &s.Stats, &s.Drops
	reasons := []struct {
		name string
		n    uint64
	}{
		{"junk", st.Junk}, {"blocked", st.Blocked}, {"overflow", st.Overflow}, {"bad header", st.BadHeader},
		{"unexpected", st.Unexpected}, {"throttled", st.Throttled}, {"bad hello", st.HandshakeInvalid},
		{"hello refused", st.HandshakeRejected}, {"auth", d.Auth}, {"duplicate", d.Duplicate}, {"stale", d.Stale},
		{"payload", d.Payload}, {"handshake", d.Handshake}, {"header", d.Header},
		{"over budget", st.OverBudget}, {"panics", st.HandlerPanics}, {"stalls", st.Stalls},
		{"host limit", st.HostLimited},
		{"web refused", s.Browsers.RefusedFull + s.Browsers.RefusedPerHost + s.Browsers.RefusedBlocked + s.Browsers.RefusedOffer},
		{"web closed", s.Browsers.ClosedSetup + s.Browsers.ClosedHandshake + s.Browsers.ClosedBlocked},
	}
	slices.SortStableFunc(reasons, func(a, b struct {
		name string
		n    uint64
	}) int {
		return cmp.Compare(b.n, a.n)
	})
	var parts []string
	for _, r := range reasons {
		if r.n == 0 || len(parts) == top {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", r.name, plot.SI(float64(r.n))))
	}
	any = len(parts) > 0 || st.KernelDrops > 0
	if len(parts) == 0 {
		parts = append(parts, "nothing")
	}
	return fmt.Sprintf("dropped: %s   kernel %s", strings.Join(parts, ", "), plot.SI(float64(st.KernelDrops))), any
}

// browserSummary describes the browser peers (carrier/rtc) in one line:
// those setting up, those open and those playing (with a session), and
// the signaling refused by reason. It is empty for a server that has had
// none.
func browserSummary(s *server.Snapshot) string {
	b := &s.Browsers
	refused := b.RefusedFull + b.RefusedPerHost + b.RefusedBlocked + b.RefusedOffer
	if b.SettingUp+b.Open == 0 && refused == 0 && b.ClosedSetup+b.ClosedHandshake+b.ClosedSession+b.ClosedBlocked == 0 {
		return ""
	}
	line := fmt.Sprintf("browsers: %d setting up, %d open, %d playing", b.SettingUp, b.Open, b.Sessions)
	if refused > 0 {
		line += fmt.Sprintf("; refused %s (full %s, per address %s, blocked %s, bad offer %s)", plot.SI(float64(refused)),
			plot.SI(float64(b.RefusedFull)), plot.SI(float64(b.RefusedPerHost)), plot.SI(float64(b.RefusedBlocked)), plot.SI(float64(b.RefusedOffer)))
	}
	return line
}
