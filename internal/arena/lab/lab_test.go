package lab_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/lab"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// The link: 75 ms each way, 5% loss.
var far = netsim.Profile{Delay: 75 * time.Millisecond, Loss: 0.05}

// TestLaserRegisteredThroughLag: through 150 ms of round trip and 5%
// loss, the server registers at least 98% of the laser hits the shooter
// saw on its screen; judged at the present instead (no lag compensation)
// most of them miss, and the shooter must lead its target.
func TestLaserRegisteredThroughLag(t *testing.T) {
	sc := lab.LaserScenario{Link: far, Duration: 5 * time.Minute, Seed: 1}
	on, err := sc.Run()
	require.NoError(t, err)
	sc.NoLagComp = true
	off, err := sc.Run()
	require.NoError(t, err)
	var b []byte
	for _, r := range []*lab.LaserReport{on, off} {
		w := &writer{&b}
		r.Print(w, "laser:")
	}
	t.Logf("%s", b)
	require.Greater(t, on.Shooter.Seen, 50, "enough hits seen to measure")
	assert.GreaterOrEqual(t, on.Share(), 98.0, "registered with lag compensation")
	assert.Equal(t, on.Shooter.Seen, on.Shooter.Verdicts-(on.Shooter.Fired-on.Shooter.Seen), "a verdict for every shot")
	assert.Zero(t, on.Server.Capped, "no honest view beyond the cap at 75 ms each way")
	assert.Less(t, on.Server.RewindMax, arena.DefaultMaxRewind)
	require.Greater(t, off.Shooter.Seen, 50)
	assert.Less(t, off.Share(), 60.0, "without it most hits seen miss")
	for i, m := range on.Prediction {
		t.Logf("player %d: %d reconciles, misprediction mean %.3f p99 %.3f max %.3f, correction mean %.3f",
			i, m.Reconciles, m.Mean(), lab.Percentile(m.Samples, 0.99), m.Max, m.MeanCorrection())
		assert.Less(t, m.Mean(), 0.1)
		assert.Less(t, lab.Percentile(m.Samples, 0.99), 0.25)
	}
}

type writer struct{ b *[]byte }

func (w *writer) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// TestFarPastViewIsCapped: a shooter that claims its screen showed the
// world of long ago (or of the future) is judged no further back than
// the server's cap (or at the present).
func TestFarPastViewIsCapped(t *testing.T) {
	for _, tc := range []struct {
		name string
		view time.Duration
		want func(*testing.T, wire.Laser)
	}{
		{"past", 0, func(t *testing.T, l wire.Laser) {
			assert.True(t, l.Capped)
			assert.Equal(t, arena.DefaultMaxRewind, l.Rewind)
		}},
		{"future", time.Duration(1<<32-1) * time.Millisecond, func(t *testing.T, l wire.Laser) {
			assert.False(t, l.Capped, "capped means too far back")
			assert.LessOrEqual(t, l.Rewind, 17*time.Millisecond, "judged at the newest record")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(arena.Options{Seed: 3}, 3)
			defer l.Close()
			shooter, err := l.Add("liar", netsim.Profile{Delay: 30 * time.Millisecond}, lab.Marksman())
			require.NoError(t, err)
			_, err = l.Add("target", netsim.Profile{Delay: 30 * time.Millisecond}, lab.Dodger(rand.New(rand.NewPCG(1, 2))))
			require.NoError(t, err)
			var verdicts []wire.Laser
			l.Tamper(0, func(m []byte) []byte {
				ins, err := wire.ParseInputs(nil, m)
				if err != nil {
					return m
				}
				for i := range ins {
					ins[i].View = tc.view
				}
				return wire.AppendInputs(nil, ins)
			})
			l.Observe(0, func(m []byte) {
				if v, err := wire.ParseLaser(m); err == nil && v.Shooter == shooter.ID() {
					verdicts = append(verdicts, v)
				}
			})
			l.Run(60 * time.Second)
			require.NotEmpty(t, verdicts, "the liar fired")
			for _, v := range verdicts {
				tc.want(t, v)
			}
			st := l.Game.Lasers()
			t.Logf("%d verdicts; server: %+v", len(verdicts), st)
			assert.LessOrEqual(t, st.RewindMax, arena.DefaultMaxRewind)
		})
	}
}

// TestLabIsDeterministic: the same seed gives the same game, tick by tick
// (the world's checksum), through real protocol pairs on lossy links.
func TestLabIsDeterministic(t *testing.T) {
	run := func() []uint64 {
		l := lab.New(arena.Options{Seed: 4}, 4)
		defer l.Close()
		_, err := l.Add("a", far, lab.Marksman())
		require.NoError(t, err)
		_, err = l.Add("b", far, lab.Dodger(rand.New(rand.NewPCG(4, 4))))
		require.NoError(t, err)
		var sums []uint64
		for range 300 {
			l.Run(lab.Tick)
			sums = append(sums, l.Game.World().Checksum())
		}
		return sums
	}
	a, b := run(), run()
	require.Equal(t, a, b)
	assert.NotEqual(t, a[100], a[299], "the game moved")
}
