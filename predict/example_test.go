package predict_test

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mpgs/mpgameserver/predict"
)

// pos is the example game's state: a position on a line. Its input is a
// move (an int8: how far this tick).
type pos struct{ X float64 }

func stepPos(s *pos, move int8) { s.X += float64(move) }

// The client predicts its position, and reconciles it with the server's.
func ExamplePredictor() {
	p := predict.New(pos{}, predict.Config[pos, int8]{
		Step:     stepPos,
		Distance: func(a, b *pos) float64 { return math.Abs(a.X - b.X) },
		Lerp: func(a, b *pos, t float64) pos {
			return pos{a.X + (b.X-a.X)*t}
		},
		Smooth: 100 * time.Millisecond,
	})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // the game's clock
	tick := time.Second / 50

	// Three ticks, moving 1 each: the prediction is at 3 at once.
	for i := range 3 {
		seq := p.Tick(t0.Add(time.Duration(i)*tick), 1, 0)
		fmt.Printf("input %d: predicted %.1f\n", seq, p.State().X)
	}
	fmt.Println("batch of", len(p.Batch()), "inputs")

	// The server applied 2 inputs, but something pushed the player back:
	// it is at 1.5, not 2. Input 3 is replayed on it.
	now := t0.Add(3 * tick)
	p.Reconcile(now, pos{1.5}, 2)
	fmt.Printf("reconciled: predicted %.1f, %d pending\n", p.State().X, p.Stats().Pending)

	// What the player sees moves to it over 100 ms.
	for _, ms := range []int{0, 50, 100} {
		at := now.Add(time.Duration(ms) * time.Millisecond)
		fmt.Printf("shown at +%dms: %.2f\n", ms, p.Shown(at).X)
	}
	st := p.Stats()
	fmt.Printf("error %.1f, correction %.1f\n", st.ErrorMax, st.CorrectionMax)

	// A state for an input already reconciled is ignored.
	fmt.Println("old state taken:", p.Reconcile(now, pos{0}, 1))
	// Output:
	// input 1: predicted 1.0
	// input 2: predicted 2.0
	// input 3: predicted 3.0
	// batch of 3 inputs
	// reconciled: predicted 2.5, 1 pending
	// shown at +0ms: 3.00
	// shown at +50ms: 2.75
	// shown at +100ms: 2.50
	// error 0.5, correction 0.5
	// old state taken: false
}

// The server takes one input per tick from a client's jitter buffer.
func ExampleBuffer() {
	b := predict.NewBuffer[int8](predict.BufferConfig{Depth: 4})
	var ins []predict.Input[int8]
	show := func() {
		ins = b.Next(ins[:0])
		fmt.Print("tick:")
		if len(ins) == 0 {
			fmt.Print(" none")
		}
		for _, in := range ins {
			fmt.Printf(" input %d (move %d)", in.Seq, in.In)
		}
		fmt.Printf(", ack %d\n", b.Applied())
	}

	// The batches repeat the last inputs: 1 and 2 again are duplicates.
	b.Add([]predict.Input[int8]{{Seq: 1, In: 1}, {Seq: 2, In: 2}})
	fmt.Println("new:", b.Add([]predict.Input[int8]{{Seq: 1, In: 1}, {Seq: 2, In: 2}, {Seq: 3, In: 3}}))
	show()
	show()
	show()
	// Nothing came: 4 is late. The tick applies no input (the ship
	// waits); 4 keeps its turn.
	show()
	// 4 comes with 5: 4 is applied, a tick late, 5 waits.
	fmt.Println("new:", b.Add([]predict.Input[int8]{{Seq: 4, In: 4}, {Seq: 5, In: 5}}))
	show()
	// 6 was lost (all its copies), 7 came: 5 is applied, then 5 again
	// in 6's place.
	fmt.Println("new:", b.Add([]predict.Input[int8]{{Seq: 7, In: 7}}))
	show()
	show()
	// 6 comes, too late: dropped.
	fmt.Println("new:", b.Add([]predict.Input[int8]{{Seq: 6, In: 6}}))
	show()

	st := b.Stats()
	fmt.Printf("applied %d, held %d, missing %d, duplicates %d, late %d\n",
		st.Applied, st.Held, st.Missing, st.Duplicates, st.Late)
	// Output:
	// new: 1
	// tick: input 1 (move 1), ack 1
	// tick: input 2 (move 2), ack 2
	// tick: input 3 (move 3), ack 3
	// tick: none, ack 3
	// new: 2
	// tick: input 4 (move 4), ack 4
	// new: 1
	// tick: input 5 (move 5), ack 5
	// tick: input 6 (move 5), ack 6
	// new: 0
	// tick: input 7 (move 7), ack 7
	// applied 6, held 1, missing 1, duplicates 2, late 1
}

// A game's input encoded in a batch, and read back.
func ExampleParseBatch() {
	type keys struct{ Left, Right, Fire bool }
	codec := predict.Codec[keys]{
		Append: func(b []byte, k keys) []byte {
			var bits byte
			for i, on := range []bool{k.Left, k.Right, k.Fire} {
				if on {
					bits |= 1 << i
				}
			}
			return append(b, bits)
		},
		Parse: func(b []byte) (keys, int, error) {
			if len(b) < 1 || b[0] > 7 {
				return keys{}, 0, errors.New("bad keys")
			}
			return keys{b[0]&1 != 0, b[0]&2 != 0, b[0]&4 != 0}, 1, nil
		},
	}

	ins := []predict.Input[keys]{
		{Seq: 41, View: 1000 * time.Millisecond, In: keys{Left: true}},
		{Seq: 42, View: 1020 * time.Millisecond, In: keys{Left: true, Fire: true}},
	}
	b := predict.AppendBatch(nil, ins, codec)
	fmt.Printf("% x\n", b)

	got, err := predict.ParseBatch(nil, b, codec)
	fmt.Println(err)
	for _, in := range got {
		fmt.Printf("input %d at %v: %+v\n", in.Seq, in.View, in.In)
	}

	_, err = predict.ParseBatch(nil, b[:len(b)-1], codec)
	fmt.Println(errors.Is(err, predict.ErrMalformed), err)
	// Output:
	// 02 2a 00 00 00 e8 03 00 00 01 fc 03 00 00 05
	// <nil>
	// input 41 at 1s: {Left:true Right:false Fire:false}
	// input 42 at 1.02s: {Left:true Right:false Fire:true}
	// true predict: malformed input batch: input 2 of 2: bad keys
}
