package attack

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Sizes of the connected attacks' packets.
const (
	// claimedFragments is the fragment count the fragment attacks claim.
	claimedFragments = protocol.MaxFragments
	// tinyFragmentData is the data of each tiny fragment.
	tinyFragmentData = 2
	// tinyFragments fill a packet: 110 records of 5+6+2 bytes.
	tinyFragments = protocol.MaxPayloadSize / (5 + protocol.FragmentHeaderSize + tinyFragmentData)
	// fragmentsPerID is how many 1 KiB fragments big-fragments sends of
	// each message before it starts another.
	fragmentsPerID = 64
	// packedMessages of 5 bytes fill a packet: 143 records of 5+5 bytes.
	packedMessages = protocol.MaxPayloadSize / (5 + 5)
	// replayMark starts every message of the replay attack; a 4-byte
	// counter follows.
	replayMark = 'R'
	// maxReplayHistory bounds the datagrams the replay attack keeps
	// (about 47 MB); later ones are sent but not replayed.
	maxReplayHistory = 1 << 15
)

// clientRun is one connected attacker at work.
type clientRun struct {
	c      *Client
	errors uint64
	dups   uint64    // replay: messages echoed twice
	end    time.Time // when it stopped sending
}

// A step sends one packet of an attack (and, for replay, a replayed one)
// and looks at what the server sent back.
type step struct {
	send    func() error
	observe func(msgs []protocol.Message) // may be nil
}

// drive runs s at rate packets per second (unlimited when 0) until ctx
// is done, then says goodbye with a DISCONNECT and closes the client.
func (r *clientRun) drive(ctx context.Context, rate float64, s step) {
	p := newPacer(rate)
	for p.wait(ctx) {
		if err := s.send(); err != nil {
			r.failed(ctx, err)
		}
		r.poll(s)
	}
	r.poll(s)
	r.end = time.Now()
	_ = r.c.Disconnect() // the server may have gone: nothing to do about it
	r.c.Close()
}

func (r *clientRun) poll(s step) {
	msgs, _ := r.c.Poll() // only Close makes it fail
	if s.observe != nil {
		s.observe(msgs)
	}
}

// failed counts a failed send; when every packet seq of the second is
// spent it waits for the next second.
func (r *clientRun) failed(ctx context.Context, err error) {
	if errors.Is(err, ErrNonceSpent) {
		now := time.Now()
		sleepCtx(ctx, time.Unix(now.Unix()+1, 0).Sub(now))
		return
	}
	r.errors++
	sleepCtx(ctx, time.Millisecond) // not a busy loop while the server is gone
}

// newStep returns the step of the connected attack called name.
func newStep(name string, c *Client, r *clientRun) step {
	switch name {
	case "fragments":
		return fragmentsStep(c)
	case "empty-flood":
		return emptyStep(c)
	case "replay":
		return replayStep(c, r)
	case "big-fragments":
		return bigFragmentsStep(c)
	case "stats-pack":
		return statsStep(c)
	}
	panic("attack: no connected attack called " + name) // Run looked the name up
}

// fragmentsStep fills each packet with tiny fragments, each claiming to
// be one of 8192 of a new message.
func fragmentsStep(c *Client) step {
	msgs := make([]protocol.Message, tinyFragments)
	bodies := make([]byte, tinyFragments*(protocol.FragmentHeaderSize+tinyFragmentData))
	data := []byte{0xA5, 0x5A}
	index := 0
	return step{send: func() error {
		for i := range msgs {
			index = index%claimedFragments + 1
			h := protocol.FragmentHeader{ID: c.NextFragmentID(), Index: uint16(index), Count: claimedFragments}
			off := i * (protocol.FragmentHeaderSize + tinyFragmentData)
			msgs[i] = c.Message(protocol.TypeAppFragment, protocol.AppendFragment(bodies[off:off], h, data))
		}
		_, err := c.Send(msgs)
		return err
	}}
}

// emptyStep sends packets of 255 empty APP messages.
func emptyStep(c *Client) step {
	msgs := make([]protocol.Message, protocol.MaxMessagesPerPacket)
	return step{send: func() error {
		for i := range msgs {
			msgs[i] = c.Message(protocol.TypeApp, nil)
		}
		_, err := c.Send(msgs)
		return err
	}}
}

// bigFragmentsStep sends 1 KiB fragments of messages claiming 8192 of
// them, fragmentsPerID of each before it starts another message.
func bigFragmentsStep(c *Client) step {
	data := make([]byte, protocol.FragmentDataSize)
	for i := range data {
		data[i] = byte(i)
	}
	body := make([]byte, 0, protocol.FragmentHeaderSize+len(data))
	var id protocol.Seq
	index := fragmentsPerID
	return step{send: func() error {
		if index == fragmentsPerID {
			id, index = c.NextFragmentID(), 0
		}
		index++
		h := protocol.FragmentHeader{ID: id, Index: uint16(index), Count: claimedFragments}
		_, err := c.Send([]protocol.Message{c.Message(protocol.TypeAppFragment, protocol.AppendFragment(body[:0], h, data))})
		return err
	}}
}

// statsStep sends packets of 143 STATS requests.
func statsStep(c *Client) step {
	msgs := make([]protocol.Message, packedMessages)
	req := []byte("STATS")
	return step{send: func() error {
		for i := range msgs {
			msgs[i] = c.Message(protocol.TypeApp, req)
		}
		_, err := c.Send(msgs)
		return err
	}}
}

// replayStep sends packets of 143 numbered messages and, after each, one
// of its earlier datagrams byte for byte, oldest first and round again.
// It counts the echoes of a number that arrive twice.
func replayStep(c *Client, r *clientRun) step {
	msgs := make([]protocol.Message, packedMessages)
	bodies := make([]byte, packedMessages*5)
	var history [][]byte
	var counter uint32
	next := 0 // the datagram to replay next
	var seen []uint64
	send := func() error {
		for i := range msgs {
			counter++
			b := bodies[i*5 : i*5 : i*5+5]
			b = binary.BigEndian.AppendUint32(append(b, replayMark), counter)
			msgs[i] = c.Message(protocol.TypeApp, b)
		}
		d, err := c.Send(msgs)
		if err != nil {
			return err
		}
		if len(history) < maxReplayHistory {
			history = append(history, d)
		}
		err = c.SendRaw(history[next])
		next = (next + 1) % len(history)
		return err
	}
	observe := func(in []protocol.Message) {
		for _, m := range in {
			if m.Type != protocol.TypeApp || len(m.Body) != 5 || m.Body[0] != replayMark {
				continue
			}
			n := binary.BigEndian.Uint32(m.Body[1:])
			for int(n/64) >= len(seen) {
				seen = append(seen, 0)
			}
			if seen[n/64]&(1<<(n%64)) != 0 {
				r.dups++
			}
			seen[n/64] |= 1 << (n % 64)
		}
	}
	return step{send: send, observe: observe}
}
