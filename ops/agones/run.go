package agones

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/server"
)

// Defaults of Options.
const (
	// DefaultHealthPeriod is how often Run sends Health: well within
	// Agones' default health period (5 s).
	DefaultHealthPeriod = 2 * time.Second
	// DefaultCounter is the counter Run keeps equal to the number of
	// connected clients.
	DefaultCounter = "players"
	// DefaultShutdownTimeout bounds the final Shutdown call.
	DefaultShutdownTimeout = 10 * time.Second
)

// Options configures Run; a zero field means its default.
type Options struct {
	// HealthPeriod is how often the server's event goroutine is checked
	// and, when it is alive, Health sent (DefaultHealthPeriod). Keep it
	// below the GameServer's spec.health.periodSeconds.
	HealthPeriod time.Duration
	// Counter names the Counter (beta Counters API, declared in the
	// GameServer's spec.counters) that Run keeps equal to the number of
	// connected clients (DefaultCounter). NoCounter disables it. When the
	// sidecar says the counter does not exist, Run logs it once and stops
	// updating it.
	Counter   string
	NoCounter bool
	// OnAllocated, when set, is called with the GameServer, labels and
	// annotations of the allocation included, each time its state becomes
	// Allocated (not again for changes while it stays Allocated).
	// OnChange, when set, is called with every GameServer the sidecar
	// reports, after OnAllocated. Both run on Run's watching goroutine,
	// one call at a time: use Server.Post to touch game state. Without
	// either, Run does not watch the GameServer.
	OnAllocated func(*GameServer)
	OnChange    func(*GameServer)
	// ShutdownTimeout bounds the Shutdown call made when the server
	// stopped (DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Run keeps Agones' view of srv right until srv stops; see the package
// documentation. srv must be serving or about to (its socket is bound
// when server.New returns). Run returns when srv has stopped, after
// telling Agones Shutdown: nil, or Shutdown's error. When ctx is done
// first, Run returns ctx's error without Shutdown: give Run a context
// that outlives Serve's (context.WithoutCancel of it) so that a signal
// that stops Serve still ends in Shutdown.
func Run(ctx context.Context, srv *server.Server, sdk *SDK, opts Options) error {
	if srv == nil || sdk == nil {
		return errors.New("agones: Run needs a server and an SDK")
	}
	if opts.HealthPeriod < 0 || opts.ShutdownTimeout < 0 {
		return errors.New("agones: negative Options duration")
	}
	if opts.HealthPeriod == 0 {
		opts.HealthPeriod = DefaultHealthPeriod
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	b := &binding{ctx: ctx, srv: srv, sdk: sdk, opts: opts, counter: opts.Counter, lastCount: -1}
	if b.counter == "" {
		b.counter = DefaultCounter
	}
	if opts.NoCounter {
		b.counter = ""
	}

	// live ends when ctx does or when the server stopped.
	live, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-srv.Done():
			cancel()
		case <-live.Done():
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { b.watch(live) })
	if b.ready(live) {
		b.loop(live)
	}
	cancel()
	wg.Wait()

	select {
	case <-srv.Done():
	default:
		return context.Cause(ctx)
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer scancel()
	if err := sdk.Shutdown(sctx); err != nil {
		sdk.log.Error("agones: shutdown failed", "err", err.Error())
		return err
	}
	sdk.log.Info("agones: server stopped; shutdown sent")
	return nil
}

// binding is Run's state.
type binding struct {
	// ctx is Run's. The calls are made in it, not in the context that
	// ends when the server stops: an attempt under way when the server
	// stops completes before Shutdown is sent, so that the sidecar never
	// sees a Ready or a Health after the Shutdown.
	ctx  context.Context
	srv  *server.Server
	sdk  *SDK
	opts Options

	counter   string // "" when disabled
	lastCount int64  // the count Agones has, -1 when unknown
	snap      server.Snapshot
	stuck     bool // the last probe did not run in its period
}

func (b *binding) warn(kind, msg string, args ...any) {
	if ok, held := b.sdk.lim.allow(kind); ok {
		b.sdk.log.Warn(msg, append(args, "suppressed", held)...)
	}
}

// ready sends Ready until the sidecar takes it; it reports false when ctx
// (live) ended first.
func (b *binding) ready(ctx context.Context) bool {
	bo := newBackoff()
	for {
		cctx, cancel := context.WithTimeout(withoutRetry(b.ctx), b.sdk.callTimeout)
		err := b.sdk.Ready(cctx)
		cancel()
		if err == nil {
			b.sdk.log.Info("agones: ready", "udp", b.srv.Addr().String())
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		b.warn("ready", "agones: ready failed; retrying", "err", err.Error())
		if sleep(ctx, bo.next()) != nil {
			return false
		}
	}
}

// loop sends Health each period in which the event goroutine ran a
// posted probe, and keeps the counter, until ctx is done.
func (b *binding) loop(ctx context.Context) {
	period := b.opts.HealthPeriod
	probe := make(chan struct{}, 1)
	post := func() {
		b.srv.Post(func() {
			select {
			case probe <- struct{}{}:
			default:
			}
		})
	}
	// At most one probe is outstanding: a blocked event goroutine does
	// not pile them up.
	post()
	outstanding := true
	b.updateCounter()
	t := time.NewTicker(period)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-probe:
			outstanding = false
			if b.stuck {
				b.stuck = false
				if ok, held := b.sdk.lim.allow("resumed"); ok {
					b.sdk.log.Info("agones: the event goroutine runs again; health resumes", "suppressed", held)
				}
			}
			b.health()
		case <-t.C:
			b.updateCounter()
			if outstanding {
				b.stuck = true
				b.warn("stuck", "agones: the server's event goroutine did not run a posted function for a health period; withholding health",
					"period", period)
				continue
			}
			post()
			outstanding = true
		}
	}
}

// callCtx is the context of a periodic call: a single attempt, bounded
// to about a period (a sidecar that does not answer must not hold up the
// next checks).
func (b *binding) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(withoutRetry(b.ctx), max(b.opts.HealthPeriod, time.Second))
}

