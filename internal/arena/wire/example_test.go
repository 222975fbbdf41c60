package wire_test

import (
	"fmt"
	"log"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// A message is built with an Append function and read back with the
// matching Parse function; KindOf tells which one a received message
// needs.
func Example() {
	msg := wire.AppendHello(nil, wire.Hello{Name: "ann", Color: 3})
	kind, _ := wire.KindOf(msg)
	fmt.Println(kind == wire.KindHello, len(msg), "bytes")
	h, err := wire.ParseHello(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", h)

	_, err = wire.ParseHello(msg[:len(msg)-1])
	fmt.Println(err)
	// Output:
	// true 6 bytes
	// {Name:ann Color:3}
	// wire: malformed message: hello name
}

// An Input message repeats the last few inputs, so one lost datagram
// loses no input; the server keeps the ones it has not seen yet.
func ExampleAppendInputs() {
	sent := []wire.Input{
		{Seq: 41, Buttons: sim.Thrust},
		{Seq: 42, Buttons: sim.Thrust | sim.Left},
		{Seq: 43, Buttons: sim.Fire},
	}
	msg := wire.AppendInputs(nil, sent)
	got, err := wire.ParseInputs(nil, msg)
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range got {
		fmt.Println(in.Seq, in.Buttons == sent[in.Seq-41].Buttons)
	}
	// Output:
	// 41 true
	// 42 true
	// 43 true
}

// A snapshot carries the world at a tick; positions and velocities arrive
// quantized to 1/20 of a unit (Quantize tells how), angles to 1/10000 of a
// radian.
func ExampleParseSnapshot() {
	ship := sim.Ship{ID: 7, X: 100.01, Y: 250.333, VX: 12.345, Angle: 1.5, Alive: true, Score: 2}
	snap := &wire.Snapshot{Tick: 600, Ack: 41, Ships: []wire.ShipState{wire.ShipStateOf(&ship)}}
	snap.Bullets = append(snap.Bullets, wire.BulletState{ID: 1, Owner: 7, X: 130, Y: 250, VX: 760})
	msg := wire.AppendSnapshot(nil, snap)

	var got wire.Snapshot
	if err := wire.ParseSnapshot(&got, msg); err != nil {
		log.Fatal(err)
	}
	s := got.Ships[0]
	fmt.Println("tick", got.Tick, "ack", got.Ack, "in", len(msg), "bytes")
	fmt.Println("ship", s.ID, "alive", s.Flags&wire.FlagAlive != 0, "score", s.Score)
	fmt.Println("x", ship.X, "->", s.X, "y", ship.Y, "->", s.Y, "vx", ship.VX, "->", s.VX)
	fmt.Println(s.Y == wire.Quantize(ship.Y), s.Angle == wire.QuantizeAngle(ship.Angle))
	fmt.Printf("%+v\n", got.Bullets[0])
	// Output:
	// tick 600 ack 41 in 45 bytes
	// ship 7 alive true score 2
	// x 100.01 -> 100 y 250.333 -> 250.35 vx 12.345 -> 12.35
	// true true
	// {ID:1 Owner:7 X:130 Y:250 VX:760 VY:0}
}

// Events (joins, leaves, kills) go to every player, guaranteed.
func ExampleParseEvent() {
	msg := wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 9, Other: 7, X: 812.5, Y: 400})
	e, err := wire.ParseEvent(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Kind == wire.EventKill, "victim", e.ID, "killer", e.Other, "at", e.X, e.Y)
	// Output:
	// true victim 9 killer 7 at 812.5 400
}
