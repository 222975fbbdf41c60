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
		{Seq: 41, In: sim.Thrust},
		{Seq: 42, In: sim.Thrust | sim.Left},
		{Seq: 43, In: sim.Fire},
	}
	msg := wire.AppendInputs(nil, sent)
	got, err := wire.ParseInputs(nil, msg)
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range got {
		fmt.Println(in.Seq, in.In == sent[in.Seq-41].In)
	}
	// Output:
	// 41 true
	// 42 true
	// 43 true
}

// The Welcome names the scene, which tells the client the size of the
// world and so the Schema of its replicated kinds.
func ExampleParseWelcome() {
	msg := wire.AppendWelcome(nil, wire.Welcome{ID: 7, Tick: 600, Scene: sim.Battle().Name})
	w, err := wire.ParseWelcome(msg)
	if err != nil {
		log.Fatal(err)
	}
	sc, ok := sim.SceneByName(w.Scene)
	fmt.Println("ship", w.ID, "tick", w.Tick, "scene", w.Scene, ok, sc.Width, "by", sc.Height)
	schema := wire.Schema(sc)
	fmt.Println(schema.Kind(wire.KindShip).Name, schema.Kind(wire.KindAsteroid).Fields[wire.AsteroidHP].Name)
	// Output:
	// ship 7 tick 600 scene battle true 6400 by 4000
	// ship hp
}

// Every snapshot of the world carries the player's own ship at full
// precision, and the last input the server applied, as its data.
func ExampleOwnOf() {
	ship := sim.Ship{ID: 7, X: 100.01, Y: 250.333, VX: 12.345, Angle: 1.5, Alive: true, Shield: 30}
	data := wire.AppendOwn(nil, wire.OwnOf(&ship, 41))
	own, err := wire.ParseOwn(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(data), "bytes, ack", own.Ack, "alive", own.Alive, "shield", own.Shield)
	fmt.Printf("x %.3f y %.3f vx %.3f angle %v\n", own.X, own.Y, own.VX, own.Angle)
	fmt.Println(own.X == float64(float32(ship.X)))
	// Output:
	// 26 bytes, ack 41 alive true shield true
	// x 100.010 y 250.333 vx 12.345 angle 1.5
	// true
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
