// Package linksim runs a client and a server connection over simulated
// links on a fake clock: what a network would do to a workload, in a
// fraction of the time (mpgameserver simulate).
package linksim

import (
	"errors"
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/pair"
)

// A Simulation runs a client and a server connection (the real state
// machines, the real crypto) over simulated links with a fake clock, and
// sends messages both ways: what a link would do to a workload, without
// sockets and in a fraction of the time.
type Simulation struct {
	// Link is what both directions do to datagrams.
	Link netsim.Profile
	// Messages is the number of messages, half each way.
	Messages int
	// Size is each message's size; 0 for a mix of sizes up to 40 KB.
	Size int
	// Retry is how the messages are sent.
	Retry conn.RetryMode
	// Seed makes the run repeatable: the same seed, the same run.
	Seed uint64
}

// Report is what a Simulation delivered.
type Report struct {
	// Sent messages and their bytes.
	Sent, Bytes int
	// Messages delivered once, more than once, never; corrupt deliveries.
	Once, Twice, Lost, Corrupt int
	// Delivery callbacks that reported true and false.
	CallbacksTrue, CallbacksFalse int
	// The client's and the server's statistics, and their latency
	// estimates.
	Client, Server               conn.Stats
	ClientLatency, ServerLatency time.Duration
	// Simulated is the simulated time the run took; Finished is false
	// when the workload did not finish within an hour of it.
	Simulated time.Duration
	Finished  bool

	retry conn.RetryMode
}

// Violated reports whether the run broke a delivery guarantee: a message
// twice, a corrupt one, or a guaranteed one lost.
func (r *Report) Violated() bool {
	return r.Twice > 0 || r.Corrupt > 0 || (r.Lost > 0 && r.retry == conn.RetryOnTimeout)
}

// Run runs s.
func Run(s Simulation) (*Report, error) {
	if s.Messages < 1 {
		return nil, errors.New("loadgen: a simulation needs at least one message")
	}
	if !s.Retry.Valid() {
		return nil, fmt.Errorf("loadgen: retry mode %d", s.Retry)
	}
	w := pair.NewWorkload(s.Messages, s.Seed)
	if s.Size > 0 {
		w = pair.FixedWorkload(s.Messages, s.Size)
	}
	p, err := pair.NewPair(s.Link, s.Link, s.Seed)
	if err != nil {
		return nil, err
	}
	t, finished, err := pair.Exchange(p, w, s.Retry, time.Hour, 2*time.Second)
	if err != nil {
		return nil, err
	}
	r := &Report{Sent: w.Len(), Bytes: w.Bytes(), Corrupt: t.Corrupt, Finished: finished,
		ClientLatency: p.Client.Latency(), ServerLatency: p.Server.Latency(),
		Simulated: p.Now.Sub(pair.Start), retry: s.Retry}
	r.Once, r.Twice, r.Lost, r.CallbacksTrue, r.CallbacksFalse = t.Counts()
	r.Client, r.Server = p.Client.Stats(), p.Server.Stats()
	return r, nil
}
