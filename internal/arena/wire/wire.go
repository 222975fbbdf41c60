// Package wire is the arena game's message format, carried in mpgameserver
// messages. Clients send Hello and Input; the server sends Welcome (the
// player's id and the scene) and Event (guaranteed: joins, leaves, kills).
// The world itself reaches clients through package replicate, on the
// schema Schema makes, with the player's own ship and input ack in each
// snapshot's data (Own). On connecting, a client also sends Identify (the
// game it plays and the protocol Version) and the server answers with
// Identity, so that a client learns it reached an arena server of its
// version rather than a server of another game. Every message starts with
// its Kind. Decoders reject malformed input with an error and never
// allocate in proportion to an unchecked count.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/predict"
)

// Kind is a message's first byte.
type Kind uint8

// Message kinds.
const (
	KindHello    Kind = 1
	KindInput    Kind = 2
	KindIdentify Kind = 3 // client to server: the game and version it plays
	KindResync   Kind = 4 // client to server: its receiver lacks a baseline
	KindWelcome  Kind = 16
	KindEvent    Kind = 18 // (17 was the snapshot of version 1)
	KindIdentity Kind = 19 // server to client: the game and version it hosts
	KindLaser    Kind = 20 // server to client: a laser shot as judged
)

// The arena's identification: what Identify and Identity carry.
const (
	// GameID names the arena game.
	GameID = "arena"
	// Version is the arena protocol's version. Version 1 added Identify
	// and Identity; a server that does not answer Identify is older (or
	// hosts another game). Version 2 replicates the world (package
	// replicate) and names the scene in the Welcome. Version 3 sends
	// inputs as package predict's batches, with the time each input's
	// screen showed, adds the laser (its cooldown in Own, its verdicts in
	// Laser messages).
	Version = 3
	// MaxGameID bounds a game id's length in bytes.
	MaxGameID = 32
)

// Limits.
const (
	MaxName = 16
	Colors  = 12 // size of the palette players pick from
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("wire: malformed message")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// KindOf returns the kind of an encoded message.
func KindOf(msg []byte) (Kind, error) {
	if len(msg) == 0 {
		return 0, malformed("empty")
	}
	return Kind(msg[0]), nil
}

// Hello introduces a player: its name (cleaned by CleanName on both ends)
// and color. A client sends one when welcomed; the arena server announces
// a Hello to every player as a Join event only when it changes the
// player's name or color, and at a limited rate.
type Hello struct {
	Name  string
	Color uint8
}

// Ident is a game id and a protocol version: a client's Identify, a
// server's Identity. The two differ in their kind only, so that a server
// that echoes messages back (mpgameserver serve --game echo) is never taken
// for an arena server.
type Ident struct {
	Game    string
	Version uint16
}

// Input is the buttons held for one tick, numbered so the server can tell
// the client which inputs it applied, with the server time the client's
// screen showed (for the laser's lag compensation).
type Input = predict.Input[sim.Input]

// MaxInputs is the most inputs one Input message carries: the newest and
// the ones before it, so that a lost datagram loses no input.
const MaxInputs = 8

// Welcome tells a client its ship id, the server's tick and the scene
// (sim.SceneByName).
type Welcome struct {
	ID    uint32
	Tick  uint32
	Scene string
}

// MaxScene bounds a scene name's length.
const MaxScene = 16

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventJoin  EventKind = 1
	EventLeave EventKind = 2
	EventKill  EventKind = 3
)

// Event is something every client must hear about: a player's Join (its
// first Hello, or one that changed its name or color), Leave, or a Kill.
type Event struct {
	Kind  EventKind
	ID    uint32 // the player who joined or left, or the victim
	Other uint32 // the killer
	Name  string // Join
	Color uint8  // Join
	X, Y  float64
}

// Event positions go to 1/8 of a unit, from 0 to 8,191.875: the
// largest scene fits.
const eventScale = 8

func qPos(v float64) uint16 {
	return uint16(math.Max(0, math.Min(math.MaxUint16, math.Round(v*eventScale))))
}

func dqPos(u uint16) float64 { return float64(u) / eventScale }

// QuantizePos rounds a position the way an Event carries it.
func QuantizePos(v float64) float64 { return dqPos(qPos(v)) }

