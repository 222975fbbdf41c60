package sim_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// camp returns a world where ship 1 sits 300 units left of ship 2, aimed
// at it, with its gun ready, and ship 2 is freshly (re)spawned: shielded.
func camp() (*sim.World, *sim.Ship) {
	w, a, b := twoShips(500, 500, 0, 800, 500, 0)
	a.Cooldown = 0
	b.Shield = sim.ShieldTicks
	return w, b
}

// TestSpawnProtectionLastsLongEnough: a (re)spawned ship takes no hit for
// ShieldTicks, at least two seconds, even from a ship camping next to its
// spawn point and firing all the time; enough time to thrust many ship
// lengths away.
func TestSpawnProtectionLastsLongEnough(t *testing.T) {
	require.GreaterOrEqual(t, sim.ShieldTicks, 2*sim.TickRate, "at least 2 s")
	require.LessOrEqual(t, sim.ShieldTicks, 3*sim.TickRate, "at most 3 s")

	w, _ := camp()
	w.SetInput(1, sim.Fire)
	killedAt := 0
	for tick := 1; tick <= sim.ShieldTicks+sim.BulletLife; tick++ {
		for _, e := range w.Step() {
			if e.Kind == sim.Kill {
				require.Equal(t, uint32(2), e.Victim)
				killedAt = tick
			}
		}
		if killedAt != 0 {
			break
		}
		if tick < sim.ShieldTicks {
			require.Positive(t, w.Ship(2).Shield, "tick %d", tick)
		}
	}
	require.NotZero(t, killedAt, "once the protection is over, the camper's bullets hit")
	assert.GreaterOrEqual(t, killedAt, sim.ShieldTicks, "no hit while protected")
	assert.Equal(t, 1, w.Ship(2).Deaths)

	// A protected ship that flees gets far: here, from rest, 10 ship
	// lengths and more.
	s := ship(0)
	s.Shield = sim.ShieldTicks
	x0 := s.X
	s.Input = sim.Thrust
	for range sim.ShieldTicks {
		sim.StepShip(&s, sim.Classic().Bounds)
	}
	assert.Greater(t, s.X-x0, 20*sim.ShipRadius)
	assert.Zero(t, s.Shield)
}

// TestFiringEndsSpawnProtection: a protected ship that fires loses its
// protection at once, in the world and in a client's prediction alike.
func TestFiringEndsSpawnProtection(t *testing.T) {
	w, b := camp()
	b.Angle = math.Pi // facing the camper
	w.SetInput(2, sim.Fire)
	pred := *w.Ship(2)
	require.Empty(t, w.Step())
	sim.StepShip(&pred, sim.Classic().Bounds)
	v := w.Ship(2)
	require.Len(t, w.Bullets, 1, "it fired")
	assert.Equal(t, uint32(2), w.Bullets[0].Owner)
	assert.Zero(t, v.Shield, "no protection once it fires")
	assert.Equal(t, v.Shield, pred.Shield, "StepShip predicts it")

	// Now the camper's first bullet hits it.
	w.SetInput(2, 0)
	w.SetInput(1, sim.Fire)
	var kill *sim.Event
	for range sim.BulletLife {
		for _, e := range w.Step() {
			if e.Kind == sim.Kill && e.Victim == 2 {
				kill = &e
			}
		}
		if kill != nil {
			break
		}
	}
	require.NotNil(t, kill, "an unprotected ship is hit")
	assert.Equal(t, uint32(1), kill.Killer)

	// Holding fire while the gun cools down does not end it: only a shot.
	s := ship(0)
	s.Shield, s.Cooldown, s.Input = 10, 5, sim.Fire
	sim.StepShip(&s, sim.Classic().Bounds)
	assert.Equal(t, 9, s.Shield)
}

// TestRespawnIsProtected: a ship killed comes back protected for
// ShieldTicks, and the camper that killed it cannot kill it again before
// the protection is over.
func TestRespawnIsProtected(t *testing.T) {
	w, _ := camp()
	w.Ship(2).Shield = 0
	w.SetInput(1, sim.Fire)
	var kills []int
	for tick := 1; tick <= 20*sim.TickRate; tick++ {
		v := w.Ship(2)
		if v.Alive {
			// Respawned anywhere: put it back in the camper's sights.
			v.X, v.Y = 800, 500
		}
		for _, e := range w.Step() {
			if e.Kind == sim.Kill {
				kills = append(kills, tick)
			}
			if e.Kind == sim.Respawn {
				assert.Equal(t, sim.ShieldTicks, w.Ship(e.Victim).Shield)
			}
		}
	}
	require.Greater(t, len(kills), 1)
	for i := 1; i < len(kills); i++ {
		assert.GreaterOrEqual(t, kills[i]-kills[i-1], sim.RespawnTicks+sim.ShieldTicks, "killed again at tick %d, %d after", kills[i], kills[i]-kills[i-1])
	}
	// When the protection lasted 90 ticks (1.5 s), such a camper killed a
	// ship 6 times in 20 s (the first kill on an unprotected ship).
	assert.Less(t, len(kills), 6)
	assert.LessOrEqual(t, len(kills), 1+20*sim.TickRate/(sim.RespawnTicks+sim.ShieldTicks))
	t.Logf("killed %d times in 20 s at ticks %v", len(kills), kills)
}
