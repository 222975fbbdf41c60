package wire_test

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/replicate"
)

func TestOwnRoundTrip(t *testing.T) {
	require.LessOrEqual(t, wire.OwnSize, replicate.MaxData, "an Own fits a snapshot's data")
	for _, o := range []wire.Own{
		{},
		{Ack: 1, X: 100, Y: 200, VX: 3.5, VY: -4.25, Angle: 1, Alive: true},
		{Ack: math.MaxUint32, X: 6400, Y: 4000, VX: -sim.MaxSpeed, VY: sim.MaxSpeed, Angle: -math.Pi, Alive: true, Shield: true},
		{Ack: 0x01020304, X: 0.1, Y: 1.0 / 3, VX: 1e-3, VY: -1e-7, Angle: math.Pi, Shield: true, LaserCool: sim.LaserCooldown},
		{Ack: 9, LaserCool: 1},
		{X: 1e6, Y: -1e6, VX: 999999.9, VY: -0.0, Angle: 123.456},
	} {
		m := wire.AppendOwn(nil, o)
		require.Len(t, m, wire.OwnSize)
		got, err := wire.ParseOwn(m)
		require.NoError(t, err)
		// Values go as float32.
		want := o
		for _, v := range []*float64{&want.X, &want.Y, &want.VX, &want.VY, &want.Angle} {
			*v = float64(float32(*v))
		}
		require.Equal(t, want, got)
		for _, v := range [][2]float64{{o.X, got.X}, {o.Y, got.Y}, {o.VX, got.VX}, {o.VY, got.VY}, {o.Angle, got.Angle}} {
			require.InDelta(t, v[0], v[1], math.Abs(v[0])*1e-7+1e-30)
		}
		// Once a float32, a value goes through unchanged.
		require.Equal(t, m, wire.AppendOwn(nil, got))
	}
	// The flags.
	for _, tc := range []struct {
		alive, shield bool
		flags         byte
	}{{false, false, 0}, {true, false, 1}, {false, true, 2}, {true, true, 3}} {
		m := wire.AppendOwn(nil, wire.Own{Alive: tc.alive, Shield: tc.shield})
		require.Equal(t, tc.flags, m[wire.OwnSize-2])
		got, err := wire.ParseOwn(m)
		require.NoError(t, err)
		require.Equal(t, wire.Own{Alive: tc.alive, Shield: tc.shield}, got)
	}
	// Appending keeps what was there.
	o := wire.Own{Ack: 9, X: 1, Alive: true}
	m := wire.AppendOwn([]byte("xy"), o)
	assert.Equal(t, "xy", string(m[:2]))
	got, err := wire.ParseOwn(m[2:])
	require.NoError(t, err)
	assert.Equal(t, o, got)
	// Parsing does not allocate.
	m = m[2:]
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := wire.ParseOwn(m); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestParseOwnMalformed(t *testing.T) {
	good := wire.AppendOwn(nil, wire.Own{Ack: 5, X: 10, Y: 20, VX: 1, VY: 2, Angle: 0.5, Alive: true})
	_, err := wire.ParseOwn(good)
	require.NoError(t, err)
	// Any other size.
	for n := range 2 * wire.OwnSize {
		if n == wire.OwnSize {
			continue
		}
		m := make([]byte, n)
		copy(m, good)
		_, err := wire.ParseOwn(m)
		require.ErrorIs(t, err, wire.ErrMalformed, "%d bytes", n)
	}
	_, err = wire.ParseOwn(nil)
	require.ErrorIs(t, err, wire.ErrMalformed)
	// A value that is not finite, or beyond 1e6, in any of the five.
	for _, bits := range []uint32{
		math.Float32bits(float32(math.NaN())), 0x7fc00001, 0xffffffff, // NaNs
		math.Float32bits(float32(math.Inf(1))), math.Float32bits(float32(math.Inf(-1))),
		math.Float32bits(1.0000001e6), math.Float32bits(-1.0000001e6), math.Float32bits(1e7),
		math.Float32bits(math.MaxFloat32), math.Float32bits(-math.MaxFloat32),
	} {
		for i := range 5 {
			m := append([]byte(nil), good...)
			binary.BigEndian.PutUint32(m[4+4*i:], bits)
			_, err := wire.ParseOwn(m)
			require.ErrorIs(t, err, wire.ErrMalformed, "value %d: %#x", i, bits)
		}
	}
	// 1e6 itself and small values pass.
	for _, v := range []float32{1e6, -1e6, 0, -0, math.SmallestNonzeroFloat32} {
		for i := range 5 {
			m := append([]byte(nil), good...)
			binary.BigEndian.PutUint32(m[4+4*i:], math.Float32bits(v))
			_, err := wire.ParseOwn(m)
			require.NoError(t, err, "value %d: %v", i, v)
		}
	}
	// Unknown flags are ignored.
	m := append([]byte(nil), good...)
	m[wire.OwnSize-2] = 0xfe
	got, err := wire.ParseOwn(m)
	require.NoError(t, err)
	assert.False(t, got.Alive)
	assert.True(t, got.Shield)
	// A laser cooldown longer than the laser's is refused.
	m[wire.OwnSize-1] = sim.LaserCooldown + 1
	_, err = wire.ParseOwn(m)
	require.ErrorIs(t, err, wire.ErrMalformed)
}

func TestOwnOf(t *testing.T) {
	base := sim.Ship{ID: 42, X: 1.5, Y: 2.25, VX: 3, VY: -4, Angle: 0.5, Score: 7, Deaths: 8, Cooldown: 3, Input: allBtns}
	for _, tc := range []struct {
		name          string
		edit          func(*sim.Ship)
		alive, shield bool
	}{
		{"dead", func(*sim.Ship) {}, false, false},
		{"dead respawning", func(s *sim.Ship) { s.RespawnIn = 30 }, false, false},
		{"alive", func(s *sim.Ship) { s.Alive = true }, true, false},
		{"shielded", func(s *sim.Ship) { s.Alive, s.Shield = true, sim.ShieldTicks }, true, true},
		{"shield's last tick", func(s *sim.Ship) { s.Alive, s.Shield = true, 1 }, true, true},
		{"no shield left", func(s *sim.Ship) { s.Alive, s.Shield = true, 0 }, true, false},
		{"negative shield", func(s *sim.Ship) { s.Alive, s.Shield = true, -1 }, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			before := s
			for _, ack := range []uint32{0, 77, math.MaxUint32} {
				got := wire.OwnOf(&s, ack)
				assert.Equal(t, wire.Own{Ack: ack, X: 1.5, Y: 2.25, VX: 3, VY: -4, Angle: 0.5, Alive: tc.alive, Shield: tc.shield}, got)
			}
			assert.Equal(t, before, s, "the ship is left alone")
		})
	}
	// A played ship goes through the wire within float32's precision.
	w := sim.NewWorld(3)
	w.AddShip(1)
	w.SetInput(1, sim.Thrust|sim.Left)
	for range 100 {
		w.Step()
	}
	s := &w.Ships[0]
	got, err := wire.ParseOwn(wire.AppendOwn(nil, wire.OwnOf(s, 100)))
	require.NoError(t, err)
	assert.Equal(t, uint32(100), got.Ack)
	assert.Equal(t, s.Alive, got.Alive)
	assert.Equal(t, s.Shield > 0, got.Shield)
	assert.InDelta(t, s.X, got.X, 1e-3)
	assert.InDelta(t, s.Y, got.Y, 1e-3)
	assert.InDelta(t, s.VX, got.VX, 1e-4)
	assert.InDelta(t, s.VY, got.VY, 1e-4)
	assert.InDelta(t, s.Angle, got.Angle, 1e-6)
}

