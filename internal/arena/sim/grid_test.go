package sim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGrid checks the grid against looking at every object: a cell holds
// every object whose square touches it, in ascending order, once.
func TestGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range []Bounds{{Width, Height}, {4 * Width, 4 * Height}, {200, 130}, {cellSize, cellSize}} {
		var g grid
		for round := range 5 {
			type obj struct{ x, y, reach float64 }
			objs := make([]obj, rng.IntN(300))
			g.begin(b)
			for i := range objs {
				o := obj{x: rng.Float64()*(b.Width+40) - 20, y: rng.Float64()*(b.Height+40) - 20, reach: rng.Float64() * 80}
				if i%7 == 3 {
					o.reach = -1 // not registered
					g.skip()
				} else {
					g.add(o.x, o.y, o.reach)
				}
				objs[i] = o
			}
			g.finish()
			require.Equal(t, int(math.Ceil(b.Width/cellSize)), g.nx)
			require.Equal(t, int(math.Ceil(b.Height/cellSize)), g.ny)
			for cy := range g.ny {
				for cx := range g.nx {
					var want []int32
					x0, y0 := float64(cx)*cellSize, float64(cy)*cellSize
					x1, y1 := x0+cellSize, y0+cellSize
					// Edge cells reach out to infinity.
					if cx == 0 {
						x0 = math.Inf(-1)
					}
					if cy == 0 {
						y0 = math.Inf(-1)
					}
					if cx == g.nx-1 {
						x1 = math.Inf(1)
					}
					if cy == g.ny-1 {
						y1 = math.Inf(1)
					}
					for i, o := range objs {
						if o.reach >= 0 && o.x+o.reach >= x0 && o.x-o.reach < x1 && o.y+o.reach >= y0 && o.y-o.reach < y1 {
							want = append(want, int32(i))
						}
					}
					got := g.cell(cx, cy)
					require.Equal(t, len(want), len(got), "bounds %v round %d cell (%d, %d)", b, round, cx, cy)
					if len(want) > 0 {
						require.Equal(t, want, got)
					}
				}
			}
			// at finds the cell of a point.
			for range 100 {
				x, y := rng.Float64()*b.Width, rng.Float64()*b.Height
				got := g.at(x, y)
				for i, o := range objs {
					if o.reach >= 0 && math.Abs(o.x-x) <= o.reach && math.Abs(o.y-y) <= o.reach {
						require.Contains(t, got, int32(i))
					}
				}
			}
			g.reset()
			assert.Empty(t, g.spans)
			assert.Empty(t, g.start)
			assert.Empty(t, g.items)
			assert.Nil(t, g.at(1, 1), "an empty grid finds nothing")
		}
		// A detached grid shares no memory.
		g.begin(b)
		g.add(1, 1, 0)
		g.finish()
		d := g.detached()
		require.Zero(t, cap(d.spans)+cap(d.start)+cap(d.items))
	}
}

// TestShipHitMatchesAllShips: the grid finds the same ship a loop over
// all ships would, the first in ID order, however crowded.
func TestShipHitMatchesAllShips(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		w := NewSceneWorld(uint64(round), Scene{Name: "crowd", Bounds: Bounds{600, 400}})
		for id := uint32(1); id <= 60; id++ {
			s := w.AddShip(id * 3)
			s.X, s.Y = rng.Float64()*600, rng.Float64()*400
			s.Shield = 0
			if rng.IntN(5) == 0 {
				s.Shield = 1
			}
			if rng.IntN(6) == 0 {
				s.Alive = false
			}
		}
		w.indexLive()
		hits := 0
		for range 2000 {
			b := Bullet{Owner: uint32(rng.IntN(62)) * 3, X: rng.Float64() * 600, Y: rng.Float64() * 400}
			want := -1
			for i := range w.Ships {
				s := &w.Ships[i]
				if s.Alive && s.ID != b.Owner && s.Shield == 0 && math.Hypot(s.X-b.X, s.Y-b.Y) < ShipRadius+BulletRadius {
					want = i
					break
				}
			}
			require.Equal(t, want, w.shipHit(&b), "round %d bullet %+v", round, b)
			if want >= 0 {
				hits++
			}
		}
		require.Positive(t, hits)
		w.scratch.reset()
	}
}

// TestCollideShipsMatchesAllPairs: pushing crowded ships apart through
// the grid gives exactly what a loop over all pairs gives.
func TestCollideShipsMatchesAllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 50 {
		w := NewSceneWorld(uint64(round), Scene{Name: "crowd", Bounds: Bounds{900, 500}})
		for id := uint32(1); id <= 120; id++ {
			s := w.AddShip(id)
			s.X, s.Y = rng.Float64()*900, rng.Float64()*500
			s.VX, s.VY = rng.Float64()*400-200, rng.Float64()*400-200
			s.Alive = rng.IntN(8) != 0
		}
		want := w.Clone()
		allPairs(want)
		w.collideShips()
		w.scratch.reset()
		require.Equal(t, want.Ships, w.Ships, "round %d", round)
	}
}

// allPairs is collideShips as a loop over all pairs.
func allPairs(w *World) {
	for i := range w.Ships {
		a := &w.Ships[i]
		if !a.Alive {
			continue
		}
		for j := i + 1; j < len(w.Ships); j++ {
			b := &w.Ships[j]
			if !b.Alive {
				continue
			}
			collidePair(a, b, w.scene.Bounds)
		}
	}
}

// TestScratchEmptyBetweenSteps: what a step leaves in its scratch does
// not make two worlds that are the same unequal.
func TestScratchEmptyBetweenSteps(t *testing.T) {
	w := NewSceneWorld(1, Battle())
	for id := uint32(1); id <= 10; id++ {
		w.AddShip(id)
		w.SetInput(id, Fire|Thrust)
	}
	for range 30 {
		w.Step()
		require.Empty(t, w.scratch.ships.items)
		require.Empty(t, w.scratch.rocks.items)
		require.Empty(t, w.scratch.near)
		require.Equal(t, w, w.Clone())
	}
	assert.True(t, slices.IsSortedFunc(w.Asteroids, func(a, b Asteroid) int { return cmp.Compare(a.ID, b.ID) }))
}
