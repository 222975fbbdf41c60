package sim_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// TestLaserFires: holding the laser fires it once every LaserCooldown
// ticks, from where the ship is after its step, and ends the ship's spawn
// protection; Step reports each shot and judges nothing itself.
func TestLaserFires(t *testing.T) {
	w, a, b := twoShips(500, 500, 0, 800, 500, 0)
	a.Shield = sim.ShieldTicks
	w.SetInput(1, sim.Laser|sim.Thrust)
	var shots []int
	for tick := 1; tick <= 3*sim.LaserCooldown; tick++ {
		for _, e := range w.Step() {
			require.NotEqual(t, sim.Kill, e.Kind, "Step judges no laser")
			if e.Kind == sim.LaserFired {
				require.Equal(t, uint32(1), e.Killer)
				s := w.Ship(1)
				assert.Equal(t, [3]float64{s.X, s.Y, s.Angle}, [3]float64{e.X, e.Y, e.Angle}, "from the ship after its step")
				assert.True(t, s.Lasered)
				shots = append(shots, tick)
			}
		}
		if tick == 1 {
			assert.Zero(t, w.Ship(1).Shield, "firing ends the protection")
		}
	}
	assert.Equal(t, []int{1, 1 + sim.LaserCooldown, 1 + 2*sim.LaserCooldown}, shots)
	assert.True(t, b.Alive)

	// StepShip alone predicts the same: the client's view of its shots.
	s := sim.Ship{ID: 1, X: 500, Y: 500, Alive: true, Input: sim.Laser}
	var fired []int
	for tick := 1; tick <= 2*sim.LaserCooldown; tick++ {
		sim.StepShip(&s, sim.Classic().Bounds)
		if s.Lasered {
			fired = append(fired, tick)
		}
	}
	assert.Equal(t, []int{1, 1 + sim.LaserCooldown}, fired)
}

// TestLaserKill: a laser's victim dies if it can be hit now: alive,
// unshielded, not the shooter; the shooter scores.
func TestLaserKill(t *testing.T) {
	w, a, b := twoShips(500, 500, 0, 800, 500, 0)
	b.Shield = 5
	_, ok := w.Kill(2, 1)
	assert.False(t, ok, "shielded")
	b.Shield = 0
	_, ok = w.Kill(1, 1)
	assert.False(t, ok, "its own shooter")
	_, ok = w.Kill(9, 1)
	assert.False(t, ok, "no such ship")
	e, ok := w.Kill(2, 1)
	require.True(t, ok)
	assert.Equal(t, sim.Event{Kind: sim.Kill, Killer: 1, Victim: 2, X: 800, Y: 500}, e)
	assert.False(t, b.Alive)
	assert.Equal(t, 1, b.Deaths)
	assert.Equal(t, 1, a.Score)
	_, ok = w.Kill(2, 1)
	assert.False(t, ok, "dead already")
}

// TestBeamLength: a beam reaches LaserRange, or the wall, or the first
// asteroid on its way; ships do not stop it.
func TestBeamLength(t *testing.T) {
	b := sim.Classic().Bounds
	assert.InDelta(t, sim.LaserRange, sim.BeamReach(b, 100, 500, 0), 1e-9)
	assert.InDelta(t, 400, sim.BeamReach(b, 1200, 500, 0), 1e-9, "the right wall")
	assert.InDelta(t, 500, sim.BeamReach(b, 800, 500, -math.Pi/2), 1e-9, "the top wall")
	assert.InDelta(t, 100*math.Sqrt2, sim.BeamReach(b, 100, 100, -3*math.Pi/4), 1e-9, "a corner")
	assert.Zero(t, sim.BeamReach(b, 1600, 500, 0), "at the wall, outwards")

	w, _, _ := twoShips(500, 500, 0, 800, 500, 0)
	assert.InDelta(t, sim.LaserRange, w.BeamLength(100, 500, 0), 1e-9, "ships do not stop it")

	bw := sim.NewSceneWorld(3, sim.Battle())
	rock := bw.Asteroids[0]
	x, y := rock.X-rock.Radius-100, rock.Y
	got := bw.BeamLength(x, y, 0)
	assert.LessOrEqual(t, got, 100+1e-9, "the asteroid (or one before it) stops it")
	inside := bw.BeamLength(rock.X, rock.Y, 1)
	assert.Zero(t, inside, "from inside an asteroid")
}

// TestPauseAndExtra: a paused ship sits out one step (its respawn goes on
// when dead); Extra steps one ship once outside a Step, firing as a step
// would. Each input moves the ship once, as StepShip does on the client.
func TestPauseAndExtra(t *testing.T) {
	w, a, _ := twoShips(500, 500, 0, 1200, 800, 0)
	w.SetInput(1, sim.Thrust)
	w.Pause(1)
	x, vx := a.X, a.VX
	w.Step()
	assert.Equal(t, [2]float64{x, vx}, [2]float64{w.Ship(1).X, w.Ship(1).VX}, "paused")
	w.Step()
	assert.Greater(t, w.Ship(1).X, x, "moves again")

	// Two inputs in a tick: Extra, then Step; the same as StepShip twice.
	want := *w.Ship(1)
	want.Input = sim.Thrust | sim.Left
	sim.StepShip(&want, sim.Classic().Bounds)
	want.Input = sim.Thrust
	sim.StepShip(&want, sim.Classic().Bounds)
	assert.Empty(t, w.Extra(1, sim.Thrust|sim.Left))
	w.SetInput(1, sim.Thrust)
	w.Step()
	s := w.Ship(1)
	assert.InDelta(t, want.X, s.X, 1e-9)
	assert.InDelta(t, want.Angle, s.Angle, 1e-9)

	evs := w.Extra(1, sim.Laser)
	require.Len(t, evs, 1)
	assert.Equal(t, sim.LaserFired, evs[0].Kind)
	assert.Nil(t, w.Extra(9, sim.Laser), "no such ship")

	// A dead ship is not paused: its respawn counts down.
	_, ok := w.Kill(1, 2)
	require.True(t, ok)
	w.Pause(1)
	assert.False(t, w.Ship(1).Paused)
	assert.Nil(t, w.Extra(1, sim.Thrust), "dead")
	for range sim.RespawnTicks {
		w.Step()
	}
	assert.True(t, w.Ship(1).Alive, "respawned")
}
