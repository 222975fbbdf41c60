package replicate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// sink is a Sender that acknowledges every snapshot at the next one, as
// a client on a short link does, without a network.
type sink struct {
	cbs   []func(bool)
	bytes int
}

func (s *sink) Send(p []byte, _ conn.RetryMode, cb func(bool)) error {
	s.bytes += len(p)
	s.cbs = append(s.cbs, cb)
	return nil
}

func (s *sink) ack() {
	for _, cb := range s.cbs {
		cb(true)
	}
	s.cbs = s.cbs[:0]
}

// battle builds the benchmark's world: rocks drifting over 16 screens,
// one ship per client, each client viewing a screen around its ship.
type battle struct {
	r     *Replicator
	sinks []*sink
	views []*Viewer
	ships []body
	rocks []body
	now   time.Time
}

func newBattle(tb testing.TB, clients, rocks, workers int) *battle {
	s := testSchema(tb)
	r := New(s, Config{Workers: workers})
	b := &battle{r: r, now: epoch0}
	rng := rand.New(rand.NewPCG(7, 7))
	for range rocks {
		id, err := r.Spawn(kRock)
		if err != nil {
			tb.Fatal(err)
		}
		b.rocks = append(b.rocks, body{id: id, x: rng.Float64()*6400 - 3200, y: rng.Float64()*4000 - 2000,
			vx: rng.Float64()*40 - 20, vy: rng.Float64()*40 - 20})
		r.SetInt(id, fHP, 5)
	}
	for i := range clients {
		id, err := r.Spawn(kShip)
		if err != nil {
			tb.Fatal(err)
		}
		r.SetString(id, fName, fmt.Sprintf("bot%d", i))
		b.ships = append(b.ships, body{id: id, x: rng.Float64()*6000 - 3000, y: rng.Float64()*3600 - 1800})
		sk := &sink{}
		v := r.Add(sk)
		v.SetRelevant(id, true)
		b.sinks, b.views = append(b.sinks, sk), append(b.views, v)
	}
	return b
}

// snapshot moves the world on by one snapshot interval (two ticks) and
// takes the snapshot.
func (b *battle) snapshot() {
	b.moveOnly()
	b.r.Update(b.now)
	for _, s := range b.sinks {
		s.ack()
	}
}

// moveOnly moves the world on by one snapshot interval.
func (b *battle) moveOnly() {
	const dt = 1.0 / 30
	r := b.r
	for i := range b.rocks {
		k := &b.rocks[i]
		k.x += k.vx * dt
		k.y += k.vy * dt
		if math.Abs(k.x) > 3200 {
			k.vx = -k.vx
		}
		if math.Abs(k.y) > 2000 {
			k.vy = -k.vy
		}
		r.Set(k.id, fX, k.x)
		r.Set(k.id, fY, k.y)
		r.Set(k.id, fVX, k.vx)
		r.Set(k.id, fVY, k.vy)
	}
	for i := range b.ships {
		k := &b.ships[i]
		k.angle += 2 * dt
		k.vx, k.vy = math.Cos(k.angle)*150, math.Sin(k.angle)*150
		k.x += k.vx * dt
		k.y += k.vy * dt
		r.Set(k.id, fX, k.x)
		r.Set(k.id, fY, k.y)
		r.Set(k.id, fVX, k.vx)
		r.Set(k.id, fVY, k.vy)
		r.Set(k.id, fAngle, k.angle)
		b.views[i].SetView(k.x, k.y, 800, 500)
	}
	b.now = b.now.Add(time.Second / 30)
}

// BenchmarkSnapshot is one snapshot for 64 (and 256) clients of a world
// of 1,000 drifting rocks and a ship per client: recording, interest,
// priorities, encoding, sending and acks, on GOMAXPROCS workers (go test
// -bench Snapshot -cpu 1,2).
func BenchmarkSnapshot(b *testing.B) {
	for _, clients := range []int{64, 256} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			w := newBattle(b, clients, 1000, 0)
			defer w.r.Close()
			for range 200 { // past the creates, into the steady state
				w.snapshot()
			}
			for _, s := range w.sinks {
				s.bytes = 0
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.snapshot()
			}
			b.StopTimer()
			bytes := 0
			for _, s := range w.sinks {
				bytes += s.bytes
			}
			b.ReportMetric(float64(bytes)/float64(b.N)/float64(clients), "B/client/snapshot")
		})
	}
}

func TestSnapshotAllocatesNothing(t *testing.T) {
	w := newBattle(t, 64, 1000, 2)
	defer w.r.Close()
	for range 300 {
		w.snapshot()
	}
	if n := testing.AllocsPerRun(100, w.snapshot); n != 0 {
		t.Fatalf("%.1f allocations per snapshot in steady state", n)
	}
}
