package sim

// Bounds is the size of a world in world units: its walls are the lines
// x = 0, x = Width, y = 0 and y = Height.
type Bounds struct {
	Width, Height float64
}

// Scene is a kind of world: how big it is and how many asteroids drift
// in it. A server and its clients agree on a scene by its Name.
type Scene struct {
	Name string
	Bounds
	// Asteroids is how many asteroids the world keeps: a destroyed one is
	// replaced after AsteroidRespawnTicks.
	Asteroids int
	// Calm asteroids do not drift or spin: a world where nothing moves
	// unless ships push it.
	Calm bool
}

// Classic returns the classic scene: one screen, Width by Height, and no
// asteroids. NewWorld makes classic worlds.
func Classic() Scene {
	return Scene{Name: "classic", Bounds: Bounds{Width, Height}}
}

// Battle returns the battle scene: 4 by 4 classic arenas (16 screens,
// 6400 by 4000 units) with 1,200 asteroids, room for a few hundred
// ships.
func Battle() Scene {
	return Scene{Name: "battle", Bounds: Bounds{4 * Width, 4 * Height}, Asteroids: 1200}
}

// Calm returns the battle's world with asteroids that do not drift: what
// a world costs when nothing moves.
func Calm() Scene {
	sc := Battle()
	sc.Name, sc.Calm = "calm", true
	return sc
}

// Scenes returns the known scenes, Classic first.
func Scenes() []Scene {
	return []Scene{Classic(), Battle(), Calm()}
}

// SceneByName returns the known scene called name and whether there is
// one.
func SceneByName(name string) (Scene, bool) {
	for _, sc := range Scenes() {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scene{}, false
}
