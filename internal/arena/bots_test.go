package arena_test

import (
	"context"
	"log/slog"
	"math"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// startServer runs a server of h on loopback; stop stops it (also done
// when the test ends).
func startServer(t *testing.T, h server.EventHandler) (addr string, root *conn.PrivateKey, stop func()) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Stop()
			<-srv.Done()
		}
	}
	t.Cleanup(stop)
	return srv.Addr().String(), root, stop
}

// freeAddr returns a loopback UDP address nothing listens on.
func freeAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// runBots runs cfg until it returns (at most a minute).
func runBots(t *testing.T, cfg arena.BotsConfig) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cfg.Run(ctx)
	require.NoError(t, ctx.Err(), "the bots should have given up by themselves")
	return err
}

// TestBotsGiveUp: bots that cannot join the game stop with the reason
// after GiveUp, instead of retrying forever.
func TestBotsGiveUp(t *testing.T) {
	const giveUp = 6 * time.Second
	t.Run("nothing listening", func(t *testing.T) {
		t.Parallel()
		addr := freeAddr(t)
		err := runBots(t, arena.BotsConfig{Server: addr, Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, conn.ErrHandshakeTimeout)
		assert.EqualError(t, err, "no bot could join the game in 6s: no answer from the server at "+addr+": is it running?")
	})
	t.Run("another game", func(t *testing.T) {
		t.Parallel()
		addr, root, _ := startServer(t, echo.NewHandler(nil))
		err := runBots(t, arena.BotsConfig{Server: addr, Key: root.Public(), Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, player.ErrNotArena)
		assert.EqualError(t, err, "no bot could join the game in 6s: the server at "+addr+" hosts another game, not the arena")
	})
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		addr, _, _ := startServer(t, arena.NewHandler(nil, 1))
		other, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		err = runBots(t, arena.BotsConfig{Server: addr, Key: other.Public(), Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, conn.ErrBadSignature)
		assert.Contains(t, err.Error(), "no bot could join the game in 6s: the server's key does not match the pinned --pubkey")
	})
	t.Run("bad address", func(t *testing.T) {
		t.Parallel()
		err := runBots(t, arena.BotsConfig{Server: "127.0.0.1", Count: 2, GiveUp: giveUp})
		assert.EqualError(t, err, `bot 1: "127.0.0.1" is not a server address: write host:port, like 127.0.0.1:1474`)
	})
	t.Run("the server went away", func(t *testing.T) {
		t.Parallel()
		var out syncbuf.Buffer
		addr, root, stop := startServer(t, arena.NewHandler(&out, 1))
		done := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		go func() { done <- arena.BotsConfig{Server: addr, Key: root.Public(), Count: 2, GiveUp: giveUp}.Run(ctx) }()
		for deadline := time.Now().Add(20 * time.Second); strings.Count(out.String(), "JOIN ") < 2; time.Sleep(10 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "the bots never joined")
		}
		stop()
		err := <-done
		require.NoError(t, ctx.Err())
		var be *arena.BotsError
		require.ErrorAs(t, err, &be)
		assert.True(t, be.Joined)
		assert.True(t, strings.HasPrefix(err.Error(), "the server went away: no bot has been in the game for 6s: "), err.Error())
	})
}

// TestLeaveLinesCountDown: each LEAVE line gives the players left after
// that one: when a player leaves on its own, and when the stopping server
// disconnects every player in turn, down to 0.
func TestLeaveLinesCountDown(t *testing.T) {
	var out syncbuf.Buffer
	addr, root, stop := startServer(t, arena.NewHandler(&out, 1))
	var players []*player.Player
	for _, name := range []string{"ann", "bob", "cat", "dan"} {
		p := player.New(player.Options{Name: name, Key: root.Public()})
		require.NoError(t, p.Connect(addr))
		defer p.Client().ForceDisconnect()
		players = append(players, p)
	}
	frameUntil := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(5 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "%s: %q", what, out.String())
			for _, p := range players {
				p.Frame(time.Now(), 0)
			}
		}
	}
	frameUntil("all join", func() bool { return strings.Count(out.String(), "JOIN ") == 4 })
	players[0].Client().WaitForDisconnect()
	players = players[1:]
	frameUntil("ann leaves", func() bool { return strings.Contains(out.String(), "LEAVE ") })
	stop()
	leave := regexp.MustCompile(`(?m)^LEAVE (\S+) active=(\d+)$`)
	var names, counts []string
	for _, m := range leave.FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
		counts = append(counts, m[2])
	}
	require.Len(t, names, 4, out.String())
	assert.Equal(t, "ann", names[0])
	assert.ElementsMatch(t, []string{"bob", "cat", "dan"}, names[1:], out.String())
	assert.Equal(t, []string{"3", "2", "1", "0"}, counts, out.String())
}

