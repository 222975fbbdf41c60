//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// The arena-hello attack.
const (
	// hellosPerTick is how many Hellos the attacker sends a tick.
	hellosPerTick = 1024
	// helloTicks is how many ticks it sends them for (a second).
	helloTicks = sim.TickRate
	// queueReads is how many times the snapshot is read, a second apart
	// (the server publishes one a second), from the start of the burst.
	queueReads = 6
	// attackerName is the name in the attacker's Hellos.
	attackerName = "hello"
)

// runArenaHello has one player send 1,024 Hellos a tick for a second,
// each of which the arena broadcasts to every player as a guaranteed
// Join, and reads the other players' backlog at the server.
func runArenaHello(ctx context.Context, t *tool) row { return t.arenaRun(ctx, arenaHello) }

// arenaHello connects the attacker, sends the burst and reads the
// backlogs every second.
func arenaHello(ctx context.Context, a *arenaEnv) outcome {
	if err := a.needs("http"); err != nil {
		return outcome{achieved: "did not run: " + err.Error()}
	}
	c, err := attack.Dial(ctx, a.srv.udp, a.pub, 5*time.Second)
	if err != nil {
		return outcome{achieved: "did not run: the attacker's handshake: " + short(err)}
	}
	defer c.Close()
	me := c.LocalAddr().String()
	// Say which game we play, as a player does first.
	_, _ = c.Send([]protocol.Message{c.Message(protocol.TypeApp, wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}))})
	base, err := a.readQueues(ctx)
	if err != nil {
		return outcome{achieved: "did not run: the snapshot with the admin token: " + short(err)}
	}
	sent := make(chan string, 1)
	bctx, stopBurst := context.WithCancel(ctx)
	defer stopBurst()
	go func() { sent <- burst(bctx, c) }()

	var others, mine backlog
	misses := 0
	for i := range queueReads {
		if i > 0 && !sleep(ctx, time.Second) {
			break
		}
		q, err := a.readQueues(ctx)
		if err != nil {
			misses++
			continue
		}
		for addr, p := range q {
			d := p.minus(base[addr])
			if addr == me {
				mine.max(d)
			} else {
				others.max(d)
			}
		}
	}
	stopBurst()
	s := fmt.Sprintf("%s; the others' backlog at the server, the largest over %d s: %v; the attacker's: %v", <-sent, queueReads-1, others, mine)
	if misses > 0 {
		s += fmt.Sprintf(" (%d of %d snapshot reads failed)", misses, queueReads)
	}
	if c.Stats().Disconnected {
		s += "; the server disconnected the attacker"
	}
	return outcome{achieved: s}
}

// burst sends hellosPerTick Hellos a tick for helloTicks ticks, then
// keeps the connection alive (and acknowledges the server's packets)
// until ctx is done. It returns what it sent.
func burst(ctx context.Context, c *attack.Client) string {
	body := wire.AppendHello(nil, wire.Hello{Name: attackerName, Color: 3})
	per := 0 // Hellos in a full packet
	for msgs := []protocol.Message{}; per < protocol.MaxMessagesPerPacket; per++ {
		if msgs = append(msgs, protocol.Message{Type: protocol.TypeApp, Body: body}); protocol.PayloadSize(msgs) > protocol.MaxPayloadSize {
			break
		}
	}
	per = max(per, 1)
	msgs := make([]protocol.Message, per)
	tick := time.NewTicker(time.Second / sim.TickRate)
	defer tick.Stop()
	hellos, errs := 0, 0
	start := time.Now()
	for range helloTicks {
		for left := hellosPerTick; left > 0; {
			k := min(per, left)
			for i := range k {
				msgs[i] = c.Message(protocol.TypeApp, body)
			}
			if _, err := c.Send(msgs[:k]); err != nil {
				errs++
			} else {
				hellos += k
			}
			left -= k
		}
		_, _ = c.Poll()
		select {
		case <-ctx.Done():
			return fmt.Sprintf("the attacker sent %d Hellos (interrupted)", hellos)
		case <-tick.C:
		}
	}
	took := time.Since(start)
	st := c.Stats()
	keepAlive := time.NewTicker(100 * time.Millisecond)
	defer keepAlive.Stop()
	for {
		_, _ = c.Poll()
		select {
		case <-ctx.Done():
			s := fmt.Sprintf("the attacker sent %d Hellos in %.1f s (%d datagrams)", hellos, took.Seconds(), st.DatagramsSent)
			if errs > 0 {
				s += fmt.Sprintf(", %d sends failed", errs)
			}
			return s
		case <-keepAlive.C:
			_, _ = c.Send(nil)
		}
	}
}

// queue is what the snapshot tells of one client's backlog.
type queue struct {
	sent    float64            // messages queued for it, ever (Stats.Sent)
	held    float64            // bytes the server holds for it
	pending float64            // packets awaiting its ack
	other   map[string]float64 // any field that names a queue
}

// minus returns q with its message count since base.
func (q queue) minus(base queue) queue {
	q.sent -= base.sent
	return q
}

// backlog is the largest of each figure over several queues.
type backlog struct {
	n     int
	queue queue
}

// max takes the larger of each figure of b and q.
func (b *backlog) max(q queue) {
	b.n++
	b.queue.sent = max(b.queue.sent, q.sent)
	b.queue.held = max(b.queue.held, q.held)
	b.queue.pending = max(b.queue.pending, q.pending)
	for k, v := range q.other {
		if b.queue.other == nil {
			b.queue.other = map[string]float64{}
		}
		b.queue.other[k] = max(b.queue.other[k], v)
	}
}

// String is the backlog, for the table.
func (b backlog) String() string {
	if b.n == 0 {
		return "not in the snapshot"
	}
	q := b.queue
	s := fmt.Sprintf("%.0f messages queued for it since the burst began, %.0f KiB held, %.0f packets awaiting its ack", q.sent, q.held/1024, q.pending)
	var keys []string
	for k := range q.other {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += fmt.Sprintf(", %s %.0f", k, q.other[k])
	}
	return s
}

// readQueues reads the snapshot with the admin token and returns each
// client's backlog by address.
func (a *arenaEnv) readQueues(ctx context.Context) (map[string]queue, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.httpURL("/api/v1/snapshot"), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := httpFrom(loopback(), answerWithin).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	var doc struct {
		Snapshot struct {
			Peers []map[string]any
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(&doc); err != nil {
		return nil, err
	}
	out := map[string]queue{}
	for _, p := range doc.Snapshot.Peers {
		addr, _ := p["Addr"].(string)
		q := queue{held: number(p["Held"]), pending: number(p["Pending"])}
		if st, ok := p["Stats"].(map[string]any); ok {
			q.sent = number(st["Sent"])
		}
		queueFields(p, "", &q)
		out[addr] = q
	}
	return out, nil
}

// queueFields adds to q.other every number under a key that names a
// queue, at any depth of a client's row.
func queueFields(m map[string]any, prefix string, q *queue) {
	for k, v := range m {
		switch v := v.(type) {
		case float64:
			if strings.Contains(strings.ToLower(k), "queue") {
				if q.other == nil {
					q.other = map[string]float64{}
				}
				q.other[prefix+k] = v
			}
		case map[string]any:
			queueFields(v, prefix+k+".", q)
		}
	}
}

// number is a JSON number, or 0.
func number(v any) float64 {
	f, _ := v.(float64)
	return f
}
