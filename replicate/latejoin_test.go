package replicate_test

import (
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/replicate"
)

type lb struct {
	rx  *replicate.Receiver
	now time.Time
	q   [][]byte
	cbs []func(bool)
}

func (l *lb) Send(p []byte, _ conn.RetryMode, ack func(bool)) error {
	l.q = append(l.q, append([]byte(nil), p...))
	l.cbs = append(l.cbs, ack)
	return nil
}

// A client that joins while an entity drifts gets it where it is, and
// follows it along its velocity without further updates.
func TestReplicateLateJoinerSeesDrift(t *testing.T) {
	s := rocks()
	r := replicate.New(s, replicate.Config{Workers: 1, Interval: time.Second / 30})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.Update(t0)
	id, _ := r.Spawn(0)
	x, y, vx, vy := 1000.0, 1000.0, 20.0, 10.0
	set := func() {
		r.Set(id, rockX, x)
		r.Set(id, rockY, y)
		r.Set(id, rockVX, vx)
		r.Set(id, rockVY, vy)
	}
	set()
	now := t0
	var l *lb
	checked := 0
	for tick := 1; tick < 60*8; tick++ {
		now = t0.Add(time.Duration(tick) * time.Second / 60)
		x += vx / 60
		y += vy / 60
		set()
		if tick == 180 {
			l = &lb{rx: replicate.NewReceiver(s, replicate.ReceiverConfig{})}
			v := r.Add(l)
			v.SetView(1000, 1000, 800, 500)
		}
		if tick%2 == 0 {
			r.Update(now)
		}
		if l != nil {
			for _, m := range l.q {
				l.rx.Handle(now, m)
			}
			for _, cb := range l.cbs {
				cb(true)
			}
			l.q, l.cbs = l.q[:0], l.cbs[:0]
			l.rx.Advance(now)
			if tick%30 == 0 {
				if e, ok := l.rx.Entity(id); ok {
					rt := l.rx.RenderTime().Seconds()
					tx := 1000 + vx*rt
					if d := e.Float(rockX) - tx; d > 0.3 || d < -0.3 {
						t.Errorf("tick %d: shown at x=%.2f, the entity was at %.2f", tick, e.Float(rockX), tx)
					}
					checked++
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("the entity was shown at %d checks of 9", checked)
	}
	if st := l.rx.Stats(); st.Snapshots > 30 {
		t.Errorf("%d snapshots for an entity that only drifts (heartbeats: 4 a second)", st.Snapshots)
	}
}
