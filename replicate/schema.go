package replicate

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Type is the type of a field.
type Type uint8

// Field types.
const (
	// TypeFloat is a number quantized to Step within [Min, Max].
	TypeFloat Type = iota + 1
	// TypeAngle is an angle in radians quantized to Bits bits; it wraps.
	TypeAngle
	// TypeInt is an integer within [Min, Max].
	TypeInt
	// TypeBool is a flag.
	TypeBool
	// TypeString is a short string of at most MaxLen bytes.
	TypeString
)

func (t Type) String() string {
	switch t {
	case TypeFloat:
		return "float"
	case TypeAngle:
		return "angle"
	case TypeInt:
		return "int"
	case TypeBool:
		return "bool"
	case TypeString:
		return "string"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Limits of a schema.
const (
	// MaxKinds is the most kinds a schema declares.
	MaxKinds = 64
	// MaxFields is the most fields a kind declares.
	MaxFields = 32
	// MaxStringLen is the longest string field.
	MaxStringLen = 255
	// maxBits is the widest quantized field.
	maxBits = 32
)

// A Field is one replicated property of a kind of entity and its
// quantization: what the wire carries is the value rounded to the field's
// precision, so choose the coarsest precision the game can show.
type Field struct {
	Name string
	Type Type
	// Min and Max bound a float or an int; values outside are clamped.
	Min, Max float64
	// Step is a float's precision (world units, say 1/16).
	Step float64
	// Bits is an angle's precision: a turn is 1<<Bits steps.
	Bits int
	// MaxLen bounds a string's length in bytes.
	MaxLen int
}

// Float declares a number within [min, max] sent to the precision step.
func Float(name string, min, max, step float64) Field {
	return Field{Name: name, Type: TypeFloat, Min: min, Max: max, Step: step}
}

// Angle declares an angle in radians sent with bits bits of precision
// (10 bits: a third of a degree).
func Angle(name string, bits int) Field {
	return Field{Name: name, Type: TypeAngle, Bits: bits}
}

// Int declares an integer within [min, max].
func Int(name string, min, max int64) Field {
	return Field{Name: name, Type: TypeInt, Min: float64(min), Max: float64(max)}
}

// Bool declares a flag.
func Bool(name string) Field { return Field{Name: name, Type: TypeBool} }

// String declares a short string (a name, say) of at most maxLen bytes.
// A string is sent whole whenever it changes.
func String(name string, maxLen int) Field {
	return Field{Name: name, Type: TypeString, MaxLen: maxLen}
}

// A Kind is a kind of entity: its fields, where it is, how it moves and
// how much it matters.
type Kind struct {
	Name   string
	Fields []Field
	// Position names the two float fields that place an entity in the
	// world, for interest management ("x", "y"). Without them the kind
	// has no place: it is relevant to a client when Global or marked
	// with Viewer.SetRelevant.
	Position [2]string
	// Velocity names the two float fields that give the position's rate
	// of change in units per second. With them, clients extrapolate an
	// entity along its velocity, and the replicator sends it only when it
	// strays from that line by more than Tolerance: a drifting object
	// costs nothing until it turns.
	Velocity [2]string
	// Tolerance is how far (world units) an entity may stray from where
	// its last acknowledged state predicts before it must be sent again
	// (default: one Step of the position fields).
	Tolerance float64
	// Global kinds are relevant to every client, wherever they are.
	Global bool
	// Priority is how fast an entity of this kind gains importance while
	// it waits to be sent (1 by default): with 4, it goes four times as
	// often as a kind of priority 1 at the same distance.
	Priority float64
}

// A Schema is the compiled list of kinds that a server and its clients
// share: both ends must make it from the same kinds in the same order.
// It is immutable and safe for concurrent use.
type Schema struct {
	kinds  []kind
	stride int // the most fields of any kind
}

type field struct {
	Field
	bits   int     // quantized width
	scale  float64 // float: 1/Step
	span   uint32  // the largest quantized value
	offset int64   // int: Min
	zero   uint32  // the quantized zero value (or the nearest): a new entity's
}

type kind struct {
	Kind
	fields   []field
	pos, vel [2]int // field indexes, -1 when absent
	tol      float64
	prio     float64
	strings  bool
	zeros    []uint32 // a new entity's values, stride long
}

// NewSchema compiles kinds, checking every declaration.
func NewSchema(kinds ...Kind) (*Schema, error) {
	if len(kinds) == 0 || len(kinds) > MaxKinds {
		return nil, fmt.Errorf("replicate: %d kinds (1 to %d)", len(kinds), MaxKinds)
	}
	s := &Schema{}
	for ki, k := range kinds {
		c, err := compileKind(k)
		if err != nil {
			return nil, fmt.Errorf("replicate: kind %d (%q): %w", ki, k.Name, err)
		}
		s.kinds = append(s.kinds, c)
		s.stride = max(s.stride, len(c.fields))
	}
	for i := range s.kinds {
		k := &s.kinds[i]
		k.zeros = make([]uint32, s.stride)
		for f := range k.fields {
			k.zeros[f] = k.fields[f].zero
		}
	}
	return s, nil
}

func compileKind(k Kind) (kind, error) {
	if len(k.Fields) == 0 || len(k.Fields) > MaxFields {
		return kind{}, fmt.Errorf("%d fields (1 to %d)", len(k.Fields), MaxFields)
	}
	c := kind{Kind: k, pos: [2]int{-1, -1}, vel: [2]int{-1, -1}, prio: k.Priority}
	if c.prio == 0 {
		c.prio = 1
	}
	if c.prio < 0 || math.IsNaN(c.prio) || math.IsInf(c.prio, 0) {
		return kind{}, errors.New("priority must be positive")
	}
	names := map[string]int{}
	for i, f := range k.Fields {
		if _, dup := names[f.Name]; dup || f.Name == "" {
			return kind{}, fmt.Errorf("field %d: name %q empty or repeated", i, f.Name)
		}
		names[f.Name] = i
		cf, err := compileField(f)
		if err != nil {
			return kind{}, fmt.Errorf("field %q: %w", f.Name, err)
		}
		c.strings = c.strings || f.Type == TypeString
		c.fields = append(c.fields, cf)
	}
	look := func(pair [2]string, what string) ([2]int, error) {
		if pair == ([2]string{}) {
			return [2]int{-1, -1}, nil
		}
		var idx [2]int
		for j, n := range pair {
			i, ok := names[n]
			if !ok || k.Fields[i].Type != TypeFloat {
				return idx, fmt.Errorf("%s field %q is not a float field of the kind", what, n)
			}
			idx[j] = i
		}
		return idx, nil
	}
	var err error
	if c.pos, err = look(k.Position, "position"); err != nil {
		return kind{}, err
	}
	if c.vel, err = look(k.Velocity, "velocity"); err != nil {
		return kind{}, err
	}
	if c.vel[0] >= 0 && c.pos[0] < 0 {
		return kind{}, errors.New("velocity without position")
	}
	c.tol = k.Tolerance
	if c.tol == 0 && c.pos[0] >= 0 {
		c.tol = max(k.Fields[c.pos[0]].Step, k.Fields[c.pos[1]].Step)
	}
	if c.tol < 0 || math.IsNaN(c.tol) {
		return kind{}, errors.New("tolerance must not be negative")
	}
	return c, nil
}

func compileField(f Field) (field, error) {
	c := field{Field: f}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch f.Type {
	case TypeFloat:
		if bad(f.Min) || bad(f.Max) || bad(f.Step) || f.Step <= 0 || f.Max <= f.Min {
			return c, errors.New("a float needs Min < Max and Step > 0")
		}
		n := math.Round((f.Max - f.Min) / f.Step)
		if n >= 1<<maxBits {
			return c, fmt.Errorf("(Max-Min)/Step is %.0f steps, more than 32 bits", n)
		}
		c.scale, c.span = 1/f.Step, uint32(n)
		c.bits = max(1, bits.Len32(c.span))
		c.zero = c.quantize(0)
		return c, nil
	case TypeInt:
		if bad(f.Min) || bad(f.Max) || f.Max < f.Min || f.Min != math.Trunc(f.Min) || f.Max != math.Trunc(f.Max) {
			return c, errors.New("an int needs whole Min <= Max")
		}
		if f.Max-f.Min >= 1<<maxBits {
			return c, errors.New("Max-Min must fit 32 bits")
		}
		c.span, c.offset = uint32(f.Max-f.Min), int64(f.Min)
	case TypeAngle:
		if f.Bits < 2 || f.Bits > 24 {
			return c, errors.New("an angle needs 2 to 24 bits")
		}
		c.bits, c.span = f.Bits, 1<<f.Bits-1
		return c, nil
	case TypeBool:
		c.span = 1
	case TypeString:
		if f.MaxLen < 1 || f.MaxLen > MaxStringLen {
			return c, fmt.Errorf("a string needs MaxLen 1 to %d", MaxStringLen)
		}
		c.bits = bits.Len(uint(f.MaxLen))
		return c, nil
	default:
		return c, fmt.Errorf("unknown type %d", f.Type)
	}
	c.bits = bits.Len32(c.span)
	if c.bits == 0 {
		c.bits = 1
	}
	c.zero = c.quantizeInt(0)
	return c, nil
}

// Kinds returns the number of kinds.
func (s *Schema) Kinds() int { return len(s.kinds) }

// Kind returns the declaration of kind k.
func (s *Schema) Kind(k int) Kind { return s.kinds[k].Kind }

// Field returns the index of kind k's field name, or -1.
func (s *Schema) Field(k int, name string) int {
	for i, f := range s.kinds[k].fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// quantize maps a float or angle value to its quantized form.
func (f *field) quantize(v float64) uint32 {
	switch f.Type {
	case TypeFloat:
		if !(v > f.Min) { // NaN too
			return 0
		}
		if v >= f.Max {
			return f.span
		}
		return min(uint32(math.Round((v-f.Min)*f.scale)), f.span)
	case TypeAngle:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		turns := v / (2 * math.Pi)
		turns -= math.Floor(turns)
		return uint32(math.Round(turns*float64(uint32(1)<<f.bits))) & f.span
	case TypeInt:
		return f.quantizeInt(int64(math.Round(v)))
	case TypeBool:
		if v != 0 {
			return 1
		}
	}
	return 0
}

func (f *field) quantizeInt(v int64) uint32 {
	switch f.Type {
	case TypeInt:
		d := v - f.offset
		if d < 0 {
			return 0
		}
		return uint32(min(d, int64(f.span)))
	case TypeFloat, TypeAngle:
		return f.quantize(float64(v))
	case TypeBool:
		if v != 0 {
			return 1
		}
	}
	return 0
}

// value maps a quantized value back.
func (f *field) value(q uint32) float64 {
	switch f.Type {
	case TypeFloat:
		return f.Min + float64(q)/f.scale
	case TypeAngle:
		a := float64(q) / float64(uint32(1)<<f.bits) * 2 * math.Pi
		if a > math.Pi {
			a -= 2 * math.Pi
		}
		return a
	case TypeInt:
		return float64(int64(q) + f.offset)
	case TypeBool:
		return float64(q & 1)
	}
	return 0
}

func (f *field) intValue(q uint32) int64 {
	if f.Type == TypeInt {
		return int64(q) + f.offset
	}
	return int64(math.Round(f.value(q)))
}
