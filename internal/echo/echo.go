// Package echo is the echo game: a server EventHandler that sends every
// message back to its sender. `mpgameserver serve --game echo` runs it,
// the load generator (internal/loadgen) measures it, examples/echo checks
// that a server keeps its contract. The Python mpgameserver can implement
// the same contract, which is how the two are checked against each other.
//
// The contract:
//   - every message is echoed to its sender byte for byte: with guaranteed
//     delivery when its first byte is 'G', plain otherwise;
//   - the exact message "STATS" is answered (guaranteed) with a JSON object
//     of per-client counts of the messages echoed so far, keyed by token:
//     {"1234567890":{"msgs":3,"bytes":120}, ...};
//   - the server prints "CONNECT <ip>:<port> token=<n> active=<n>" and
//     "DISCONNECT <ip>:<port> msgs=<n> bytes=<n> active=<n>" lines.
package echo

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo/rule"
	"github.com/mpgs/mpgameserver/server"
)

// Counts are one client's echo counts.
type Counts struct {
	Msgs  int `json:"msgs"`
	Bytes int `json:"bytes"`
}

// Handler is the echo server's EventHandler. Its state is only touched on
// the server's event goroutine.
type Handler struct {
	server.BaseHandler
	out    io.Writer
	counts map[uint32]*Counts // for STATS; a message finds its client's in the peer (Peer.Data)
	stats  []byte             // this tick's STATS reply, made once
}

// NewHandler returns an echo handler that prints its CONNECT and
// DISCONNECT lines to out (nil discards them).
func NewHandler(out io.Writer) *Handler {
	if out == nil {
		out = io.Discard
	}
	return &Handler{out: out, counts: make(map[uint32]*Counts)}
}

// Connect counts the client in.
func (h *Handler) Connect(p *server.Peer) {
	n := &Counts{}
	h.counts[p.Token()] = n
	p.SetData(n)
	fmt.Fprintf(h.out, "CONNECT %s token=%d active=%d\n", p.Addr(), p.Token(), len(h.counts))
}

// Disconnect counts the client out.
func (h *Handler) Disconnect(p *server.Peer) {
	n := h.counts[p.Token()]
	if n == nil {
		n = &Counts{}
	}
	delete(h.counts, p.Token())
	fmt.Fprintf(h.out, "DISCONNECT %s msgs=%d bytes=%d active=%d\n", p.Addr(), n.Msgs, n.Bytes, len(h.counts))
}

// HandleMessage echoes msg, or answers STATS.
func (h *Handler) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	if string(msg) == "STATS" {
		if err := p.SendGuaranteed(h.Stats(), nil); err != nil {
			p.Log().Warn("echo: stats reply", "err", err)
		}
		return
	}
	if n, ok := p.Data().(*Counts); ok {
		n.Msgs++
		n.Bytes += len(msg)
	}
	if err := p.Send(msg, rule.Retry(msg), nil); err != nil {
		p.Log().Warn("echo: send", "err", err)
	}
}

// Update forgets the tick's STATS reply: the next request makes a new one.
func (h *Handler) Update(time.Duration) { h.stats = nil }

// Stats returns the STATS reply: the counts of every connected client. It
// is made once a tick (a reply lists every client, so a client sending
// many requests must not make the game redo that work for each).
func (h *Handler) Stats() []byte {
	if h.stats != nil {
		return h.stats
	}
	h.stats = h.statsNow()
	return h.stats
}

func (h *Handler) statsNow() []byte {
	m := make(map[string]*Counts, len(h.counts))
	for tok, n := range h.counts {
		m[strconv.FormatUint(uint64(tok), 10)] = n
	}
	b, _ := json.Marshal(m) // a map of plain structs always marshals
	return b
}
