// Package ordered is the receiving half of a reliable ordered channel
// carried over a reliable but unordered transport.
//
// The sender numbers the chunks of the ordered channel with a 32-bit
// ordered sequence number (oseq): 0 for the first chunk of a connection,
// then one more per chunk, wrapping at 2^32 (serial-number arithmetic:
// int32(a-b) is the distance from b to a). A message too large for one
// packet goes out as consecutive chunks, of which only the last is final.
// Chunks may arrive in any order, more than once, and far apart; a
// Receiver holds those that arrive early, joins the chunks of each message
// and delivers every complete message exactly once, in oseq order, as soon
// as the gap before it fills.
//
// The peer may be hostile, so what a Receiver holds and does is bounded: it
// holds only chunks less than its window ahead of the next expected one,
// never a message larger than its maximum, and Add costs O(1) plus
// O(chunks it delivers).
package ordered

import (
	"strconv"
	"unsafe"
)

// ChunkOverhead is what Held charges for each held chunk on top of its
// bytes: an estimate of its bookkeeping, so that a peer sending empty chunks
// still pays for them.
const ChunkOverhead = 64

const (
	// maxWindow keeps window distances well inside int32.
	maxWindow = 1 << 30
	// slotKeep is the largest slot buffer kept for reuse once its chunk
	// has gone: none, so that what a receiver keeps beyond Held is its
	// ring alone (a server has thousands of them).
	slotKeep = 0
	// partialKeep is the largest partial-message buffer kept for the next
	// message, so that a one-off huge message does not stay resident.
	partialKeep = 16 << 10
	// partialMin is the least capacity the partial buffer grows to.
	partialMin = 512
)

// Verdict says what Add did with a chunk.
type Verdict uint8

