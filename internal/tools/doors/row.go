//go:build linux

package main

import (
	"context"
	"fmt"
	"strings"
)

// header is the table's header.
const header = "| attack | what it achieved | players beside it | new browser players | server goroutines / RSS (peak) | STUN to sinks |\n" +
	"|---|---|---|---|---|---|"

// row is one attack's line of the table.
type row struct {
	attack   string
	achieved string
	players  string
	browsers string
	server   string
	stun     string
}

// markdown is the row as a Markdown table line.
func (r row) markdown() string {
	cells := []string{r.attack, r.achieved, r.players, r.browsers, r.server, r.stun}
	for i, c := range cells {
		if c == "" {
			c = "—"
		}
		cells[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", `\|`), "\n", " ")
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// failed is the row of an attack that could not run; the whole error
// goes to the progress lines.
func (t *tool) failed(err error) row {
	t.logf("did not run: %v", err)
	return row{achieved: "did not run: " + short(err)}
}

// outcome is what an attack on an arena server reports.
type outcome struct {
	achieved string
	browsers browsersJoined
	stun     string
}

// arenaRun runs an attack against a fresh arena server, with --players
// native players in the game beside it from before it starts to after it
// ends, and the server's peaks read all along.
func (t *tool) arenaRun(ctx context.Context, run func(ctx context.Context, a *arenaEnv) outcome) row {
	srv, err := t.start(ctx, "arena")
	if err != nil {
		return t.failed(err)
	}
	defer srv.stop()
	var pk peaks
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { srv.sample(sctx, &pk); close(sampled) }()
	players, err := startCrowd(ctx, srv.udp, t.pub, t.opts.players)
	if err != nil {
		stopSampling()
		return t.failed(err)
	}
	joined := players.waitJoined(ctx)
	t.logf("%d/%d players in the game", joined, t.opts.players)
	players.measure()
	o := run(ctx, &arenaEnv{tool: t, srv: srv, players: players})
	players.stop()
	stopSampling()
	<-sampled
	r := row{achieved: o.achieved, players: players.report(), browsers: o.browsers.String(), server: pk.String(), stun: o.stun}
	if !srv.alive() {
		r.achieved += fmt.Sprintf(" — the server exited (%v)", srv.cmd.ProcessState)
	}
	return r
}

// arenaEnv is what an attack on an arena server works with.
type arenaEnv struct {
	*tool
	srv     *server
	players *crowd
}

// needs returns an error naming the flags the binary lacks.
func (a *arenaEnv) needs(flags ...string) error {
	var missing []string
	for _, f := range flags {
		if !a.known[f] {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the binary's serve has no %s", strings.Join(missing, ", "))
	}
	return nil
}
