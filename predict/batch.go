package predict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Input is one tick's input as the client sent it.
type Input[I any] struct {
	// Seq numbers the client's ticks: 1 for the first input, one more
	// for each tick after it.
	Seq uint32
	// View is the server time the client's screen showed when the input
	// was taken (replicate.Receiver.RenderTime), to the millisecond: the
	// time lag compensation rewinds to (lagcomp.History.Rewind). It is
	// carried modulo 2^32 ms, as the replicator's clock.
	View time.Duration
	// In is the game's input.
	In I
}

// MaxBatch is the most inputs one batch carries.
const MaxBatch = 16

// ErrMalformed is wrapped by every error of a batch that cannot be read.
var ErrMalformed = errors.New("predict: malformed input batch")

// Codec writes and reads the game's input type in batches.
type Codec[I any] struct {
	// Append appends in's encoding to b.
	Append func(b []byte, in I) []byte
	// Parse reads one input from the start of b and returns it and the
	// bytes it took; an error when b does not hold one. An input's
	// encoding takes at least one byte: ParseBatch refuses n < 1 (and n
	// past the end of b). b comes from the network: Parse must check
	// what it reads, and must not keep b, which the caller reuses.
	Parse func(b []byte) (in I, n int, err error)
}

// batchHeader is the size of a batch's header: the count byte and the
// newest sequence number.
const batchHeader = 1 + 4

// AppendBatch appends the encoding of ins (consecutive inputs, oldest
// first; at most MaxBatch, the newest kept) to b: a count byte, the
// newest input's sequence number (4 bytes, little endian), then per
// input, oldest first, its View in milliseconds (4 bytes, little endian,
// modulo 2^32) and the game's encoding.
//
// Only the newest input's Seq is written: the others are taken to be the
// ones before it, which is what ParseBatch gives back (a Predictor's
// Batch is consecutive). The newest Seq must be at least the number of
// inputs written, or ParseBatch refuses the batch. With no inputs,
// AppendBatch appends nothing (an empty batch is not a batch: send
// none).
func AppendBatch[I any](b []byte, ins []Input[I], c Codec[I]) []byte {
	if len(ins) == 0 {
		return b
	}
	if len(ins) > MaxBatch {
		ins = ins[len(ins)-MaxBatch:]
	}
	b = append(b, byte(len(ins)))
	b = binary.LittleEndian.AppendUint32(b, ins[len(ins)-1].Seq)
	for i := range ins {
		b = binary.LittleEndian.AppendUint32(b, uint32(ins[i].View.Milliseconds()))
		b = c.Append(b, ins[i].In)
	}
	return b
}

// ParseBatch reads a batch (AppendBatch) into dst[:0] and returns it:
// the inputs oldest first, numbered from the newest sequence number
// back. It refuses (ErrMalformed) an empty batch, a count over MaxBatch,
// a sequence number too small for the count, bytes left over, and
// whatever c.Parse refuses.
//
// The Views read are whole milliseconds from 0 to 2^32-1 ms. ParseBatch
// reuses dst's memory: it allocates nothing when dst has room for
// MaxBatch inputs (and c.Parse allocates nothing). Its work is bounded by
// MaxBatch calls of c.Parse, whatever b holds. On an error, the returned
// slice is dst[:0] and its contents are unspecified.
func ParseBatch[I any](dst []Input[I], b []byte, c Codec[I]) ([]Input[I], error) {
	dst = dst[:0]
	if len(b) == 0 {
		return dst, fmt.Errorf("%w: empty", ErrMalformed)
	}
	count := int(b[0])
	if count == 0 || count > MaxBatch {
		return dst, fmt.Errorf("%w: count %d not in 1..%d", ErrMalformed, count, MaxBatch)
	}
	if len(b) < batchHeader {
		return dst, fmt.Errorf("%w: truncated header (%d bytes)", ErrMalformed, len(b))
	}
	newest := binary.LittleEndian.Uint32(b[1:])
	if newest < uint32(count) {
		return dst, fmt.Errorf("%w: newest seq %d too small for %d inputs", ErrMalformed, newest, count)
	}
	seq := newest - uint32(count) + 1
	off := batchHeader
	for i := 0; i < count; i++ {
		if len(b)-off < 4 {
			return dst[:0], fmt.Errorf("%w: input %d of %d: truncated view", ErrMalformed, i+1, count)
		}
		ms := binary.LittleEndian.Uint32(b[off:])
		off += 4
		in, n, err := c.Parse(b[off:])
		if err != nil {
			return dst[:0], fmt.Errorf("%w: input %d of %d: %w", ErrMalformed, i+1, count, err)
		}
		if n < 1 || n > len(b)-off {
			return dst[:0], fmt.Errorf("%w: input %d of %d: codec took %d of %d bytes", ErrMalformed, i+1, count, n, len(b)-off)
		}
		off += n
		dst = append(dst, Input[I]{Seq: seq + uint32(i), View: time.Duration(ms) * time.Millisecond, In: in})
	}
	if off != len(b) {
		return dst[:0], fmt.Errorf("%w: %d bytes left over", ErrMalformed, len(b)-off)
	}
	return dst, nil
}
