package predict

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"
)

// checkBuffer checks a buffer's invariants.
func checkBuffer[I any](t *testing.T, b *Buffer[I]) {
	t.Helper()
	if len(b.wait) > b.depth || cap(b.wait) != b.depth+1 {
		t.Fatalf("%d waiting (cap %d), depth %d", len(b.wait), cap(b.wait), b.depth)
	}
	if !b.started && (b.last.Seq != 0 || b.slack != 0 || b.repeated != 0) {
		t.Fatalf("a last input %d (slack %d, marks %x) before any Next", b.last.Seq, b.slack, b.repeated)
	}
	// Each mark is a repeat in place of a missing input whose input has
	// not come (Late clears it).
	if st := b.stats; uint64(bits.OnesCount64(b.repeated)) > st.Missing-st.Late {
		t.Fatalf("%d marks, %d missing, %d late", bits.OnesCount64(b.repeated), st.Missing, st.Late)
	}
	if b.slack < 0 || b.slack > DrainAfter {
		t.Fatalf("slack %d", b.slack)
	}
	for i, in := range b.wait {
		if in.Seq <= b.applied {
			t.Fatalf("waiting %d not after applied %d", in.Seq, b.applied)
		}
		if i > 0 && in.Seq <= b.wait[i-1].Seq {
			t.Fatalf("waiting not sorted: %d after %d", in.Seq, b.wait[i-1].Seq)
		}
	}
}

// TestBufferInvariants drives buffers with random batches (some near the
// top of the sequence numbers, some from a lying client) and random
// ticks, and checks after each step the invariants, and what each Next
// did: before any input nothing; else a hold (nothing waited: none,
// Applied kept), or one or two (a drain) inputs in order, each fresh or
// a repeat in a missing one's place, the last carrying Applied's number.
func TestBufferInvariants(t *testing.T) {
	var all BufferStats // some figures over all seeds
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		rng := rand.New(rand.NewPCG(seed, 99))
		depth := 1 + rng.IntN(8)
		b := NewBuffer[int](BufferConfig{Depth: depth})
		var sent uint32 // the client's newest input
		if seed%2 == 0 {
			sent = math.MaxUint32 - 9000 // the top reached near the end
		}
		nextShare := 3 + int(seed%4) // in tenths of the steps
		started := false
		var prev Input[int] // the input Next last returned
		var got []Input[int]
		batch := make([]Input[int], 0, MaxBatch)
		for step := range 20000 {
			r := rng.IntN(10)
			// Now and then a steady client: a batch with its next input,
			// then a tick, in turn, after a burst that left inputs
			// waiting (which drains give back).
			phase := step % 2500
			steady := phase >= 2000 && step < 19000
			if steady {
				r = 0
				if phase%2 == 1 {
					r = 9
				}
			}
			switch {
			case r < 5: // a batch of consecutive inputs, maybe old
				adv := uint32(rng.IntN(3))
				if steady {
					adv = 1
				}
				if sent <= math.MaxUint32-adv {
					sent += adv
				}
				newest := sent
				if !steady && rng.IntN(10) == 0 {
					newest -= min(newest, uint32(rng.IntN(30)))
				}
				if newest == 0 {
					continue
				}
				n := 1 + rng.IntN(int(min(newest, MaxBatch)))
				if steady {
					n = int(min(newest, MaxBatch))
				}
				batch = batch[:0]
				for i := range n {
					s := newest - uint32(n-1-i)
					batch = append(batch, Input[int]{Seq: s, In: int(s)})
				}
				rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
				before := b.Len()
				added := b.Add(batch)
				if added < 0 || added > len(batch) {
					t.Fatalf("added %d of %d", added, len(batch))
				}
				if b.Len() > before+added {
					t.Fatalf("len %d after %d + %d", b.Len(), before, added)
				}
			case r < 10-nextShare:
				if rng.IntN(50) != 0 {
					continue
				}
				// A lying client: a number out of the blue, around its own
				// (odd seeds: it restarts its numbering there when ahead)
				// or before it (even seeds), or anything at the end.
				s := sent - min(sent, 1000) + rng.Uint32N(2000)
				switch {
				case step > 19000 && seed%4 == 3:
					s = math.MaxUint32 - rng.Uint32N(8) // nothing comes after
				case step > 19000:
					s = rng.Uint32()
				case seed%2 == 0:
					s = sent - min(sent, rng.Uint32N(1000)) // an old one
				case s > sent:
					sent = s
				}
				b.Add([]Input[int]{{Seq: s, In: int(s)}})
			default:
				before, beforeLen, beforeApplied := b.Stats(), b.Len(), b.applied
				got = b.Next(got[:0])
				st := b.Stats()
				if len(got) > 0 {
					started = true
				}
				switch {
				case !started:
					if len(got) != 0 || st != before || b.applied != beforeApplied {
						t.Fatalf("Next gave %v before any input (stats %+v)", got, st)
					}
				case len(got) == 0:
					// Nothing waited: a hold, Applied and Last kept.
					if beforeLen != 0 || b.applied != beforeApplied || b.Last() != prev || st.Held != before.Held+1 {
						t.Fatalf("hold with %d waiting, applied %d then %d; stats %+v", beforeLen, beforeApplied, b.applied, st)
					}
				default:
					// One input, or two (a drain), in order; each fresh
					// (its own number, after the last applied) or the last
					// again in a missing one's place. The last returned is
					// the last applied.
					if len(got) > 2 || (len(got) == 2) != (st.Drained == before.Drained+1) || st.Held != before.Held ||
						st.Drained > before.Drained && beforeLen < 2 {
						t.Fatalf("Next gave %v with %d waiting; stats %+v", got, beforeLen, st)
					}
					last, fresh := prev, 0
					for i, in := range got {
						if in.Seq <= beforeApplied || i > 0 && in.Seq <= got[i-1].Seq {
							t.Fatalf("Next gave %v, applied %d before", got, beforeApplied)
						}
						if in.In == int(in.Seq) {
							fresh++
						} else if in.In != last.In {
							t.Fatalf("Next gave %v: %d neither fresh nor a repeat of %v", got, in.Seq, last)
						}
						last = in
					}
					if st.Applied != before.Applied+uint64(fresh) || st.Missing != before.Missing+uint64(len(got)-fresh) {
						t.Fatalf("Next gave %v (%d fresh); stats %+v then %+v", got, fresh, before, st)
					}
					if last.Seq != b.applied || b.Last() != last {
						t.Fatalf("Next gave %v, applied %d, last %v", got, b.applied, b.Last())
					}
					prev = last
				}
			}
			checkBuffer(t, b)
			st := b.Stats()
			if st.Late > st.Missing {
				t.Fatalf("stats %+v", st)
			}
		}
		st := b.Stats()
		t.Logf("seed %d depth %d: %+v", seed, depth, st)
		if st.Applied < 1000 || st.Duplicates == 0 || st.Held == 0 || st.Dropped == 0 {
			t.Fatalf("seed %d: stats %+v: the test exercised little", seed, st)
		}
		// Depth 1 jumps over any gap: no input is missing.
		all.Missing += st.Missing
		all.Late += st.Late
		all.Jumps += st.Jumps
		all.Drained += st.Drained
	}
	if all.Missing == 0 || all.Late == 0 || all.Jumps == 0 || all.Drained == 0 {
		t.Fatalf("%+v: the test exercised little", all)
	}
}

