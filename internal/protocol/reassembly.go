package protocol

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// Reassembly errors. ErrDuplicateFragment is benign: the fragment was
// already held.
var (
	ErrReassemblyFull    = errors.New("protocol: reassembly memory limit reached")
	ErrTooManyPartial    = errors.New("protocol: too many partly received messages")
	ErrDuplicateFragment = errors.New("protocol: duplicate fragment")
)

// Reassembler defaults.
const (
	// DefaultReassemblyLimit caps the bytes one peer may have held in
	// partial messages, bookkeeping included: room for one message of the
	// largest size.
	DefaultReassemblyLimit = MaxMessageSize + MaxFragments*pieceOverhead + 64<<10
	// DefaultFragmentIdle drops a partial message that got no new fragment
	// for this long.
	DefaultFragmentIdle = 5 * time.Second
	// DefaultMaxPartial caps the messages one peer may have partly sent.
	DefaultMaxPartial = 32
)

// What held memory really costs beyond the data: a partial message (its
// struct and map entry; its bitmap is charged apart), and each piece (its
// slot in the pieces slice, doubled for growth; the allocator's rounding
// of its copy is charged too, as the copy's capacity).
const (
	partialOverhead = 256
	pieceOverhead   = 64
)

// roundingSlack bounds what the allocator adds when it rounds an
// allocation of n bytes up to its size class.
func roundingSlack(n int) int {
	if n <= 2048 {
		return 256
	}
	return n/8 + 256
}

// expireGap is the least time between two sweeps for expired partial
// messages made because memory ran short: a peer sending fragments that
// are refused costs at most one sweep of MaxPartial entries per gap.
const expireGap = 10 * time.Millisecond

// A Budget is memory shared beyond one Reassembler's own limit, such as a
// server-wide budget for every connection. Reserve returns false to refuse
// n more bytes; Release gives back bytes reserved before.
type Budget interface {
	Reserve(n int) bool
	Release(n int)
}

type fragPiece struct {
	index uint16
	data  []byte
}

type partialMessage struct {
	count   int
	got     int
	size    int // data bytes held
	charged int // bytes charged to the reassembler, data included
	seq     Seq // message seq of fragment 1, once it arrived
	first   time.Time
	last    time.Time
	have    []uint64 // one bit per index, count bits
	pieces  []fragPiece
}

// A Reassembler joins the fragments of one peer's messages. Memory is
// bounded: what is held (the data plus the real cost of its bookkeeping)
// never exceeds Limit, nor what Budget lends; the bookkeeping for a message
// grows with the fragments that actually arrive, not with the count a
// fragment claims; at most MaxPartial messages are partly received at a
// time, and new ones are refused beyond that. A partial message expires
// 1 s + 0.5 s per fragment after its first fragment (the reference's rule)
// or after Idle without a new fragment, whichever is sooner.
//
// The work per fragment is O(1) but for completing a message (which sorts
// and joins its pieces once) and for sweeping expired messages when memory
// runs short (at most MaxPartial entries, at most once per 10 ms).
//
// The zero value is ready to use with the defaults. A Reassembler is not
// safe for concurrent use.
type Reassembler struct {
	// Limit caps the bytes held; 0 means DefaultReassemblyLimit.
	Limit int
	// MaxMessage caps the size of one reassembled message; 0 means
	// MaxMessageSize.
	MaxMessage int
	// Idle drops a partial message with no progress for this long; 0 means
	// DefaultFragmentIdle.
	Idle time.Duration
	// MaxPartial caps the partly received messages; 0 means
	// DefaultMaxPartial.
	MaxPartial int
	// Budget, when set, must lend every byte held.
	Budget Budget

	partial    map[Seq]*partialMessage
	held       int
	lastExpire time.Time
}

func (r *Reassembler) maxPartial() int {
	if r.MaxPartial > 0 {
		return r.MaxPartial
	}
	return DefaultMaxPartial
}

func (r *Reassembler) limit() int {
	if r.Limit > 0 {
		return r.Limit
	}
	return DefaultReassemblyLimit
}

func (r *Reassembler) maxMessage() int {
	if r.MaxMessage > 0 {
		return r.MaxMessage
	}
	return MaxMessageSize
}

func (r *Reassembler) idle() time.Duration {
	if r.Idle > 0 {
		return r.Idle
	}
	return DefaultFragmentIdle
}

// Held returns the bytes currently charged to partial messages.
func (r *Reassembler) Held() int { return r.held }

// Pending returns the number of partial messages.
func (r *Reassembler) Pending() int { return len(r.partial) }

