package predict_test

import (
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/predict"
)

// BenchmarkClientFrame is a client's frame at 150 ms of round trip: a
// tick predicted and its batch encoded, and every other frame a
// reconciliation that replays the nine inputs the server has not
// applied.
func BenchmarkClientFrame(b *testing.B) {
	p := predict.New(ship{}, shipConfig())
	now := time.Unix(1_700_000_000, 0)
	var msg []byte
	server := ship{}
	b.ReportAllocs()
	for i := range b.N {
		now = now.Add(time.Second / 60)
		seq := p.Tick(now, thrust{Thrust: int8(i % 3)}, time.Duration(i)*time.Millisecond)
		msg = p.AppendBatch(msg[:0], thrustCodec)
		if i%2 == 0 && seq > 9 {
			stepShip(&server, thrust{Thrust: int8(i % 3)})
			p.Reconcile(now, server, seq-9)
		}
	}
}

// BenchmarkServerTick is one client's input a tick, both sides: its batch
// encoded, then on the server parsed, added and the tick's input taken.
func BenchmarkServerTick(b *testing.B) {
	buf := predict.NewBuffer[thrust](predict.BufferConfig{})
	p := predict.New(ship{}, shipConfig())
	now := time.Unix(1_700_000_000, 0)
	var (
		msg  []byte
		ins  []predict.Input[thrust]
		next []predict.Input[thrust]
	)
	for range predict.DefaultRedundancy {
		p.Tick(now, thrust{}, 0)
	}
	b.ReportAllocs()
	for i := range b.N {
		p.Tick(now, thrust{Thrust: int8(i % 3)}, 0)
		msg = p.AppendBatch(msg[:0], thrustCodec)
		var err error
		if ins, err = predict.ParseBatch(ins[:0], msg, thrustCodec); err != nil {
			b.Fatal(err)
		}
		buf.Add(ins)
		next = buf.Next(next[:0])
	}
}