// fieldNames are the field indexes of every replicated kind by name.
var fieldNames = map[int]map[string]int{
	wire.KindShip: {
		"x": wire.FX, "y": wire.FY, "vx": wire.FVX, "vy": wire.FVY,
		"angle": wire.ShipAngle, "alive": wire.ShipAlive, "shield": wire.ShipShield,
		"thrust": wire.ShipThrust, "player": wire.ShipPlayer,
	},
	wire.KindBullet: {
		"x": wire.FX, "y": wire.FY, "vx": wire.FVX, "vy": wire.FVY, "owner": wire.BulletOwner,
	},
	wire.KindAsteroid: {
		"x": wire.FX, "y": wire.FY, "vx": wire.FVX, "vy": wire.FVY,
		"radius": wire.AsteroidRadius, "hp": wire.AsteroidHP, "maxhp": wire.AsteroidMaxHP,
		"spin": wire.AsteroidSpin, "phase": wire.AsteroidPhase,
	},
	wire.KindPlayer: {
		"x": wire.PlayerX, "y": wire.PlayerY, "vx": wire.PlayerVX, "vy": wire.PlayerVY,
		"id": wire.PlayerID, "score": wire.PlayerScore, "deaths": wire.PlayerDeaths,
		"rocks": wire.PlayerRocks, "alive": wire.PlayerAlive,
	},
}