// Add takes the body of an APP_FRAGMENT message with message seq seq,
// received at now. When the fragment completes its message, Add returns the
// whole message (a new slice the caller owns, never nil) and the message
// seq of its first fragment. Otherwise msg is nil. An error means the
// fragment was rejected: no partial message took it in (partial messages
// that had expired may have been dropped first).
func (r *Reassembler) Add(now time.Time, seq Seq, body []byte) (msg []byte, msgSeq Seq, err error) {
	h, data, err := ParseFragment(body)
	if err != nil {
		return nil, 0, err
	}
	p := r.partial[h.ID]
	if p != nil && r.expired(p, now) {
		r.drop(h.ID, p)
		p = nil
	}
	if p != nil && p.count != int(h.Count) {
		return nil, 0, ErrFragmentMismatch
	}
	if h.Count == 1 {
		// a one-fragment message needs no state
		if len(data) > r.maxMessage() {
			return nil, 0, ErrMessageTooLarge
		}
		// never nil: nil means "incomplete", even for an empty message
		return append(make([]byte, 0, len(data)), data...), seq, nil
	}
	idx := int(h.Index) - 1
	if p != nil && p.have[idx>>6]&(1<<(uint(idx)&63)) != 0 {
		return nil, 0, ErrDuplicateFragment
	}
	// The checks use an upper bound of what the piece will cost; once it
	// is allocated, the charge is made exact.
	charge := len(data) + pieceOverhead + roundingSlack(len(data))
	if p == nil {
		charge += partialOverhead + (int(h.Count)+63)/64*8
	} else if p.size+len(data) > r.maxMessage() {
		return nil, 0, ErrMessageTooLarge
	}
	if len(data) > r.maxMessage() {
		return nil, 0, ErrMessageTooLarge
	}
	if p == nil && len(r.partial) >= r.maxPartial() {
		r.sweep(now)
		if len(r.partial) >= r.maxPartial() {
			return nil, 0, ErrTooManyPartial // no formatting: refusing allocates nothing
		}
	}
	if r.held+charge > r.limit() {
		r.sweep(now)
		if r.held+charge > r.limit() {
			return nil, 0, ErrReassemblyFull
		}
	}
	if r.Budget != nil && !r.Budget.Reserve(charge) {
		return nil, 0, ErrReassemblyFull
	}
	if p == nil {
		p = &partialMessage{
			count: int(h.Count),
			first: now,
			have:  make([]uint64, (int(h.Count)+63)/64),
		}
		if r.partial == nil {
			r.partial = make(map[Seq]*partialMessage)
		}
		r.partial[h.ID] = p
	}
	p.have[idx>>6] |= 1 << (uint(idx) & 63)
	piece := append([]byte(nil), data...)
	if over := len(data) + roundingSlack(len(data)) - cap(piece); over > 0 {
		charge -= over // the allocator rounded up less than the bound
		if r.Budget != nil {
			r.Budget.Release(over)
		}
	}
	p.pieces = append(p.pieces, fragPiece{index: h.Index, data: piece})
	p.got++
	p.size += len(data)
	p.charged += charge
	p.last = now
	r.held += charge
	if h.Index == 1 {
		p.seq = seq
	}
	if p.got < p.count {
		return nil, 0, nil
	}
	slices.SortFunc(p.pieces, func(a, b fragPiece) int { return cmp.Compare(a.index, b.index) })
	msg = make([]byte, 0, p.size)
	for _, pc := range p.pieces {
		msg = append(msg, pc.data...)
	}
	msgSeq = p.seq
	r.drop(h.ID, p)
	return msg, msgSeq, nil
}

func (r *Reassembler) expired(p *partialMessage, now time.Time) bool {
	maxAge := time.Second + time.Duration(p.count)*(time.Second/2)
	return now.Sub(p.first) > maxAge || now.Sub(p.last) > r.idle()
}

func (r *Reassembler) drop(id Seq, p *partialMessage) {
	r.held -= p.charged
	if r.Budget != nil {
		r.Budget.Release(p.charged)
	}
	delete(r.partial, id)
}

// sweep expires partial messages when memory or slots ran short, unless
// it swept less than expireGap ago.
func (r *Reassembler) sweep(now time.Time) {
	if !r.lastExpire.IsZero() && now.Sub(r.lastExpire) < expireGap && !now.Before(r.lastExpire) {
		return
	}
	r.Expire(now)
}

// Expire drops partial messages that timed out at now and returns how many
// it dropped. It looks at every partial message (MaxPartial at most).
func (r *Reassembler) Expire(now time.Time) int {
	r.lastExpire = now
	n := 0
	for id, p := range r.partial {
		if r.expired(p, now) {
			r.drop(id, p)
			n++
		}
	}
	return n
}

// Reset drops every partial message.
func (r *Reassembler) Reset() {
	if r.Budget != nil && r.held > 0 {
		r.Budget.Release(r.held)
	}
	clear(r.partial)
	r.held = 0
}