// botView is what a bot at ship index i of w sees: the scene, its ship
// first, and the ships and asteroids within a window's view of it (one
// classic arena, as the play window shows).
func botView(w *sim.World, i int) player.View {
	me := w.Ships[i]
	sc := w.Scene()
	in := func(x, y, r float64) bool {
		return math.Abs(x-me.X) <= sim.Width/2+r && math.Abs(y-me.Y) <= sim.Height/2+r
	}
	ship := func(s sim.Ship) player.Ship {
		return player.Ship{ID: s.ID, X: s.X, Y: s.Y, Angle: s.Angle, VX: s.VX, VY: s.VY, Alive: s.Alive, Shield: s.Shield > 0}
	}
	v := player.View{Scene: sc, CamX: me.X, CamY: me.Y}
	local := ship(me)
	local.Local = true
	v.Ships = append(v.Ships, local)
	for j, s := range w.Ships {
		if j != i && in(s.X, s.Y, sim.ShipRadius) {
			v.Ships = append(v.Ships, ship(s))
		}
	}
	for _, a := range w.Asteroids {
		if in(a.X, a.Y, a.Radius) {
			v.Asteroids = append(v.Asteroids, player.Asteroid{ID: a.ID, X: a.X, Y: a.Y, Radius: a.Radius, Angle: a.Angle, HP: a.HP, MaxHP: a.MaxHP()})
		}
	}
	return v
}

// flying returns a view of a lone bot at (1000, 1000) in the battle
// scene, heading right at speed, with the given asteroids.
func flying(speed float64, rocks ...player.Asteroid) player.View {
	return player.View{
		Scene:     sim.Battle(),
		Ships:     []player.Ship{{ID: 1, X: 1000, Y: 1000, VX: speed, Alive: true, Local: true}},
		Asteroids: rocks,
	}
}

// TestBotTurnsAwayFromAsteroid: a bot flying at an asteroid turns away
// from it, to the side it is not on, and flies past without touching it.
func TestBotTurnsAwayFromAsteroid(t *testing.T) {
	for seed := range uint64(8) {
		b := arena.NewBot("bot", 0, nil, seed)
		// A bit below its way (y grows down): it turns up, Left.
		in := b.Steer(flying(250, player.Asteroid{ID: 1, X: 1200, Y: 1010, Radius: 40, HP: 3, MaxHP: 3}))
		assert.NotZero(t, in&sim.Left, "seed %d: %04b", seed, in)
		assert.Zero(t, in&sim.Right, "seed %d", seed)
		// A bit above: Right.
		in = b.Steer(flying(250, player.Asteroid{ID: 1, X: 1200, Y: 990, Radius: 40, HP: 3, MaxHP: 3}))
		assert.NotZero(t, in&sim.Right, "seed %d: %04b", seed, in)
		assert.Zero(t, in&sim.Left, "seed %d", seed)
	}

	// Flown through the simulation: it passes the asteroid (or stops
	// short of it), never touching.
	for seed := range uint64(8) {
		for _, dy := range []float64{-30, -5, 0, 5, 30} {
			b := arena.NewBot("bot", 0, nil, seed)
			rock := player.Asteroid{ID: 1, X: 1400, Y: 1000 + dy, Radius: 50, HP: 4, MaxHP: 4}
			s := sim.Ship{ID: 1, X: 1000, Y: 1000, VX: 300, Alive: true}
			closest := math.Inf(1)
			for range 3 * sim.TickRate {
				v := flying(0, rock)
				v.Ships[0] = player.Ship{ID: 1, X: s.X, Y: s.Y, Angle: s.Angle, VX: s.VX, VY: s.VY, Alive: true, Local: true}
				s.Input = b.Steer(v)
				sim.StepShip(&s, sim.Battle().Bounds)
				closest = min(closest, math.Hypot(s.X-rock.X, s.Y-rock.Y)-rock.Radius-sim.ShipRadius)
			}
			assert.Positive(t, closest, "seed %d, asteroid %+.0f off its way: the ship touched it", seed, dy)
		}
	}
}

