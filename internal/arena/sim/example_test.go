package sim_test

import (
	"fmt"
	"math"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// A World steps by fixed ticks under the players' buttons. Here player 7
// thrusts and fires for half a second: the ship speeds up, its gun fires
// every FireCooldown ticks, and nothing else happens in an empty arena.
func ExampleWorld() {
	w := sim.NewWorld(42)
	ship := w.AddShip(7)
	x, y := ship.X, ship.Y
	w.SetInput(7, sim.Thrust|sim.Fire)
	events := 0
	for range sim.TickRate / 2 {
		events += len(w.Step())
	}
	ship = w.Ship(7)
	fmt.Println("tick:", w.Tick)
	fmt.Printf("moved %.0f units, speed %.0f units/s\n", math.Hypot(ship.X-x, ship.Y-y), math.Hypot(ship.VX, ship.VY))
	fmt.Println("bullets:", len(w.Bullets), "events:", events)
	// Output:
	// tick: 30
	// moved 46 units, speed 168 units/s
	// bullets: 3 events: 0
}

// The simulation is deterministic: the same seed and inputs give the
// same world, which is what lets a client predict its own ship.
func ExampleWorld_Clone() {
	a := sim.NewWorld(1)
	a.AddShip(1)
	a.AddShip(2)
	b := a.Clone()
	for _, w := range []*sim.World{a, b} {
		w.SetInput(1, sim.Thrust|sim.Left)
		w.SetInput(2, sim.Fire)
		for range 100 {
			w.Step()
		}
	}
	fmt.Println(a.Ship(1).X == b.Ship(1).X, a.Ship(1).Y == b.Ship(1).Y, len(a.Bullets) == len(b.Bullets))
	// Output:
	// true true true
}

// StepShip is one ship's movement alone: what a client runs to predict
// its own ship between two snapshots from the server.
func ExampleStepShip() {
	s := sim.Ship{ID: 1, X: 100, Y: 500, Alive: true, Input: sim.Thrust} // angle 0: right
	for range sim.TickRate / 2 {
		sim.StepShip(&s, sim.Classic().Bounds)
	}
	fmt.Printf("x %.0f, y %.0f, vx %.0f, vy %.0f\n", s.X, s.Y, s.VX, s.VY)
	// Output:
	// x 146, y 500, vx 168, vy 0
}

// A battle is a world of the Battle scene: 16 screens and 1,200
// asteroids. A client told the scene's name knows its walls, which it
// gives StepShip to predict its own ship.
func ExampleNewSceneWorld() {
	sc, ok := sim.SceneByName("battle")
	fmt.Println(ok, sc.Width, sc.Height)
	w := sim.NewSceneWorld(1, sc)
	fmt.Println("asteroids:", len(w.Asteroids))

	s := sim.Ship{ID: 1, X: 6300, Y: 2000, VX: 400, Alive: true} // heading for the right wall
	for range sim.TickRate / 2 {
		sim.StepShip(&s, sc.Bounds)
	}
	fmt.Printf("x %.0f, vx %.0f\n", s.X, s.VX)
	// Output:
	// true 6400 4000
	// asteroids: 1200
	// x 6349, vx -127
}
