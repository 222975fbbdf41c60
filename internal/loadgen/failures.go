package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Failures counts the clients whose handshake failed, by why. They add up
// to Report.Failed.
type Failures struct {
	// NoAnswer: the handshake timed out and nothing came back from the
	// server's address.
	NoAnswer int
	// Refused: nothing listens at the server's port; the system said so
	// (an ICMP port unreachable, seen by a per-client socket on Linux,
	// or, when no client connected, by a probe sent after the run).
	Refused int
	// BadSignature: the server answered with a handshake that the pinned
	// key (Config.ServerKey) did not sign: it holds another key.
	BadSignature int
	// Rejected: the server answered, but not with a handshake the client
	// could complete (not an mpgameserver server, or a malformed or
	// refusing answer).
	Rejected int
	// Socket: the client could not start: its socket could not be
	// opened, or its handshake keys made (Report.OpenError says why).
	Socket int
}

// add counts a failed handshake: err is the connection's Err, heard
// whether any datagram came for the client, refused whether its socket
// reported a refusal.
func (f *Failures) add(err error, heard, refused bool) {
	switch {
	case errors.Is(err, conn.ErrBadSignature):
		f.BadSignature++
	case heard || !errors.Is(err, conn.ErrHandshakeTimeout):
		f.Rejected++
	case refused:
		f.Refused++
	default:
		f.NoAnswer++
	}
}

func (f *Failures) merge(o *Failures) {
	f.NoAnswer += o.NoAnswer
	f.Refused += o.Refused
	f.BadSignature += o.BadSignature
	f.Rejected += o.Rejected
	f.Socket += o.Socket
}

// reason is one kind of failure: its count and how it reads.
type reason struct {
	n     int
	short string // in a list of counts: "12 bad signature"
}

// reasons lists the failures by kind, most frequent first (ties in the
// order of the fields).
func (f *Failures) reasons() []reason {
	all := []reason{
		{f.BadSignature, "bad signature"},
		{f.Refused, "connection refused"},
		{f.NoAnswer, "no answer"},
		{f.Rejected, "answered but rejected"},
		{f.Socket, "no socket"},
	}
	var out []reason
	for _, r := range all {
		if r.n > 0 {
			out = append(out, r)
		}
	}
	// Stable by count, most first (a handful of entries).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].n > out[j-1].n; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// breakdown reads like "12 bad signature, 8 no answer".
func (f *Failures) breakdown() string {
	var parts []string
	for _, r := range f.reasons() {
		parts = append(parts, fmt.Sprintf("%d %s", r.n, r.short))
	}
	return strings.Join(parts, ", ")
}

// Problem says, in one line, why the run measured nothing worth reading,
// or returns "" when it did: no client connected (and why, by the most
// frequent reason), or the server answered but does not echo (most of
// what came back was not an echo of what was sent, or nothing was
// echoed at all).
func (r *Report) Problem() string {
	if r.Connected == 0 {
		return "no client connected: " + r.noConnection()
	}
	echoed := r.Echoed + r.RampEchoed
	back := echoed + r.Late + r.Duplicates + r.Corrupt
	switch {
	case r.Corrupt > back-r.Corrupt:
		return fmt.Sprintf("the server at %s does not echo: %d of the %d messages it sent back were not echoes of ours: is it an echo server (mpgameserver serve --game echo)?",
			r.Server, r.Corrupt, back)
	case back == 0 && r.Sent+r.RampSent > 0:
		return fmt.Sprintf("the server at %s echoed none of the %d messages sent: is it an echo server (mpgameserver serve --game echo)?",
			r.Server, r.Sent+r.RampSent)
	}
	return ""
}

// noConnection explains a run where no client connected.
func (r *Report) noConnection() string {
	f := &r.Failures
	reasons := f.reasons()
	if len(reasons) == 0 {
		if r.Interrupted {
			return "the run was interrupted before any handshake finished"
		}
		return "no handshake finished"
	}
	counts := fmt.Sprintf("%d of %d handshakes: %s", reasons[0].n, r.Clients, reasons[0].short)
	if len(reasons) > 1 {
		counts = fmt.Sprintf("%d handshakes: %s", r.Clients, f.breakdown())
	}
	switch reasons[0].short {
	case "bad signature":
		key := r.keySource
		if key == "" {
			key = "the pinned key"
		}
		return fmt.Sprintf("the server's key does not match %s (%s)", key, counts)
	case "connection refused":
		return fmt.Sprintf("nothing listens at %s (%s): is the server running?", r.Server, counts)
	case "no answer":
		within := ""
		if r.handshakeTimeout > 0 {
			within = " within " + r.handshakeTimeout.String()
		}
		return fmt.Sprintf("no answer from %s%s (%s): is a server running there, and does UDP reach it?", r.Server, within, counts)
	case "answered but rejected":
		return fmt.Sprintf("%s answered, but not with a handshake the client could complete (%s): is it an mpgameserver server?", r.Server, counts)
	default:
		return fmt.Sprintf("could not open the clients' sockets: %s (%s)", r.OpenError, counts)
	}
}

// probeWait bounds the wait for a probe's refusal.
const probeWait = time.Second

// probeRefused sends server one CLIENT_HELLO from a connected socket and
// reports whether the system answered that nothing listens there (an
// ICMP port unreachable, which a connected socket reads as
// ECONNREFUSED). A server that listens sees a hello like any other.
func probeRefused(server netip.AddrPort, key *conn.PublicKey) bool {
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return false
	}
	defer uc.Close()
	cfg := session.Config{ServerKey: key}
	now := time.Now()
	cc, err := session.NewClient(&cfg, now)
	if err != nil {
		return false
	}
	hello := cc.Poll(now, make([]byte, 0, transport.RecvSize))
	if hello == nil {
		return false
	}
	if _, err := uc.Write(hello); err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	if err := uc.SetReadDeadline(time.Now().Add(probeWait)); err != nil {
		return false
	}
	_, err = uc.Read(make([]byte, transport.RecvSize))
	return errors.Is(err, syscall.ECONNREFUSED)
}