// The verdicts of Add.
const (
	Accepted  Verdict = iota // new: delivered now or held until the gap before it fills
	Duplicate                // already delivered, or already held
	TooFar                   // oseq at or beyond next+Window: the sender broke the window (the caller closes the connection)
	TooLarge                 // the message being joined would exceed MaxMessage bytes (the caller closes the connection)
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Accepted:
		return "Accepted"
	case Duplicate:
		return "Duplicate"
	case TooFar:
		return "TooFar"
	case TooLarge:
		return "TooLarge"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// slot holds one chunk that arrived ahead of the next expected one.
type slot struct {
	data  []byte // a copy of the chunk's bytes
	oseq  uint32 // the chunk's ordered seq
	full  bool   // the slot holds a chunk
	final bool   // the chunk ends a message
}

// slotSize is what a slot of the ring costs, charged in Held.
const slotSize = int(unsafe.Sizeof(slot{}))

// minRing is the ring's size when it is first needed; it doubles as the
// chunks held go further ahead, up to the window.
const minRing = 16

// A Receiver puts the chunks of an ordered channel back in order and joins
// them into messages. The zero value is not ready: call Init. A Receiver is
// not safe for concurrent use.
//
// Held bounds what the peer makes it hold: at most window-1 chunks wait in
// the ring (those from Next()+1 to Next()+window-1), none longer than
// maxMessage, the partly joined message is at most maxMessage bytes, and
// the ring itself, as long as the furthest chunk held needs (at most
// window slots), is charged too: Held() <= window*(maxMessage+ChunkOverhead)
// + window*slotSize. Beyond Held a receiver keeps only, for reuse, a
// partial-message buffer of up to 16 KiB; Reset releases it.
type Receiver struct {
	next       uint32 // oseq expected next
	mask       uint32 // len(slots)-1
	window     int
	maxMessage int

	slots   []slot // a ring indexed by oseq&mask, as long as the furthest chunk held needs; nil when none is held
	pending int    // full slots
	held    int    // bytes charged for the full slots

	partial []byte // non-final chunks of the message being joined
	joining bool   // a non-final chunk has gone into partial
}

// Init sets the window (how many chunks from the next expected one on may
// be accepted: a chunk at Next()+window or beyond is TooFar) and the largest
// joined message in bytes. window must be a power of two from 1 to 2^30 and
// maxMessage must not be negative; Init panics otherwise. It resets the
// receiver: Next is 0 and nothing is held.
func (r *Receiver) Init(window, maxMessage int) {
	if window <= 0 || window > maxWindow || window&(window-1) != 0 {
		panic("ordered: window " + strconv.Itoa(window) + " is not a power of two from 1 to 2^30")
	}
	if maxMessage < 0 {
		panic("ordered: negative maxMessage " + strconv.Itoa(maxMessage))
	}
	*r = Receiver{window: window, maxMessage: maxMessage}
}

// Add takes one chunk. data is only valid during the call: what is held is
// copied. For every message that becomes complete and deliverable in order,
// deliver is called with it (msg valid only during that call), in order;
// Add may call deliver zero, one or many times. A single-chunk message
// arriving in order is delivered straight from data, with no copy and no
// allocation. deliver may be nil: messages are then dropped, though they
// still count as delivered (Next moves past them). deliver must not call
// methods of r.
//
// A chunk before Next (int32(oseq-Next()) < 0, so 2^31 ahead counts as
// behind), or one already held, is a Duplicate (the first copy is kept);
// one at Next()+window or beyond is TooFar and changes nothing.
// If a chunk, or the message it joins, exceeds maxMessage bytes, Add
// returns TooLarge and resets the receiver, releasing what it held; the
// messages completed before that in the same call have been delivered.
//
// Add costs O(1) plus O(chunks it delivers), whatever it holds.
func (r *Receiver) Add(oseq uint32, final bool, data []byte, deliver func(msg []byte)) Verdict {
	d := int32(oseq - r.next)
	if d < 0 {
		return Duplicate
	}
	if int64(d) >= int64(r.window) {
		return TooFar
	}
	if d > 0 {
		return r.hold(oseq, final, data)
	}
	if !r.consume(final, data, deliver) {
		r.Reset()
		return TooLarge
	}
	r.next++
	for r.pending > 0 {
		s := &r.slots[r.next&r.mask]
		if !s.full {
			break
		}
		ok := r.consume(s.final, s.data, deliver)
		r.pending--
		r.held -= len(s.data) + ChunkOverhead
		s.full = false
		if cap(s.data) > slotKeep {
			s.data = nil
		} else {
			s.data = s.data[:0]
		}
		if !ok {
			r.Reset()
			return TooLarge
		}
		r.next++
	}
	if r.pending == 0 && r.slots != nil {
		r.slots, r.mask = nil, 0 // nothing held: hold nothing
	}
	return Accepted
}

// ring makes the ring long enough for a chunk d ahead of Next, moving the
// chunks held to their places in a longer one.
func (r *Receiver) ring(d int) {
	if d < len(r.slots) {
		return
	}
	n := max(minRing, len(r.slots))
	for n <= d {
		n *= 2
	}
	n = min(n, r.window)
	old := r.slots
	r.slots, r.mask = make([]slot, n), uint32(n-1)
	for _, s := range old {
		if s.full {
			r.slots[s.oseq&r.mask] = s
		}
	}
}

// hold copies a chunk that arrived ahead of Next into its slot.
func (r *Receiver) hold(oseq uint32, final bool, data []byte) Verdict {
	r.ring(int(oseq - r.next))
	s := &r.slots[oseq&r.mask]
	if s.full {
		return Duplicate
	}
	if len(data) > r.maxMessage {
		r.Reset()
		return TooLarge
	}
	if cap(s.data) >= len(data) {
		s.data = append(s.data[:0], data...)
	} else {
		s.data = append([]byte(nil), data...)
	}
	s.full = true
	s.final = final
	s.oseq = oseq
	r.pending++
	r.held += len(data) + ChunkOverhead
	return Accepted
}

// consume takes the chunk at Next: it joins a non-final chunk to the
// partial message and delivers the message a final chunk completes. It
// reports false, changing nothing, if the message would exceed maxMessage.
func (r *Receiver) consume(final bool, data []byte, deliver func([]byte)) bool {
	if len(r.partial)+len(data) > r.maxMessage {
		return false
	}
	if !r.joining {
		if final {
			if deliver != nil {
				deliver(data)
			}
			return true
		}
		r.joining = true
	}
	r.grow(len(data))
	r.partial = append(r.partial, data...)
	if !final {
		return true
	}
	if deliver != nil {
		deliver(r.partial)
	}
	r.joining = false
	if cap(r.partial) > partialKeep {
		r.partial = nil
	} else {
		r.partial = r.partial[:0]
	}
	return true
}

// grow makes room for n more bytes in partial, doubling its capacity but
// never past maxMessage (which the caller has checked len(partial)+n
// against).
func (r *Receiver) grow(n int) {
	need := len(r.partial) + n
	if need <= cap(r.partial) {
		return
	}
	c := min(max(need, 2*cap(r.partial), partialMin), r.maxMessage)
	p := make([]byte, len(r.partial), c)
	copy(p, r.partial)
	r.partial = p
}

// Next returns the oseq expected next.
func (r *Receiver) Next() uint32 { return r.next }

// Held returns the bytes held: the chunks held out of order plus the partly
// joined message, each charged its length plus ChunkOverhead (the partly
// joined message as one chunk), so that a caller can charge them to a
// memory budget.
func (r *Receiver) Held() int {
	h := r.held + len(r.slots)*slotSize
	if r.joining {
		h += len(r.partial) + ChunkOverhead
	}
	return h
}

// Pending returns how many chunks are held out of order.
func (r *Receiver) Pending() int { return r.pending }

// Reset forgets everything held and releases its memory; Next and the
// settings of Init are kept.
func (r *Receiver) Reset() {
	*r = Receiver{next: r.next, window: r.window, maxMessage: r.maxMessage}
}
