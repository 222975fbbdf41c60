package pair

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Workload is a set of messages of mixed sizes. Message id starts with its
// 4-byte id and is filled with bytes derived from the id, so a delivered
// message can be checked byte for byte.
type Workload struct {
	Sizes []int
}

// NewWorkload returns n messages: 70% of 4..203 bytes, 20% up to the
// largest unfragmented size, 7% fragmented up to ~9.4 KB and 3% of
// 20..40 KB.
func NewWorkload(n int, seed uint64) *Workload {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := &Workload{Sizes: make([]int, n)}
	for i := range w.Sizes {
		switch r := rng.IntN(100); {
		case r < 70:
			w.Sizes[i] = 4 + rng.IntN(200)
		case r < 90:
			w.Sizes[i] = 200 + rng.IntN(protocol.MaxSingleMessage-200+1)
		case r < 97:
			w.Sizes[i] = protocol.MaxSingleMessage + 1 + rng.IntN(8000)
		default:
			w.Sizes[i] = 20_000 + rng.IntN(20_000)
		}
	}
	return w
}

// FixedWorkload returns n messages of size bytes each (at least 4).
func FixedWorkload(n, size int) *Workload {
	w := &Workload{Sizes: make([]int, n)}
	for i := range w.Sizes {
		w.Sizes[i] = max(size, 4)
	}
	return w
}

// Len returns the number of messages.
func (w *Workload) Len() int { return len(w.Sizes) }

// Bytes returns the total size of the messages.
func (w *Workload) Bytes() int {
	t := 0
	for _, n := range w.Sizes {
		t += n
	}
	return t
}

// Message returns message id.
func (w *Workload) Message(id int) []byte {
	b := make([]byte, w.Sizes[id])
	binary.BigEndian.PutUint32(b, uint32(id))
	x := uint32(id)*2654435761 + 1
	for i := 4; i < len(b); i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// Tally records deliveries and callbacks per message id.
type Tally struct {
	w         *Workload
	Delivered []int // times each message was delivered intact
	Corrupt   int   // deliveries that matched no message
	CbTrue    []int // callbacks with true per message
	CbFalse   []int // callbacks with false per message
}

// NewTally returns an empty tally for w.
func NewTally(w *Workload) *Tally {
	n := w.Len()
	return &Tally{w: w, Delivered: make([]int, n), CbTrue: make([]int, n), CbFalse: make([]int, n)}
}

// Handler is a message handler that checks and counts deliveries.
func (t *Tally) Handler(_ protocol.Seq, msg []byte) {
	if len(msg) < 4 {
		t.Corrupt++
		return
	}
	id := int(binary.BigEndian.Uint32(msg))
	if id >= t.w.Len() || string(msg) != string(t.w.Message(id)) {
		t.Corrupt++
		return
	}
	t.Delivered[id]++
}

// Callback returns the delivery callback for message id.
func (t *Tally) Callback(id int) func(bool) {
	return func(ok bool) {
		if ok {
			t.CbTrue[id]++
		} else {
			t.CbFalse[id]++
		}
	}
}

// CallbacksDone reports whether every message got a callback.
func (t *Tally) CallbacksDone() bool {
	for id := range t.CbTrue {
		if t.CbTrue[id]+t.CbFalse[id] == 0 {
			return false
		}
	}
	return true
}

// AllDelivered reports whether every message arrived at least once.
func (t *Tally) AllDelivered() bool {
	for _, c := range t.Delivered {
		if c == 0 {
			return false
		}
	}
	return true
}

// Counts summarises the tally: messages delivered once, more than once,
// never, and callbacks true and false.
func (t *Tally) Counts() (once, twice, lost, cbTrue, cbFalse int) {
	for id, c := range t.Delivered {
		switch {
		case c == 0:
			lost++
		case c == 1:
			once++
		default:
			twice++
		}
		cbTrue += t.CbTrue[id]
		cbFalse += t.CbFalse[id]
	}
	return
}

// Exchange connects p and sends w's messages with retry mode mode: even
// ids from the client, odd ids from the server. It runs until every
// callback fired (and, for RetryOnTimeout, every message arrived) or limit
// of fake time passed, then lets stray copies drain for drain.
func Exchange(p *Pair, w *Workload, mode conn.RetryMode, limit, drain time.Duration) (*Tally, bool, error) {
	if err := p.Connect(10 * time.Second); err != nil {
		return nil, false, err
	}
	t := NewTally(w)
	p.Client.SetHandler(t.Handler)
	p.Server.SetHandler(t.Handler)
	for id := range w.Len() {
		from := p.Client
		if id%2 == 1 {
			from = p.Server
		}
		if err := from.Send(w.Message(id), mode, t.Callback(id)); err != nil {
			return t, false, fmt.Errorf("sim: send %d: %w", id, err)
		}
	}
	done := t.CallbacksDone
	if mode == conn.RetryOnTimeout {
		done = func() bool { return t.CallbacksDone() && t.AllDelivered() }
	}
	ok := p.RunUntil(2*time.Millisecond, limit, done)
	p.Run(2*time.Millisecond, drain)
	return t, ok, nil
}
