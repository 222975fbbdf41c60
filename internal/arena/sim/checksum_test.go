package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// TestChecksum: two worlds stepped through the same inputs agree tick by
// tick; a world that differs in one value, anywhere, disagrees from then
// on; a clone agrees; it costs no allocation.
func TestChecksum(t *testing.T) {
	run := func(w *sim.World, ticks int, edit func(tick int, w *sim.World)) []uint64 {
		var sums []uint64
		for tick := range ticks {
			for i, id := range []uint32{1, 2, 3} {
				w.SetInput(id, []sim.Input{sim.Thrust | sim.Fire, sim.Left | sim.Laser, sim.Right | sim.Thrust}[(tick/30+i)%3])
			}
			if edit != nil {
				edit(tick, w)
			}
			w.Step()
			sums = append(sums, w.Checksum())
		}
		return sums
	}
	world := func() *sim.World {
		w := sim.NewSceneWorld(7, sim.Battle())
		for _, id := range []uint32{1, 2, 3} {
			w.AddShip(id)
		}
		return w
	}
	a := run(world(), 300, nil)
	b := run(world(), 300, nil)
	require.Equal(t, a, b, "the same inputs, the same checksums")
	for i := 1; i < len(a); i++ {
		require.NotEqual(t, a[i-1], a[i], "tick %d: the world moves", i)
	}

	for name, edit := range map[string]func(*sim.World){
		"a ship's x by a bit": func(w *sim.World) { w.Ships[1].X += 1e-9 },
		"a score":             func(w *sim.World) { w.Ships[2].Score++ },
		"an asteroid's spin":  func(w *sim.World) { w.Asteroids[500].Spin *= 1.0000001 },
		"a laser's cooldown":  func(w *sim.World) { w.Ships[0].LaserCool = 3 },
		"a paused ship":       func(w *sim.World) { w.Pause(1) },
		"the tick":            func(w *sim.World) { w.Tick++ },
	} {
		c := run(world(), 300, func(tick int, w *sim.World) {
			if tick == 150 {
				edit(w)
			}
		})
		assert.Equal(t, a[:150], c[:150], name)
		assert.NotEqual(t, a[150], c[150], "%s: the tick it changed", name)
	}

	w := world()
	run(w, 60, nil)
	assert.Equal(t, w.Checksum(), w.Clone().Checksum())
	assert.Zero(t, testing.AllocsPerRun(10, func() { w.Checksum() }))
}
