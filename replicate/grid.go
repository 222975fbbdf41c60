package replicate

import "math"

// grid is a uniform spatial grid over the world's bounds: each cell lists
// the entities whose position lies in it. Moving an entity between cells
// and querying a rectangle cost work in proportion to the cells touched.
type grid struct {
	minX, minY float64
	cell       float64
	w, h       int
	cells      [][]uint32 // entity slots
}

func newGrid(minX, minY, maxX, maxY, cell float64) *grid {
	g := &grid{minX: minX, minY: minY, cell: cell}
	g.w = max(1, int(math.Ceil((maxX-minX)/cell)))
	g.h = max(1, int(math.Ceil((maxY-minY)/cell)))
	g.cells = make([][]uint32, g.w*g.h)
	return g
}

func (g *grid) cellOf(x, y float64) int32 {
	cx := int((x - g.minX) / g.cell)
	cy := int((y - g.minY) / g.cell)
	cx = min(max(cx, 0), g.w-1)
	cy = min(max(cy, 0), g.h-1)
	return int32(cy*g.w + cx)
}

// insert puts slot into cell c and returns its index there.
func (g *grid) insert(c int32, slot uint32) int32 {
	g.cells[c] = append(g.cells[c], slot)
	return int32(len(g.cells[c]) - 1)
}

// remove takes the entry at index i out of cell c; it returns the slot
// that moved into index i (to fix its index), or false.
func (g *grid) remove(c, i int32) (moved uint32, ok bool) {
	l := g.cells[c]
	last := int32(len(l) - 1)
	if i != last {
		l[i] = l[last]
		moved, ok = l[i], true
	}
	g.cells[c] = l[:last]
	return moved, ok
}

// span returns the cell ranges overlapping the rectangle.
func (g *grid) span(x0, y0, x1, y1 float64) (cx0, cy0, cx1, cy1 int) {
	clamp := func(v float64, n int) int {
		i := int(math.Floor(v / g.cell))
		return min(max(i, 0), n-1)
	}
	return clamp(x0-g.minX, g.w), clamp(y0-g.minY, g.h), clamp(x1-g.minX, g.w), clamp(y1-g.minY, g.h)
}
