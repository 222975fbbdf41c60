// Package wire is the arena game's message format, carried in mpgameserver
// messages. Clients send Hello and Input; the server sends Welcome,
// Snapshot (plain, 30 a second) and Event (guaranteed: joins, leaves,
// kills). On connecting, a client also sends Identify (the game it plays
// and the protocol Version) and the server answers with Identity, so that
// a client learns it reached an arena server of its version rather than a
// server of another game. Every message starts with its Kind. Positions and velocities are
// quantized to 1/20 of a world unit in int16, so a snapshot of 30 ships and
// 40 bullets fits one datagram. Decoders reject malformed input with an
// error and never allocate in proportion to an unchecked count.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// Kind is a message's first byte.
type Kind uint8

// Message kinds.
const (
	KindHello    Kind = 1
	KindInput    Kind = 2
	KindIdentify Kind = 3 // client to server: the game and version it plays
	KindWelcome  Kind = 16
	KindSnapshot Kind = 17
	KindEvent    Kind = 18
	KindIdentity Kind = 19 // server to client: the game and version it hosts
)

// The arena's identification: what Identify and Identity carry.
const (
	// GameID names the arena game.
	GameID = "arena"
	// Version is the arena protocol's version. Version 1 added Identify
	// and Identity; a server that does not answer Identify is older (or
	// hosts another game).
	Version = 1
	// MaxGameID bounds a game id's length in bytes.
	MaxGameID = 32
)