// TestPredictorRing checks the ring of pending inputs: consecutive
// numbers ending at Seq, whatever ticks, acks and resets come.
func TestPredictorRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	p := New(0, Config[int, int]{
		Step:     func(s *int, in int) { *s = *s*31 + in },
		Capacity: 10,
	})
	now := time.Unix(0, 0)
	for range 10000 {
		switch r := rng.IntN(10); {
		case r < 6:
			p.Tick(now, rng.IntN(100), 0)
		case r < 9:
			ack := min(p.acked+uint32(rng.IntN(12)), p.seq)
			if rng.IntN(4) == 0 {
				p.Rebase(now, rng.IntN(100), ack)
			} else {
				p.Reconcile(now, rng.IntN(100), ack)
			}
		default:
			p.Reset(rng.IntN(100))
		}
		if p.n > len(p.ring) || p.n > int(p.seq) {
			t.Fatalf("%d pending", p.n)
		}
		want := p.seq - uint32(p.n) + 1
		s := 0
		for i := range p.n {
			e := p.ring[p.at(i)]
			if e.in.Seq != want+uint32(i) {
				t.Fatalf("pending %d: seq %d, want %d", i, e.in.Seq, want+uint32(i))
			}
			if p.reconciled && e.in.Seq <= p.acked {
				t.Fatalf("pending %d acked (%d)", e.in.Seq, p.acked)
			}
			s = e.pred
		}
		if p.n > 0 && s != p.state {
			t.Fatalf("newest pending predicted %d, state %d", s, p.state)
		}
		b := p.Batch()
		for i := range b {
			if b[i].Seq != p.seq-uint32(len(b)-1-i) {
				t.Fatalf("batch %v at seq %d", b, p.seq)
			}
		}
	}
}