// TestSchema: the schema of every scene builds, its kinds and fields are
// where the constants say, and its ranges hold what the game makes.
func TestSchema(t *testing.T) {
	kindNames := map[int]string{
		wire.KindShip: "ship", wire.KindBullet: "bullet", wire.KindAsteroid: "asteroid", wire.KindPlayer: "player",
	}
	scenes := append([]sim.Scene{sim.Classic(), sim.Battle()}, sim.Scenes()...)
	for _, sc := range scenes {
		t.Run(sc.Name, func(t *testing.T) {
			var s *replicate.Schema
			require.NotPanics(t, func() { s = wire.Schema(sc) })
			require.Equal(t, len(kindNames), s.Kinds())
			for k := range s.Kinds() {
				kd := s.Kind(k)
				require.Equal(t, kindNames[k], kd.Name, "kind %d", k)
				names := fieldNames[k]
				require.Len(t, kd.Fields, len(names), "every field of %s has its constant", kd.Name)
				for name, f := range names {
					require.Equal(t, f, s.Field(k, name), "%s.%s", kd.Name, name)
					require.Equal(t, name, kd.Fields[f].Name)
				}
				require.Equal(t, -1, s.Field(k, "nonesuch"))
				// Every kind has a place, at the same fields.
				require.Equal(t, [2]string{"x", "y"}, kd.Position, kd.Name)
				require.Equal(t, [2]string{"vx", "vy"}, kd.Velocity, kd.Name)
				for _, f := range []int{wire.FX, wire.FY, wire.FVX, wire.FVY} {
					require.Equal(t, replicate.TypeFloat, kd.Fields[f].Type, "%s field %d", kd.Name, f)
				}
				// The whole scene, and nothing beyond it.
				x, y := kd.Fields[wire.FX], kd.Fields[wire.FY]
				require.Equal(t, [2]float64{0, sc.Width}, [2]float64{x.Min, x.Max}, kd.Name)
				require.Equal(t, [2]float64{0, sc.Height}, [2]float64{y.Min, y.Max}, kd.Name)
				require.Equal(t, kd.Name == "player", kd.Global, kd.Name)
			}
			// The player fields share the place's indexes.
			assert.Equal(t, []int{wire.FX, wire.FY, wire.FVX, wire.FVY}, []int{wire.PlayerX, wire.PlayerY, wire.PlayerVX, wire.PlayerVY})

			// The ranges hold the game's values without clamping.
			ship, bullet, rock := s.Kind(wire.KindShip), s.Kind(wire.KindBullet), s.Kind(wire.KindAsteroid)
			assert.GreaterOrEqual(t, ship.Fields[wire.FVX].Max, float64(sim.MaxSpeed))
			assert.LessOrEqual(t, ship.Fields[wire.FVX].Min, -float64(sim.MaxSpeed))
			assert.GreaterOrEqual(t, bullet.Fields[wire.FVX].Max, float64(sim.BulletSpeed+sim.MaxSpeed))
			assert.GreaterOrEqual(t, rock.Fields[wire.FVX].Max, float64(sim.AsteroidMaxSpeed))
			assert.GreaterOrEqual(t, rock.Fields[wire.AsteroidRadius].Max, float64(sim.AsteroidMaxRadius))
			biggest := sim.Asteroid{Radius: sim.AsteroidMaxRadius}
			assert.GreaterOrEqual(t, rock.Fields[wire.AsteroidHP].Max, float64(biggest.MaxHP()))
			assert.GreaterOrEqual(t, rock.Fields[wire.AsteroidMaxHP].Max, float64(biggest.MaxHP()))
			assert.GreaterOrEqual(t, rock.Fields[wire.AsteroidSpin].Max, float64(sim.AsteroidMaxSpin))
			assert.LessOrEqual(t, rock.Fields[wire.AsteroidSpin].Min, -float64(sim.AsteroidMaxSpin))
			for _, f := range []struct {
				kind, field int
			}{{wire.KindShip, wire.ShipPlayer}, {wire.KindBullet, wire.BulletOwner}, {wire.KindPlayer, wire.PlayerID}} {
				fd := s.Kind(f.kind).Fields[f.field]
				assert.Equal(t, replicate.TypeInt, fd.Type)
				assert.GreaterOrEqual(t, fd.Max, float64(math.MaxUint32), "a player id fits %s.%s", s.Kind(f.kind).Name, fd.Name)
			}
			for _, f := range []int{wire.ShipAlive, wire.ShipShield, wire.ShipThrust} {
				assert.Equal(t, replicate.TypeBool, ship.Fields[f].Type, ship.Fields[f].Name)
			}
			assert.Equal(t, replicate.TypeAngle, ship.Fields[wire.ShipAngle].Type)
			assert.Equal(t, replicate.TypeAngle, rock.Fields[wire.AsteroidPhase].Type)
		})
	}
	// Both ends make the same schema from the scene's name.
	for _, sc := range sim.Scenes() {
		named, ok := sim.SceneByName(sc.Name)
		require.True(t, ok)
		a, b := wire.Schema(sc), wire.Schema(named)
		for k := range a.Kinds() {
			assert.Equal(t, a.Kind(k).Fields, b.Kind(k).Fields)
		}
	}
	// A bigger scene reaches further.
	assert.Equal(t, float64(sim.Width), wire.Schema(sim.Classic()).Kind(wire.KindShip).Fields[wire.FX].Max)
	assert.Equal(t, 6400.0, wire.Schema(sim.Battle()).Kind(wire.KindShip).Fields[wire.FX].Max)
}

