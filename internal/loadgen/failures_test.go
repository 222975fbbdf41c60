package loadgen

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/conn"
)

func TestFailuresClassify(t *testing.T) {
	timeout := conn.ErrHandshakeTimeout
	badSig := fmt.Errorf("%w: %w", conn.ErrHandshakeTimeout, conn.ErrBadSignature) // how the session reports it
	malformed := fmt.Errorf("%w: %w", conn.ErrHandshakeTimeout, conn.ErrHandshake)
	for _, tc := range []struct {
		err            error
		heard, refused bool
		want           Failures
	}{
		{timeout, false, false, Failures{NoAnswer: 1}},
		{timeout, false, true, Failures{Refused: 1}},
		{timeout, true, false, Failures{Rejected: 1}},
		{timeout, true, true, Failures{Rejected: 1}}, // it answered after all
		{badSig, true, false, Failures{BadSignature: 1}},
		{malformed, true, false, Failures{Rejected: 1}},
		{conn.ErrPeerClosed, true, false, Failures{Rejected: 1}},
	} {
		var f Failures
		f.add(tc.err, tc.heard, tc.refused)
		assert.Equal(t, tc.want, f, "%v heard=%v refused=%v", tc.err, tc.heard, tc.refused)
	}
}

func TestProblem(t *testing.T) {
	r := &Report{Server: "192.0.2.1:1474", Clients: 20, Failed: 20, Failures: Failures{NoAnswer: 8, BadSignature: 12},
		keySource: "--pubkey root.pub", handshakeTimeout: 2 * time.Second}
	assert.Equal(t, "no client connected: the server's key does not match --pubkey root.pub (20 handshakes: 12 bad signature, 8 no answer)", r.Problem())
	r.Failures = Failures{NoAnswer: 20}
	assert.Equal(t, "no client connected: no answer from 192.0.2.1:1474 within 2s (20 of 20 handshakes: no answer): is a server running there, and does UDP reach it?", r.Problem())
	r.Failures, r.OpenError = Failures{Socket: 20}, "too many open files"
	assert.Equal(t, "no client connected: could not open the clients' sockets: too many open files (20 of 20 handshakes: no socket)", r.Problem())
	r.Failures, r.Failed, r.Interrupted = Failures{}, 0, true
	assert.Equal(t, "no client connected: the run was interrupted before any handshake finished", r.Problem())

	ok := &Report{Server: "127.0.0.1:1474", Connected: 3, Sent: 100, Echoed: 99, Lost: 1, Corrupt: 2}
	assert.Empty(t, ok.Problem(), "a few odd replies are not a server that does not echo")
	ok.Corrupt = 100
	assert.Equal(t, "the server at 127.0.0.1:1474 does not echo: 100 of the 199 messages it sent back were not echoes of ours: is it an echo server (mpgameserver serve --game echo)?", ok.Problem())
	none := &Report{Server: "127.0.0.1:1474", Connected: 3, Sent: 100, RampSent: 5, Lost: 100}
	assert.Equal(t, "the server at 127.0.0.1:1474 echoed none of the 105 messages sent: is it an echo server (mpgameserver serve --game echo)?", none.Problem())
	late := &Report{Server: "127.0.0.1:1474", Connected: 3, Sent: 100, Lost: 100, Late: 100}
	assert.Empty(t, late.Problem(), "late echoes are echoes: a slow server, not another game")
}
