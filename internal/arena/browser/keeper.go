package main

import (
	"sync"
	"time"
)

// A keeper runs a player's frames from a timer while the page draws
// none. A browser stops drawing a hidden tab (no requestAnimationFrame,
// so no Ebitengine Update) but still runs its timers, at most once a
// second; without the keeper the player would stop acking and sending,
// and the server would drop it 5 s after the player switched tabs.
type keeper struct {
	after time.Duration // how long without a frame before the timer runs them

	mu   sync.Mutex
	last time.Time // the page's last frame
}

// frame runs f, the page's frame, at now.
func (k *keeper) frame(now time.Time, f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.last = now
	f()
}

// locked runs f, while no frame runs.
func (k *keeper) locked(f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f()
}

// idle runs f, a frame of the network alone, when the page has drawn no
// frame for k.after; it reports whether it did.
func (k *keeper) idle(now time.Time, f func()) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.last) < k.after {
		return false
	}
	f()
	return true
}

// run calls idle with the network frame f every period until stop is
// closed.
func (k *keeper) run(period time.Duration, f func(now time.Time), stop <-chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			k.idle(now, func() { f(now) })
		}
	}
}
