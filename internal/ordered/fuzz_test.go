package ordered

import (
	"bytes"
	"encoding/binary"
	"testing"
)

const (
	fuzzWindow = 64
	fuzzMax    = 4096
	// fuzzHeld bounds Held: at most window-1 chunks wait in the ring (from
	// Next()+1 to Next()+window-1), none over maxMessage bytes, plus the
	// partly joined message, at most maxMessage bytes charged as one chunk:
	// (window-1)*(max+overhead) + max+overhead. That is tighter by one
	// chunk than window*(max+overhead) + max+overhead. The ring, at most
	// the window's slots, is charged too.
	fuzzHeld = fuzzWindow*(fuzzMax+ChunkOverhead) + fuzzWindow*slotSize
)

// model is an obviously correct receiver: a map of held chunks and a
// partial message.
type model struct {
	next    uint32
	held    map[uint32]chunk
	partial []byte
	joining bool
}

func (m *model) reset() {
	m.held = map[uint32]chunk{}
	m.partial, m.joining = nil, false
}

func (m *model) heldBytes() int {
	n := 0
	for _, c := range m.held {
		n += len(c.data) + ChunkOverhead
	}
	if m.joining {
		n += len(m.partial) + ChunkOverhead
	}
	return n
}

func (m *model) add(c chunk, deliver func([]byte)) Verdict {
	d := int32(c.oseq - m.next)
	switch _, held := m.held[c.oseq]; {
	case d < 0 || held:
		return Duplicate
	case d >= fuzzWindow:
		return TooFar
	case len(c.data) > fuzzMax:
		m.reset()
		return TooLarge
	}
	m.held[c.oseq] = chunk{c.oseq, c.final, bytes.Clone(c.data)}
	for {
		h, ok := m.held[m.next]
		if !ok {
			return Accepted
		}
		delete(m.held, m.next)
		if len(m.partial)+len(h.data) > fuzzMax {
			m.reset()
			return TooLarge
		}
		m.next++
		m.partial = append(m.partial, h.data...)
		m.joining = true
		if h.final {
			deliver(m.partial)
			m.partial, m.joining = nil, false
		}
	}
}

// fuzzData fills buf with n bytes that identify oseq.
func fuzzData(buf []byte, oseq uint32, n int) []byte {
	b := buf[:n]
	for i := range b {
		b[i] = byte(oseq*131 + uint32(i))
	}
	return b
}

// FuzzReceiver runs a script against a receiver with window 64 and
// maxMessage 4096 and against a model: the first 4 bytes set Next (so that
// scripts run across the wrap at 2^32), then every 4 bytes are an
// operation: an oseq offset from the model's Next (int8: old, held, new and
// too far chunks), flags (bit 0: final; bit 7: Reset instead of Add) and a
// length (uint16 modulo 4200: some chunks alone are too large). A chunk's
// bytes identify its oseq.
//
// The receiver must not panic, must return the model's verdicts, deliver
// the model's messages (so each complete message once, in oseq order, with
// the bytes of its chunks), and agree on Next, Pending and Held. Held must
// stay within fuzzHeld, Pending below the window, and what it keeps
// without charging it to Held within its stated footprint: a partial
// buffer of at most maxMessage bytes and slot buffers of at most 1536
// bytes or twice their chunk.
func FuzzReceiver(f *testing.F) {
	op := func(off int8, flags byte, n uint16) []byte {
		return []byte{byte(off), flags, byte(n), byte(n >> 8)}
	}
	script := func(start uint32, ops ...[]byte) []byte {
		s := binary.LittleEndian.AppendUint32(nil, start)
		for _, o := range ops {
			s = append(s, o...)
		}
		return s
	}
	f.Add([]byte{})
	f.Add(script(0, op(0, 1, 10), op(0, 1, 0), op(-1, 1, 5)))
	f.Add(script(1<<32-3, op(2, 0, 100), op(3, 1, 7), op(1, 1, 0), op(1, 1, 9), op(0, 0, 3), op(0, 0, 3)))
	f.Add(script(7, op(63, 1, 1), op(64, 1, 1), op(5, 0, 4000), op(6, 1, 200), op(0, 0x80, 0), op(5, 0, 1)))
	f.Add(script(0, op(0, 0, 3000), op(1, 1, 2000), op(0, 0, 4097)))

	var buf [4200]byte
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Receiver
		r.Init(fuzzWindow, fuzzMax)
		m := model{}
		m.reset()
		if len(in) >= 4 {
			r.next = binary.LittleEndian.Uint32(in)
			m.next = r.next
			in = in[4:]
		}
		var got, want [][]byte
		deliverGot := func(msg []byte) { got = append(got, bytes.Clone(msg)) }
		deliverWant := func(msg []byte) { want = append(want, bytes.Clone(msg)) }
		for i := 0; i+4 <= len(in); i += 4 {
			if in[i+1]&0x80 != 0 {
				r.Reset()
				m.reset()
			} else {
				oseq := m.next + uint32(int32(int8(in[i])))
				n := int(binary.LittleEndian.Uint16(in[i+2:])) % len(buf)
				c := chunk{oseq, in[i+1]&1 != 0, fuzzData(buf[:], oseq, n)}
				v := r.Add(c.oseq, c.final, c.data, deliverGot)
				if w := m.add(c, deliverWant); v != w {
					t.Fatalf("op %d: Add(%d, %v, %d bytes) = %v, model %v", i/4, c.oseq, c.final, n, v, w)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("op %d: %d messages delivered, model %d", i/4, len(got), len(want))
			}
			for j := range got {
				if !bytes.Equal(got[j], want[j]) {
					t.Fatalf("op %d: message %d is %d bytes %x..., model %d bytes", i/4, j, len(got[j]), got[j][:min(8, len(got[j]))], len(want[j]))
				}
			}
			got, want = got[:0], want[:0]
			if r.Next() != m.next || r.Pending() != len(m.held) || r.Held()-ringBytes(&r) != m.heldBytes() {
				t.Fatalf("op %d: Next %d Pending %d Held %d, model %d %d %d", i/4,
					r.Next(), r.Pending(), r.Held(), m.next, len(m.held), m.heldBytes())
			}
			if r.Held() > fuzzHeld || r.Pending() >= fuzzWindow {
				t.Fatalf("op %d: Held %d (bound %d), Pending %d", i/4, r.Held(), fuzzHeld, r.Pending())
			}
			if cap(r.partial) > fuzzMax {
				t.Fatalf("op %d: partial buffer of %d bytes", i/4, cap(r.partial))
			}
			for k, s := range r.slots {
				if limit := max(slotKeep, 2*len(s.data), 16); cap(s.data) > limit || !s.full && len(s.data) > 0 {
					t.Fatalf("op %d: slot %d holds %d bytes in %d (full %v)", i/4, k, len(s.data), cap(s.data), s.full)
				}
			}
		}
	})
}