// AppendHello encodes a Hello. The name is cleaned (CleanName); the
// color is taken modulo Colors.
func AppendHello(b []byte, h Hello) []byte {
	name := CleanName(h.Name)
	b = append(b, byte(KindHello), h.Color%Colors, byte(len(name)))
	return append(b, name...)
}

// CleanName makes a player's name safe to print as one word of a log
// line (JOIN <name>) and to show to other players:
//   - every run of spaces of any kind (unicode.IsSpace, category Z: tab,
//     newline, no-break, en and em spaces, ideographic space...; and the
//     blank braille pattern, which looks like one) becomes a single '_',
//     and the spaces at either end are dropped, so a name never holds a
//     space;
//   - control characters (Cc), format characters (Cf: the bidirectional
//     overrides, embeddings and isolates U+202A-U+202E and U+2066-U+2069,
//     the zero-width spaces and joiners U+200B-U+200F, U+FEFF...), the
//     other default-ignorable code points (Hangul fillers, variation
//     selectors...), whatever else is not printable (private use,
//     unassigned), U+FFFD and invalid UTF-8 are dropped;
//   - the result is cut to MaxName bytes of whole runes.
//
// It returns "" when nothing is left: the server then calls the player by
// its default name (player1, player2...). Cleaning a clean name changes
// nothing.
func CleanName(s string) string {
	out := make([]byte, 0, MaxName)
	space := false // spaces since the last rune kept
	for _, r := range s {
		switch {
		case isSpace(r):
			space = true
			continue
		case !nameRune(r):
			continue
		}
		n := utf8.RuneLen(r)
		if space && len(out) > 0 {
			n++ // the '_' before it
		}
		if len(out)+n > MaxName {
			break
		}
		if space && len(out) > 0 {
			out = append(out, '_')
		}
		space = false
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// isSpace reports whether r is a space of any kind, or looks like one.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Z) || r == '\u2800'
}

// nameRune reports whether a name keeps r: printable (not a control, a
// format character, private use or unassigned), visible (not default
// ignorable) and valid.
func nameRune(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r) &&
		!unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// clean keeps the runes of s that are not controls (a game id's), at most
// limit bytes.
func clean(s string, limit int) string {
	out := make([]byte, 0, limit)
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		if len(out)+utf8.RuneLen(r) > limit {
			break
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// ParseHello decodes a Hello.
func ParseHello(m []byte) (Hello, error) {
	if len(m) < 3 || Kind(m[0]) != KindHello {
		return Hello{}, malformed("hello of %d bytes", len(m))
	}
	n := int(m[2])
	if n > MaxName || len(m) != 3+n || !utf8.Valid(m[3:]) {
		return Hello{}, malformed("hello name")
	}
	if m[1] >= Colors {
		return Hello{}, malformed("color %d", m[1])
	}
	return Hello{Name: string(m[3:]), Color: m[1]}, nil
}

// AppendIdentify encodes a client's Identify: the kind, the version
// (2 bytes), the game id's length and the game id (cut to MaxGameID bytes).
func AppendIdentify(b []byte, id Ident) []byte { return appendIdent(b, KindIdentify, id) }

// AppendIdentity encodes a server's Identity, laid out as Identify.
func AppendIdentity(b []byte, id Ident) []byte { return appendIdent(b, KindIdentity, id) }

// ParseIdentify decodes an Identify.
func ParseIdentify(m []byte) (Ident, error) { return parseIdent(m, KindIdentify) }

// ParseIdentity decodes an Identity; an echoed Identify is refused.
func ParseIdentity(m []byte) (Ident, error) { return parseIdent(m, KindIdentity) }

func appendIdent(b []byte, k Kind, id Ident) []byte {
	game := clean(id.Game, MaxGameID)
	b = append(b, byte(k))
	b = binary.BigEndian.AppendUint16(b, id.Version)
	b = append(b, byte(len(game)))
	return append(b, game...)
}

func parseIdent(m []byte, k Kind) (Ident, error) {
	if len(m) < 4 || Kind(m[0]) != k {
		return Ident{}, malformed("ident of %d bytes", len(m))
	}
	n := int(m[3])
	if n > MaxGameID || len(m) != 4+n || !utf8.Valid(m[4:]) || clean(string(m[4:]), MaxGameID) != string(m[4:]) {
		return Ident{}, malformed("ident game id")
	}
	return Ident{Game: string(m[4:]), Version: binary.BigEndian.Uint16(m[1:])}, nil
}

// InputCodec writes an input's buttons as one byte, and refuses a byte
// with a bit that is no button.
var InputCodec = predict.Codec[sim.Input]{
	Append: func(b []byte, in sim.Input) []byte { return append(b, byte(in)) },
	Parse: func(b []byte) (sim.Input, int, error) {
		if len(b) < 1 {
			return 0, 0, malformed("no buttons")
		}
		if b[0]&^byte(sim.Buttons) != 0 {
			return 0, 0, malformed("buttons %#x", b[0])
		}
		return sim.Input(b[0]), 1, nil
	},
}

// AppendInputs encodes consecutive inputs, oldest first (at most
// MaxInputs; extra older ones are left out): the kind, then the inputs as
// a predict batch (predict.AppendBatch) with one button byte each.
func AppendInputs(b []byte, ins []Input) []byte {
	if len(ins) > MaxInputs {
		ins = ins[len(ins)-MaxInputs:]
	}
	b = append(b, byte(KindInput))
	return predict.AppendBatch(b, ins, InputCodec)
}

// AppendInput encodes a single input.
func AppendInput(b []byte, in Input) []byte { return AppendInputs(b, []Input{in}) }

// ParseInputs decodes an Input message into dst (reused): consecutive
// inputs ending at the newest seq, oldest first.
func ParseInputs(dst []Input, m []byte) ([]Input, error) {
	if len(m) < 1 || Kind(m[0]) != KindInput {
		return dst[:0], malformed("input of %d bytes", len(m))
	}
	ins, err := predict.ParseBatch(dst, m[1:], InputCodec)
	if err != nil {
		return dst[:0], fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(ins) > MaxInputs {
		return dst[:0], malformed("%d inputs", len(ins))
	}
	return ins, nil
}

// ParseInput decodes a message carrying exactly one input.
func ParseInput(m []byte) (Input, error) {
	ins, err := ParseInputs(nil, m)
	if err != nil {
		return Input{}, err
	}
	if len(ins) != 1 {
		return Input{}, malformed("%d inputs, want 1", len(ins))
	}
	return ins[0], nil
}

// Laser is the server's verdict on a laser shot, sent to the shooter
// (guaranteed) and to the players who may see the beam.
type Laser struct {
	Shooter uint32
	// Seq is the shooter's input that fired it.
	Seq uint32
	// X, Y and Angle are where the beam starts and its direction, Length
	// how far it reached (to the ship it hit, an asteroid, a wall or its
	// range).
	X, Y, Angle, Length float64
	// Victim is the ship it hit (0: none).
	Victim uint32
	// Rewind is how far back the server judged it (lag compensation;
	// 0 without), to the millisecond, at most 65.535 s; Capped reports
	// that the shooter's view was older than the server rewinds.
	Rewind time.Duration
	Capped bool
}

// maxLaserAngle bounds a Laser's angle: π and a little (what a float32
// makes of it); an angle beyond is sent the short way round.
const maxLaserAngle = 3.2

// LaserSize is an encoded Laser's size.
const LaserSize = 1 + 4 + 4 + 2 + 2 + 4 + 2 + 4 + 2 + 1

// AppendLaser encodes a Laser.
func AppendLaser(b []byte, l Laser) []byte {
	b = append(b, byte(KindLaser))
	b = binary.BigEndian.AppendUint32(b, l.Shooter)
	b = binary.BigEndian.AppendUint32(b, l.Seq)
	b = binary.BigEndian.AppendUint16(b, qPos(l.X))
	b = binary.BigEndian.AppendUint16(b, qPos(l.Y))
	angle := l.Angle
	if math.Abs(angle) > maxLaserAngle {
		angle = math.Remainder(angle, 2*math.Pi)
	}
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(angle)))
	b = binary.BigEndian.AppendUint16(b, qPos(l.Length))
	b = binary.BigEndian.AppendUint32(b, l.Victim)
	b = binary.BigEndian.AppendUint16(b, uint16(min(max(l.Rewind.Milliseconds(), 0), math.MaxUint16)))
	var f byte
	if l.Capped {
		f |= 1
	}
	return append(b, f)
}

// ParseLaser decodes a Laser.
func ParseLaser(m []byte) (Laser, error) {
	if len(m) != LaserSize || Kind(m[0]) != KindLaser {
		return Laser{}, malformed("laser of %d bytes", len(m))
	}
	angle := float64(math.Float32frombits(binary.BigEndian.Uint32(m[13:])))
	if math.IsNaN(angle) || math.Abs(angle) > maxLaserAngle {
		return Laser{}, malformed("laser angle %v", angle)
	}
	if m[25]&^1 != 0 {
		return Laser{}, malformed("laser flags %#x", m[25])
	}
	return Laser{
		Shooter: binary.BigEndian.Uint32(m[1:]), Seq: binary.BigEndian.Uint32(m[5:]),
		X: dqPos(binary.BigEndian.Uint16(m[9:])), Y: dqPos(binary.BigEndian.Uint16(m[11:])), Angle: angle,
		Length: dqPos(binary.BigEndian.Uint16(m[17:])), Victim: binary.BigEndian.Uint32(m[19:]),
		Rewind: time.Duration(binary.BigEndian.Uint16(m[23:])) * time.Millisecond, Capped: m[25]&1 != 0,
	}, nil
}

// AppendResync encodes a Resync: the client's receiver lacks a state a
// snapshot builds on (replicate.ErrNoBaseline) and asks for the world
// whole again.
func AppendResync(b []byte) []byte { return append(b, byte(KindResync)) }

// ParseResync checks a Resync.
func ParseResync(m []byte) error {
	if len(m) != 1 || Kind(m[0]) != KindResync {
		return malformed("resync of %d bytes", len(m))
	}
	return nil
}

// AppendWelcome encodes a Welcome.
func AppendWelcome(b []byte, w Welcome) []byte {
	b = append(b, byte(KindWelcome))
	b = binary.BigEndian.AppendUint32(b, w.ID)
	b = binary.BigEndian.AppendUint32(b, w.Tick)
	scene := w.Scene[:min(len(w.Scene), MaxScene)]
	b = append(b, byte(len(scene)))
	return append(b, scene...)
}

// ParseWelcome decodes a Welcome.
func ParseWelcome(m []byte) (Welcome, error) {
	if len(m) < 10 || Kind(m[0]) != KindWelcome {
		return Welcome{}, malformed("welcome of %d bytes", len(m))
	}
	n := int(m[9])
	if n > MaxScene || len(m) != 10+n || !utf8.Valid(m[10:]) {
		return Welcome{}, malformed("welcome scene")
	}
	return Welcome{ID: binary.BigEndian.Uint32(m[1:]), Tick: binary.BigEndian.Uint32(m[5:]), Scene: string(m[10:])}, nil
}

// AppendEvent encodes an Event.
func AppendEvent(b []byte, e Event) []byte {
	name := CleanName(e.Name)
	b = append(b, byte(KindEvent), byte(e.Kind))
	b = binary.BigEndian.AppendUint32(b, e.ID)
	b = binary.BigEndian.AppendUint32(b, e.Other)
	b = binary.BigEndian.AppendUint16(b, qPos(e.X))
	b = binary.BigEndian.AppendUint16(b, qPos(e.Y))
	b = append(b, e.Color%Colors, byte(len(name)))
	return append(b, name...)
}

// ParseEvent decodes an Event.
func ParseEvent(m []byte) (Event, error) {
	const head = 1 + 1 + 4 + 4 + 2 + 2 + 1 + 1
	if len(m) < head || Kind(m[0]) != KindEvent {
		return Event{}, malformed("event of %d bytes", len(m))
	}
	e := Event{
		Kind: EventKind(m[1]), ID: binary.BigEndian.Uint32(m[2:]), Other: binary.BigEndian.Uint32(m[6:]),
		X: dqPos(binary.BigEndian.Uint16(m[10:])), Y: dqPos(binary.BigEndian.Uint16(m[12:])), Color: m[14],
	}
	n := int(m[15])
	switch {
	case e.Kind < EventJoin || e.Kind > EventKill:
		return Event{}, malformed("event kind %d", e.Kind)
	case n > MaxName || len(m) != head+n || !utf8.Valid(m[head:]):
		return Event{}, malformed("event name")
	case e.Color >= Colors:
		return Event{}, malformed("color %d", e.Color)
	}
	e.Name = string(m[head:])
	return e, nil
}
