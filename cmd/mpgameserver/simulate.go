package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/lab"
	"github.com/mpgs/mpgameserver/internal/linksim"
)

func runSimulate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "Runs a client and a server connection state machine over a simulated link\n"+
		"with a fake clock, sends messages both ways and reports what arrived.\n"+
		"With --game arena, runs the arena's server and players over such links instead\n"+
		"(--scenario laser: a bot shooting its laser at a bot flying about, judged with\n"+
		"and without lag compensation; link defaults 75 ms each way, 5% loss).", stderr)
	var (
		prof     netsim.Profile
		messages = fs.Int("messages", 2000, "number of messages (half each way)")
		size     = fs.Int("size", 0, "message size in bytes; 0 for a mix of sizes up to 40 KB")
		mode     = fs.String("mode", "guaranteed", "retry mode: none, best-effort or guaranteed")
		seed     = fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
		game     = fs.String("game", "messages", "what runs over the link: messages, or arena")
		scenario = fs.String("scenario", "laser", "with --game arena: the scenario (laser)")
		duration = fs.Duration("duration", 5*time.Minute, "with --game arena: game time to simulate")
		rewind   = fs.Duration("max-rewind", arena.DefaultMaxRewind, "with --game arena: the server's lag compensation cap")
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
	if *game == "arena" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		// The scenario's own link unless told otherwise.
		for name, v := range map[string]func(){
			"loss": func() { prof.Loss = 0.05 }, "dup": func() { prof.Duplicate = 0 }, "delay": func() { prof.Delay = 75 * time.Millisecond },
			"jitter": func() { prof.Jitter = 0 }, "reorder": func() { prof.Reorder = 0 },
		} {
			if !set[name] {
				v()
			}
		}
		return simulateArena(stdout, *scenario, prof, *duration, *rewind, *seed)
	} else if *game != "messages" {
		return fmt.Errorf("--game %q: want messages or arena", *game)
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

// simulateArena runs an arena scenario through links of profile prof.
func simulateArena(stdout io.Writer, scenario string, prof netsim.Profile, d, rewind time.Duration, seed uint64) error {
	if scenario != "laser" {
		return fmt.Errorf("--scenario %q: want laser", scenario)
	}
	switch {
	case prof.Loss < 0 || prof.Loss >= 1:
		return fmt.Errorf("--loss %v: want a probability in [0, 1)", prof.Loss)
	case prof.Duplicate < 0 || prof.Duplicate > 1:
		return fmt.Errorf("--dup %v: want a probability in [0, 1]", prof.Duplicate)
	case d < time.Second || d > 24*time.Hour:
		return fmt.Errorf("--duration %v: want 1s to 24h", d)
	case rewind <= 0 || rewind > 10*time.Second:
		return fmt.Errorf("--max-rewind %v: want up to 10s", rewind)
	}
	began := time.Now()
	fmt.Fprintf(stdout, "link: loss %.0f%%, duplicate %.0f%%, delay %v + up to %v, reorder %.0f%%, each way\n",
		100*prof.Loss, 100*prof.Duplicate, prof.Delay, prof.Jitter, 100*prof.Reorder)
	sc := lab.LaserScenario{Link: prof, Duration: d, Seed: seed, MaxRewind: rewind}
	on, err := sc.Run()
	if err != nil {
		return err
	}
	sc.NoLagComp = true
	off, err := sc.Run()
	if err != nil {
		return err
	}
	on.Print(stdout, "laser:")
	off.Print(stdout, "without lag compensation:")
	for i, name := range []string{"shooter", "target"} {
		m := on.Prediction[i]
		fmt.Fprintf(stdout, "prediction (%s): %d reconciles, misprediction mean %.3f p99 %.3f max %.3f units, correction mean %.3f per reconcile\n",
			name, m.Reconciles, m.Mean(), lab.Percentile(m.Samples, 0.99), m.Max, m.MeanCorrection())
	}
	fmt.Fprintf(stdout, "simulated %v twice in %v\n", d, time.Since(began).Round(time.Millisecond))
	return nil
}