// loopback hands snapshots straight to a receiver and acknowledges them,
// as a connection would.
type loopback struct {
	rx   *replicate.Receiver
	now  time.Time
	sent int
	err  error
}

func (l *loopback) Send(p []byte, _ conn.RetryMode, ack func(bool)) error {
	l.sent++
	if ok, err := l.rx.Handle(l.now, p); !ok || err != nil {
		if l.err == nil {
			l.err = err
			if !ok {
				l.err = wire.ErrMalformed // not a snapshot
			}
		}
	}
	ack(true)
	return nil
}

// TestReplicateWorld sends a ship and an asteroid of the battle scene from
// a replicator to a receiver, with the player's Own as the snapshot data.
func TestReplicateWorld(t *testing.T) {
	battle := sim.Battle()
	schema := wire.Schema(battle)
	srv := replicate.New(schema, replicate.Config{})
	defer srv.Close()

	// A ship drifting along its velocity, far into the battle scene.
	const shipX, shipY, shipVX, shipVY = 5000.0, 3000.0, 120.0, -60.0
	ship, err := srv.Spawn(wire.KindShip)
	require.NoError(t, err)
	srv.Set(ship, wire.FVX, shipVX)
	srv.Set(ship, wire.FVY, shipVY)
	srv.Set(ship, wire.ShipAngle, 1.25)
	srv.SetBool(ship, wire.ShipAlive, true)
	srv.SetBool(ship, wire.ShipShield, true)
	srv.SetBool(ship, wire.ShipThrust, false)
	srv.SetInt(ship, wire.ShipPlayer, math.MaxUint32-1)

	// An asteroid at rest nearby.
	rock, err := srv.Spawn(wire.KindAsteroid)
	require.NoError(t, err)
	srv.Set(rock, wire.FX, 5200.5)
	srv.Set(rock, wire.FY, 3100.25)
	srv.SetInt(rock, wire.AsteroidRadius, 45)
	srv.SetInt(rock, wire.AsteroidHP, 2)
	srv.SetInt(rock, wire.AsteroidMaxHP, 4)
	srv.Set(rock, wire.AsteroidSpin, -0.25)
	srv.Set(rock, wire.AsteroidPhase, 2)

	entered := map[replicate.ID]int{}
	link := &loopback{rx: replicate.NewReceiver(schema, replicate.ReceiverConfig{
		OnEnter: func(e replicate.Entity) { entered[e.ID()] = e.Kind() },
	})}
	view := srv.Add(link)
	view.SetView(shipX, shipY, 800, 500)
	view.SetRelevant(ship, true)

	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var owns []wire.Own // by tick
	for tick := range 2 * sim.TickRate {
		elapsed := now.Sub(start).Seconds()
		srv.Set(ship, wire.FX, shipX+shipVX*elapsed)
		srv.Set(ship, wire.FY, shipY+shipVY*elapsed)
		own := wire.Own{Ack: uint32(tick), X: shipX + shipVX*elapsed, Y: shipY + shipVY*elapsed,
			VX: shipVX, VY: shipVY, Angle: 1.25, Alive: true, Shield: true}
		owns = append(owns, own)
		view.SetData(wire.AppendOwn(nil, own))
		link.now = now
		srv.Update(now)
		link.rx.Advance(now)
		now = now.Add(time.Second / sim.TickRate)
	}
	require.NoError(t, link.err)
	require.Positive(t, link.sent)
	require.Zero(t, link.rx.Stats().Errors)
	assert.Equal(t, map[replicate.ID]int{ship: wire.KindShip, rock: wire.KindAsteroid}, entered)
	assert.Equal(t, 2, link.rx.Len())

	// The ship, where its drift puts it at the render time.
	e, ok := link.rx.Entity(ship)
	require.True(t, ok)
	require.Equal(t, wire.KindShip, e.Kind())
	render := link.rx.RenderTime().Seconds()
	assert.InDelta(t, shipX+shipVX*render, e.Float(wire.FX), 0.5)
	assert.InDelta(t, shipY+shipVY*render, e.Float(wire.FY), 0.5)
	assert.Equal(t, shipVX, e.Float(wire.FVX))
	assert.Equal(t, shipVY, e.Float(wire.FVY))
	assert.InDelta(t, 1.25, e.Float(wire.ShipAngle), math.Pi/1024+1e-9)
	assert.InDelta(t, srv.Value(ship, wire.ShipAngle), e.Float(wire.ShipAngle), 1e-9)
	assert.True(t, e.Bool(wire.ShipAlive))
	assert.True(t, e.Bool(wire.ShipShield))
	assert.False(t, e.Bool(wire.ShipThrust))
	assert.Equal(t, int64(math.MaxUint32-1), e.Int(wire.ShipPlayer))

	// The asteroid, exactly.
	e, ok = link.rx.Entity(rock)
	require.True(t, ok)
	require.Equal(t, wire.KindAsteroid, e.Kind())
	assert.Equal(t, 5200.5, e.Float(wire.FX))
	assert.Equal(t, 3100.25, e.Float(wire.FY))
	assert.Zero(t, e.Float(wire.FVX))
	assert.Zero(t, e.Float(wire.FVY))
	assert.Equal(t, int64(45), e.Int(wire.AsteroidRadius))
	assert.Equal(t, int64(2), e.Int(wire.AsteroidHP))
	assert.Equal(t, int64(4), e.Int(wire.AsteroidMaxHP))
	assert.Equal(t, -0.25, e.Float(wire.AsteroidSpin))
	assert.InDelta(t, 2, e.Float(wire.AsteroidPhase), math.Pi/256+1e-9)
	assert.InDelta(t, srv.Value(rock, wire.AsteroidPhase), e.Float(wire.AsteroidPhase), 1e-9)

	// The player's own ship, at full precision, as it was when the newest
	// snapshot went: at most a heartbeat ago, as nothing else changed.
	got, err := wire.ParseOwn(link.rx.Data())
	require.NoError(t, err)
	last := len(owns) - 1
	require.LessOrEqual(t, got.Ack, uint32(last))
	require.GreaterOrEqual(t, got.Ack, uint32(last-int(replicate.DefaultHeartbeat*sim.TickRate/time.Second)))
	want := owns[got.Ack]
	for _, v := range []*float64{&want.X, &want.Y, &want.VX, &want.VY, &want.Angle} {
		*v = float64(float32(*v))
	}
	assert.Equal(t, want, got)

	// Destroyed, the asteroid leaves the client's world.
	srv.Destroy(rock)
	for range sim.TickRate {
		link.now = now
		srv.Update(now)
		link.rx.Advance(now)
		now = now.Add(time.Second / sim.TickRate)
	}
	require.NoError(t, link.err)
	_, ok = link.rx.Entity(rock)
	assert.False(t, ok, "destroyed")
	_, ok = link.rx.Entity(ship)
	assert.True(t, ok)
}
