package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/linksim"
)

func runSimulate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "Runs a client and a server connection state machine over a simulated link\n"+
		"with a fake clock, sends messages both ways and reports what arrived.", stderr)
	var (
		prof     netsim.Profile
		messages = fs.Int("messages", 2000, "number of messages (half each way)")
		size     = fs.Int("size", 0, "message size in bytes; 0 for a mix of sizes up to 40 KB")
		mode     = fs.String("mode", "guaranteed", "retry mode: none, best-effort or guaranteed")
		seed     = fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
	)
	fs.Float64Var(&prof.Loss, "loss", 0.1, "probability a datagram is lost")
	fs.Float64Var(&prof.Duplicate, "dup", 0.05, "probability a datagram is duplicated")
	fs.DurationVar(&prof.Delay, "delay", 30*time.Millisecond, "one-way delay")
	fs.DurationVar(&prof.Jitter, "jitter", 20*time.Millisecond, "random extra delay, up to this")
	fs.Float64Var(&prof.Reorder, "reorder", 0.02, "probability a datagram is held back by --reorder-delay")
	fs.DurationVar(&prof.ReorderDelay, "reorder-delay", 100*time.Millisecond, "extra delay of reordered datagrams")
	if err := parse(fs, args); err != nil {
		return err
	}
	retry, ok := map[string]conn.RetryMode{"none": conn.RetryNone, "best-effort": conn.RetryBestEffort, "guaranteed": conn.RetryOnTimeout}[*mode]
	if !ok {
		return fmt.Errorf("--mode %q: want none, best-effort or guaranteed", *mode)
	}
	switch {
	case *messages < 1:
		return fmt.Errorf("--messages %d: want at least 1", *messages)
	case prof.Loss < 0 || prof.Loss >= 1:
		return fmt.Errorf("--loss %v: want a probability in [0, 1)", prof.Loss)
	case prof.Duplicate < 0 || prof.Duplicate > 1:
		return fmt.Errorf("--dup %v: want a probability in [0, 1]", prof.Duplicate)
	}
	began := time.Now()
	r, err := linksim.Run(linksim.Simulation{Link: prof, Messages: *messages, Size: *size, Retry: retry, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "link: loss %.0f%%, duplicate %.0f%%, delay %v + up to %v, reorder %.0f%%\n",
		100*prof.Loss, 100*prof.Duplicate, prof.Delay, prof.Jitter, 100*prof.Reorder)
	fmt.Fprintf(stdout, "sent %d messages (%d bytes), mode %s\n", r.Sent, r.Bytes, retry)
	fmt.Fprintf(stdout, "delivered once %d, more than once %d, lost %d, corrupt %d\n", r.Once, r.Twice, r.Lost, r.Corrupt)
	fmt.Fprintf(stdout, "callbacks: true %d, false %d\n", r.CallbacksTrue, r.CallbacksFalse)
	for _, end := range []struct {
		name    string
		s       *conn.Stats
		latency time.Duration
	}{{"client", &r.Client, r.ClientLatency}, {"server", &r.Server, r.ServerLatency}} {
		s := end.s
		fmt.Fprintf(stdout, "%s: %d packets sent, %d received, %d acked, %d timed out, %d resends, %d dropped, latency %v\n",
			end.name, s.Assembled, s.Received, s.Acked, s.Timeouts, s.Resent, s.Dropped, end.latency.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "simulated %v in %v\n", r.Simulated.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if !r.Finished {
		return fmt.Errorf("the workload did not finish within an hour of simulated time")
	}
	if r.Violated() {
		return fmt.Errorf("delivery guarantees violated")
	}
	return nil
}
