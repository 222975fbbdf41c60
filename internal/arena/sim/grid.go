package sim

import "math"

// cellSize is the side of a grid cell in world units: larger than any
// asteroid's diameter, several ship lengths.
const cellSize = 128.0

// grid is a uniform grid over a world that answers "which objects are
// near this point" without looking at every object. Objects are numbered
// 0, 1, 2... in the order they are added (their index in the World's
// slice); each is registered in every cell its square of half side reach
// around its center touches. The cells are stored flat, cell after cell
// (a counting sort), and within a cell the objects are in ascending
// order, so queries visit them in a fixed order.
//
// A grid is scratch: built during a step from the positions of the
// moment and emptied at the end of the step (its slices keep their
// memory, so that stepping does not allocate once they have grown).
type grid struct {
	nx, ny int
	spans  []span  // per object, the cells it is registered in
	start  []int32 // cell c's objects are items[start[c]:start[c+1]]
	items  []int32 // object indices, cell after cell
}

// span is a rectangle of cells, x0 to x1 and y0 to y1 inclusive; empty
// when x0 > x1.
type span struct{ x0, y0, x1, y1 int32 }

// begin starts building the grid for a world of bounds b.
func (g *grid) begin(b Bounds) {
	g.nx = max(1, int(math.Ceil(b.Width/cellSize)))
	g.ny = max(1, int(math.Ceil(b.Height/cellSize)))
	g.spans = g.spans[:0]
}

// add registers the next object, centered at (x, y), in the cells its
// square of half side reach touches.
func (g *grid) add(x, y, reach float64) {
	x0, y0, x1, y1 := g.cells(x, y, reach)
	g.spans = append(g.spans, span{int32(x0), int32(y0), int32(x1), int32(y1)})
}

// skip registers the next object nowhere.
func (g *grid) skip() {
	g.spans = append(g.spans, span{x0: 1, x1: 0})
}

// finish sorts the registered objects into their cells.
func (g *grid) finish() {
	n := g.nx * g.ny
	g.start = grow(g.start, n+1)
	clear(g.start)
	// Count each cell's objects in start[c+1], then sum them up: start[c]
	// is where cell c begins.
	for _, s := range g.spans {
		for y := s.y0; y <= s.y1; y++ {
			row := int(y) * g.nx
			for x := s.x0; x <= s.x1; x++ {
				g.start[row+int(x)+1]++
			}
		}
	}
	var sum int32
	for c, k := range g.start {
		sum += k
		g.start[c] = sum
	}
	g.items = grow(g.items, int(g.start[n]))
	// Fill the cells in object order, using start[c] as cell c's cursor,
	// which leaves it at the cell's end, that is at start[c+1]; then
	// shift the starts back.
	for i, s := range g.spans {
		for y := s.y0; y <= s.y1; y++ {
			row := int(y) * g.nx
			for x := s.x0; x <= s.x1; x++ {
				c := row + int(x)
				g.items[g.start[c]] = int32(i)
				g.start[c]++
			}
		}
	}
	copy(g.start[1:], g.start[:n])
	g.start[0] = 0
}

// grow returns s resized to n elements, reusing its memory when it can.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n, n+n/4)
	}
	return s[:n]
}

// cells returns the rectangle of cells that the square of half side reach
// around (x, y) touches, clamped to the grid.
func (g *grid) cells(x, y, reach float64) (x0, y0, x1, y1 int) {
	return g.col(x - reach), g.row(y - reach), g.col(x + reach), g.row(y + reach)
}

func (g *grid) col(x float64) int { return min(max(int(x/cellSize), 0), g.nx-1) }
func (g *grid) row(y float64) int { return min(max(int(y/cellSize), 0), g.ny-1) }

// cell returns the objects registered in cell (cx, cy), in ascending
// order.
func (g *grid) cell(cx, cy int) []int32 {
	c := cy*g.nx + cx
	return g.items[g.start[c]:g.start[c+1]]
}

// at returns the objects registered in the cell that holds (x, y), in
// ascending order; none when the grid has not been built.
func (g *grid) at(x, y float64) []int32 {
	if len(g.start) == 0 {
		return nil
	}
	return g.cell(g.col(x), g.row(y))
}

// reset empties the grid, keeping its memory.
func (g *grid) reset() {
	g.spans, g.start, g.items = g.spans[:0], g.start[:0], g.items[:0]
}

// detached returns an empty grid that shares no memory with g. Like
// reset, it keeps an unused slice nil and a used one non-nil, so that a
// world and its clone compare equal.
func (g *grid) detached() grid {
	return grid{nx: g.nx, ny: g.ny, spans: g.spans[:0:0], start: g.start[:0:0], items: g.items[:0:0]}
}