func (b *binding) health() {
	cctx, cancel := b.callCtx()
	defer cancel()
	if err := b.sdk.Health(cctx); err != nil && b.ctx.Err() == nil {
		b.warn("health", "agones: health failed", "err", err.Error())
	}
}

// updateCounter sets the counter to the number of connected clients of
// the server's latest snapshot, when it changed.
func (b *binding) updateCounter() {
	if b.counter == "" {
		return
	}
	b.srv.Snapshot(&b.snap)
	n := int64(b.snap.Connections)
	if n == b.lastCount {
		return
	}
	cctx, cancel := b.callCtx()
	defer cancel()
	err := b.sdk.SetCounter(cctx, b.counter, n)
	switch {
	case err == nil:
		b.lastCount = n
	case b.ctx.Err() != nil:
	case counterMissing(err):
		b.sdk.log.Warn("agones: the GameServer has no such counter; not counting players (declare it in spec.counters, or set Options.NoCounter)",
			"counter", b.counter, "err", err.Error())
		b.counter = ""
	default:
		b.warn("counter", "agones: setting the player counter failed", "counter", b.counter, "err", err.Error())
	}
}

// counterMissing reports whether err says the counter is not declared
// (or the sidecar has no Counters API).
func counterMissing(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	return se.StatusCode == http.StatusNotFound || strings.Contains(strings.ToLower(se.Body), "not found")
}

// watch follows the GameServer until ctx is done, for the callbacks.
func (b *binding) watch(ctx context.Context) {
	if b.opts.OnAllocated == nil && b.opts.OnChange == nil {
		return
	}
	allocated := false
	_ = b.sdk.WatchGameServer(ctx, func(gs *GameServer) {
		now := gs.State == StateAllocated
		if now && !allocated {
			b.sdk.log.Info("agones: allocated", "gameserver", gs.Name)
			if b.opts.OnAllocated != nil {
				b.call("OnAllocated", b.opts.OnAllocated, gs)
			}
		}
		allocated = now
		if b.opts.OnChange != nil {
			b.call("OnChange", b.opts.OnChange, gs)
		}
	})
}

// call runs a callback; a panic in it is logged, not fatal to Run.
func (b *binding) call(name string, fn func(*GameServer), gs *GameServer) {
	defer func() {
		if r := recover(); r != nil {
			b.warn("callback", "agones: callback panicked", "callback", name, "panic", fmt.Sprint(r))
		}
	}()
	fn(gs)
}