// TestBotShootsAsteroidAhead: with no ship in view, a bot fires at an
// asteroid in front of it within its reach, and not at one behind it,
// beside it or out of reach; with a ship in view it fires at the ship
// only.
func TestBotShootsAsteroidAhead(t *testing.T) {
	rock := func(x, y float64) player.Asteroid {
		return player.Asteroid{ID: 1, X: x, Y: y, Radius: 30, HP: 2, MaxHP: 2}
	}
	for seed := range uint64(8) {
		b := arena.NewBot("bot", 0, nil, seed)
		assert.NotZero(t, b.Steer(flying(0, rock(1300, 1000)))&sim.Fire, "seed %d: ahead", seed)
		assert.NotZero(t, b.Steer(flying(0, rock(1400, 1020)))&sim.Fire, "seed %d: ahead, a bit aside", seed)
		assert.Zero(t, b.Steer(flying(0, rock(700, 1000)))&sim.Fire, "seed %d: behind", seed)
		assert.Zero(t, b.Steer(flying(0, rock(1300, 1200)))&sim.Fire, "seed %d: beside", seed)
		assert.Zero(t, b.Steer(flying(0, rock(2000, 1000)))&sim.Fire, "seed %d: out of reach", seed)
		assert.Zero(t, b.Steer(flying(0))&sim.Fire, "seed %d: nothing", seed)
		// A ship in view, off to the side: the bot turns to it and holds
		// its fire.
		v := flying(0, rock(1300, 1000))
		v.Ships = append(v.Ships, player.Ship{ID: 2, X: 1000, Y: 1300, Alive: true})
		in := b.Steer(v)
		assert.Zero(t, in&sim.Fire, "seed %d: hunting", seed)
		assert.NotZero(t, in&sim.Right, "seed %d: turns to the ship", seed)
		// Straight ahead: fire.
		v.Ships[1].X, v.Ships[1].Y = 1350, 1000
		v.Asteroids = nil
		assert.NotZero(t, b.Steer(v)&sim.Fire, "seed %d: at the ship", seed)
	}
}

// TestBotKeepsOffTheWalls: near a wall a bot turns back inward (without
// a scene, in the classic arena's walls).
func TestBotKeepsOffTheWalls(t *testing.T) {
	b := arena.NewBot("bot", 0, nil, 1)
	// Heading up, next to the left wall of the classic arena: turn right
	// (clockwise, towards +x).
	v := player.View{Ships: []player.Ship{{ID: 1, X: 50, Y: 500, Angle: -math.Pi / 2, Alive: true, Local: true}}}
	in := b.Steer(v)
	assert.NotZero(t, in&sim.Right, "%04b", in)
	// The classic arena's right wall is not the battle's.
	v.Ships[0] = player.Ship{ID: 1, X: sim.Width - 50, Y: 500, Angle: math.Pi / 2, Alive: true, Local: true}
	in = b.Steer(v)
	assert.NotZero(t, in&sim.Right, "heading down by the classic right wall: turn to -x: %04b", in)
	assert.Zero(t, b.Steer(player.View{}), "no ship, no buttons")
}

// battleBots runs n bots for the given seconds in a battle world, each
// steered by what it would see, and returns the world, the screens
// (classic arenas, 4 by 4) that some bot flew through, and the share of
// the live ships' ticks that ended against an asteroid.
func battleBots(n int, seconds int) (*sim.World, map[[2]int]bool, float64) {
	w := sim.NewSceneWorld(3, sim.Battle())
	bots := make([]*arena.Bot, n)
	for i := range bots {
		w.AddShip(uint32(i + 1))
		bots[i] = arena.NewBot("bot", 0, nil, uint64(100+i))
	}
	screens := map[[2]int]bool{}
	live, against := 0, 0
	for range seconds * sim.TickRate {
		for i := range w.Ships {
			w.SetInput(w.Ships[i].ID, bots[i].Steer(botView(w, i)))
		}
		w.Step()
		for _, s := range w.Ships {
			if !s.Alive {
				continue
			}
			live++
			screens[[2]int{int(s.X / sim.Width), int(s.Y / sim.Height)}] = true
			for _, a := range w.Asteroids {
				if math.Hypot(s.X-a.X, s.Y-a.Y) < a.Radius+sim.ShipRadius+0.5 {
					against++
					break
				}
			}
		}
	}
	return w, screens, float64(against) / float64(max(live, 1))
}

// TestBotsRoamTheBattle: bots in the big world spread over it instead of
// flocking, break asteroids, and play the same game given the same
// seeds.
func TestBotsRoamTheBattle(t *testing.T) {
	const n, seconds = 8, 60
	w, screens, against := battleBots(n, seconds)
	rocks, kills := 0, 0
	for _, s := range w.Ships {
		rocks += s.AsteroidScore
		kills += s.Score
	}
	sum, pairs := 0.0, 0
	for i := range w.Ships {
		for j := i + 1; j < len(w.Ships); j++ {
			sum += math.Hypot(w.Ships[i].X-w.Ships[j].X, w.Ships[i].Y-w.Ships[j].Y)
			pairs++
		}
	}
	t.Logf("%d bots, %d s: %d of 16 screens visited, %d asteroids destroyed, %d kills, mean distance apart %.0f, %.2f%% of the time against an asteroid",
		n, seconds, len(screens), rocks, kills, sum/float64(pairs), 100*against)
	assert.GreaterOrEqual(t, len(screens), 10, "the bots roam the world")
	assert.Greater(t, sum/float64(pairs), sim.Width, "the bots spread out")
	assert.Positive(t, rocks, "the bots break asteroids")

	assert.Less(t, against, 0.02, "the bots keep out of the asteroids")
	again, _, _ := battleBots(n, seconds)
	for i := range w.Ships {
		assert.Equal(t, w.Ships[i], again.Ships[i], "deterministic")
	}
}
