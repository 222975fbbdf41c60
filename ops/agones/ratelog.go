package agones

import (
	"sync"
	"time"
)

// logEvery is how often at most a kind of failure is logged: a sidecar
// that is down for an hour makes a few hundred lines, not one per call.
const logEvery = 10 * time.Second

// A limiter lets one log line per kind through per interval and counts
// the ones it held back, which the next line let through reports.
type limiter struct {
	every time.Duration

	mu    sync.Mutex
	kinds map[string]*kindState
}

type kindState struct {
	last time.Time
	held int
}

func newLimiter(every time.Duration) *limiter {
	return &limiter{every: every, kinds: make(map[string]*kindState)}
}

// allow reports whether a line of kind may be logged now, and how many
// were held back since the last one.
func (l *limiter) allow(kind string) (bool, int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kinds[kind]
	if k == nil {
		k = &kindState{}
		l.kinds[kind] = k
	} else if now.Sub(k.last) < l.every {
		k.held++
		return false, 0
	}
	k.last = now
	held := k.held
	k.held = 0
	return true, held
}