// Limits.
const (
	MaxName    = 16
	MaxShips   = 255
	MaxBullets = 1024
	Colors     = 12 // size of the palette players pick from
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
// the client which inputs it applied.
type Input struct {
	Seq     uint32
	Buttons sim.Input
}

// MaxInputs is the most inputs one Input message carries: the newest and
// the ones before it, so that a lost datagram loses no input.
const MaxInputs = 8

// Welcome tells a client its ship id and the server's tick.
type Welcome struct {
	ID   uint32
	Tick uint32
}

// Ship flags.
const (
	FlagAlive  = 1 << 0
	FlagShield = 1 << 1
	FlagThrust = 1 << 2
)

// ShipState is a ship in a snapshot.
type ShipState struct {
	ID            uint32
	X, Y, VX, VY  float64
	Angle         float64
	Flags         uint8
	Score, Deaths uint16
}

// BulletState is a bullet in a snapshot.
type BulletState struct {
	ID           uint16
	Owner        uint32
	X, Y, VX, VY float64
}

// Snapshot is the world at a tick as one client sees it: Ack is the last
// of its inputs the server applied.
type Snapshot struct {
	Tick    uint32
	Ack     uint32
	Ships   []ShipState
	Bullets []BulletState
}

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

// Sizes of the fixed parts.
const (
	shipSize   = 4 + 2*5 + 1 + 2 + 2
	bulletSize = 2 + 4 + 2*4
)

// quantization
const scale = 20

func q(v float64) uint16 {
	x := math.Round(v * scale)
	x = math.Max(math.MinInt16, math.Min(math.MaxInt16, x))
	return uint16(int16(x))
}

func dq(u uint16) float64 { return float64(int16(u)) / scale }

func qAngle(a float64) uint16 {
	// Wrap only angles beyond ±3.1416 (±π rounded): wrapping a decoded
	// ±3.1416 would flip its sign at every round trip.
	k := math.Round(a * 10000)
	if math.Abs(k) > 31416 {
		k = math.Round(math.Remainder(a, 2*math.Pi) * 10000)
	}
	return uint16(int16(k))
}

func dqAngle(u uint16) float64 { return float64(int16(u)) / 10000 }

// Quantize rounds a value the way a snapshot carries it.
func Quantize(v float64) float64 { return dq(q(v)) }

// QuantizeAngle rounds an angle the way a snapshot carries it.
func QuantizeAngle(a float64) float64 { return dqAngle(qAngle(a)) }

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

// AppendInputs encodes consecutive inputs, oldest first (at most
// MaxInputs; extra older ones are left out): the newest seq, the count,
// then one button byte per input.
func AppendInputs(b []byte, ins []Input) []byte {
	if len(ins) > MaxInputs {
		ins = ins[len(ins)-MaxInputs:]
	}
	b = append(b, byte(KindInput))
	var newest uint32
	if len(ins) > 0 {
		newest = ins[len(ins)-1].Seq
	}
	b = binary.BigEndian.AppendUint32(b, newest)
	b = append(b, byte(len(ins)))
	for _, in := range ins {
		b = append(b, byte(in.Buttons))
	}
	return b
}

// AppendInput encodes a single input.
func AppendInput(b []byte, in Input) []byte { return AppendInputs(b, []Input{in}) }

// ParseInputs decodes an Input message into dst (reused): consecutive
// inputs ending at the newest seq, oldest first.
func ParseInputs(dst []Input, m []byte) ([]Input, error) {
	if len(m) < 6 || Kind(m[0]) != KindInput {
		return dst[:0], malformed("input of %d bytes", len(m))
	}
	newest, n := binary.BigEndian.Uint32(m[1:]), int(m[5])
	if n < 1 || n > MaxInputs || len(m) != 6+n || uint32(n) > newest {
		return dst[:0], malformed("input count %d for seq %d in %d bytes", n, newest, len(m))
	}
	dst = dst[:0]
	for i := 0; i < n; i++ {
		bt := m[6+i]
		if bt&^byte(sim.Thrust|sim.Left|sim.Right|sim.Fire) != 0 {
			return dst[:0], malformed("buttons %#x", bt)
		}
		dst = append(dst, Input{Seq: newest - uint32(n-1-i), Buttons: sim.Input(bt)})
	}
	return dst, nil
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

// AppendWelcome encodes a Welcome.
func AppendWelcome(b []byte, w Welcome) []byte {
	b = append(b, byte(KindWelcome))
	b = binary.BigEndian.AppendUint32(b, w.ID)
	return binary.BigEndian.AppendUint32(b, w.Tick)
}

// ParseWelcome decodes a Welcome.
func ParseWelcome(m []byte) (Welcome, error) {
	if len(m) != 9 || Kind(m[0]) != KindWelcome {
		return Welcome{}, malformed("welcome of %d bytes", len(m))
	}
	return Welcome{ID: binary.BigEndian.Uint32(m[1:]), Tick: binary.BigEndian.Uint32(m[5:])}, nil
}

// AppendSnapshot encodes a Snapshot. At most MaxShips ships and
// MaxBullets bullets are written.
func AppendSnapshot(b []byte, s *Snapshot) []byte {
	ships, bullets := s.Ships[:min(len(s.Ships), MaxShips)], s.Bullets[:min(len(s.Bullets), MaxBullets)]
	b = append(b, byte(KindSnapshot))
	b = binary.BigEndian.AppendUint32(b, s.Tick)
	b = binary.BigEndian.AppendUint32(b, s.Ack)
	b = append(b, byte(len(ships)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(bullets)))
	for i := range ships {
		sh := &ships[i]
		b = binary.BigEndian.AppendUint32(b, sh.ID)
		for _, v := range [...]float64{sh.X, sh.Y, sh.VX, sh.VY} {
			b = binary.BigEndian.AppendUint16(b, q(v))
		}
		b = binary.BigEndian.AppendUint16(b, qAngle(sh.Angle))
		b = append(b, sh.Flags)
		b = binary.BigEndian.AppendUint16(b, sh.Score)
		b = binary.BigEndian.AppendUint16(b, sh.Deaths)
	}
	for i := range bullets {
		bl := &bullets[i]
		b = binary.BigEndian.AppendUint16(b, bl.ID)
		b = binary.BigEndian.AppendUint32(b, bl.Owner)
		for _, v := range [...]float64{bl.X, bl.Y, bl.VX, bl.VY} {
			b = binary.BigEndian.AppendUint16(b, q(v))
		}
	}
	return b
}

// ParseSnapshot decodes a Snapshot into dst, reusing its slices.
func ParseSnapshot(dst *Snapshot, m []byte) error {
	const head = 1 + 4 + 4 + 1 + 2
	if len(m) < head || Kind(m[0]) != KindSnapshot {
		return malformed("snapshot of %d bytes", len(m))
	}
	ns, nb := int(m[9]), int(binary.BigEndian.Uint16(m[10:]))
	if nb > MaxBullets {
		return malformed("%d bullets", nb)
	}
	if len(m) != head+ns*shipSize+nb*bulletSize {
		return malformed("snapshot of %d bytes for %d ships and %d bullets", len(m), ns, nb)
	}
	dst.Tick = binary.BigEndian.Uint32(m[1:])
	dst.Ack = binary.BigEndian.Uint32(m[5:])
	dst.Ships, dst.Bullets = dst.Ships[:0], dst.Bullets[:0]
	p := m[head:]
	u16 := func(i int) uint16 { return binary.BigEndian.Uint16(p[i:]) }
	for range ns {
		dst.Ships = append(dst.Ships, ShipState{
			ID: binary.BigEndian.Uint32(p), X: dq(u16(4)), Y: dq(u16(6)), VX: dq(u16(8)), VY: dq(u16(10)),
			Angle: dqAngle(u16(12)), Flags: p[14], Score: u16(15), Deaths: u16(17),
		})
		p = p[shipSize:]
	}
	for range nb {
		dst.Bullets = append(dst.Bullets, BulletState{
			ID: u16(0), Owner: binary.BigEndian.Uint32(p[2:]),
			X: dq(u16(6)), Y: dq(u16(8)), VX: dq(u16(10)), VY: dq(u16(12)),
		})
		p = p[bulletSize:]
	}
	return nil
}

// AppendEvent encodes an Event.
func AppendEvent(b []byte, e Event) []byte {
	name := CleanName(e.Name)
	b = append(b, byte(KindEvent), byte(e.Kind))
	b = binary.BigEndian.AppendUint32(b, e.ID)
	b = binary.BigEndian.AppendUint32(b, e.Other)
	b = binary.BigEndian.AppendUint16(b, q(e.X))
	b = binary.BigEndian.AppendUint16(b, q(e.Y))
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
		X: dq(binary.BigEndian.Uint16(m[10:])), Y: dq(binary.BigEndian.Uint16(m[12:])), Color: m[14],
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

// ShipStateOf converts a simulated ship to its snapshot form.
func ShipStateOf(s *sim.Ship) ShipState {
	var f uint8
	if s.Alive {
		f |= FlagAlive
	}
	if s.Shield > 0 {
		f |= FlagShield
	}
	if s.Input&sim.Thrust != 0 {
		f |= FlagThrust
	}
	return ShipState{
		ID: s.ID, X: s.X, Y: s.Y, VX: s.VX, VY: s.VY, Angle: s.Angle, Flags: f,
		Score: uint16(max(0, min(s.Score, math.MaxUint16))), Deaths: uint16(max(0, min(s.Deaths, math.MaxUint16))),
	}
}

// SetSnapshotAck rewrites the Ack of an encoded snapshot in place, so one
// encoding serves every recipient.
func SetSnapshotAck(m []byte, ack uint32) {
	if len(m) >= 9 && Kind(m[0]) == KindSnapshot {
		binary.BigEndian.PutUint32(m[5:], ack)
	}
}
