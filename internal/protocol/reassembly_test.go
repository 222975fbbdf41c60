package protocol_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

var t0 = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// fragments splits msg into APP_FRAGMENT bodies with frag id id.
func fragments(t testing.TB, id protocol.Seq, msg []byte) [][]byte {
	t.Helper()
	count, err := protocol.FragmentCount(len(msg))
	require.NoError(t, err)
	out := make([][]byte, count)
	for i := 1; i <= count; i++ {
		out[i-1] = fragBody(id, uint16(i), uint16(count), protocol.FragmentData(msg, i, count))
	}
	return out
}

func testMessage(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ seed
	}
	return b
}

func TestReassemblerOrders(t *testing.T) {
	msg := testMessage(5000, 1)
	frags := fragments(t, 1, msg)
	require.Len(t, frags, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	orders := map[string][]int{
		"in order":   {0, 1, 2, 3, 4},
		"reverse":    {4, 3, 2, 1, 0},
		"first last": {0, 4, 1, 3, 2},
	}
	for i := range 5 {
		orders["shuffled "+strconv.Itoa(i)] = rng.Perm(5)
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			var r protocol.Reassembler
			for k, i := range order {
				now := t0.Add(time.Duration(k) * 10 * time.Millisecond)
				got, seq, err := r.Add(now, protocol.Seq(8+i), frags[i])
				require.NoError(t, err)
				if k < len(order)-1 {
					require.Nil(t, got)
					require.Zero(t, seq)
					require.Equal(t, 1, r.Pending())
					require.Positive(t, r.Held())
				} else {
					require.Equal(t, msg, got)
					require.Equal(t, protocol.Seq(8), seq, "the message seq of fragment 1")
				}
			}
			assert.Zero(t, r.Pending())
			assert.Zero(t, r.Held())
		})
	}
}

func TestReassemblerInterleaved(t *testing.T) {
	a, b := testMessage(3000, 1), testMessage(9000, 2)
	fa, fb := fragments(t, 10, a), fragments(t, 11, b)
	var r protocol.Reassembler
	var done [][]byte
	for i := 0; i < max(len(fa), len(fb)); i++ {
		for _, x := range []struct {
			f   [][]byte
			seq protocol.Seq
		}{{fb, 100}, {fa, 200}} {
			if i < len(x.f) {
				got, _, err := r.Add(t0, x.seq+protocol.Seq(i), x.f[len(x.f)-1-i])
				require.NoError(t, err)
				if got != nil {
					done = append(done, got)
				}
			}
		}
	}
	require.Len(t, done, 2)
	assert.Equal(t, a, done[0])
	assert.Equal(t, b, done[1])
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Held())
}

func TestReassemblerSingleFragmentNeedsNoState(t *testing.T) {
	var r protocol.Reassembler
	body := fragBody(4, 1, 1, []byte("whole"))
	got, seq, err := r.Add(t0, 77, body)
	require.NoError(t, err)
	assert.Equal(t, []byte("whole"), got)
	assert.Equal(t, protocol.Seq(77), seq)
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Held())
	// the result is a copy the caller owns
	body[len(body)-1] = 'X'
	assert.Equal(t, []byte("whole"), got)
	// and the same id again is simply another message
	got, _, err = r.Add(t0, 78, fragBody(4, 1, 1, []byte("again")))
	require.NoError(t, err)
	assert.Equal(t, []byte("again"), got)
}

// TestReassemblerEmptyMessageIsDelivered is a regression test: a complete
// message of zero bytes must come back non-nil, since nil means
// "incomplete" to callers (conn delivers only when msg != nil).
func TestReassemblerEmptyMessageIsDelivered(t *testing.T) {
	var r protocol.Reassembler
	got, seq, err := r.Add(t0, 78, fragBody(4, 1, 1, nil))
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got)
	assert.Equal(t, protocol.Seq(78), seq)

	// the same for a message whose fragments are all empty
	_, _, err = r.Add(t0, 1, fragBody(5, 1, 2, nil))
	require.NoError(t, err)
	got, seq, err = r.Add(t0, 2, fragBody(5, 2, 2, nil))
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got)
	assert.Equal(t, protocol.Seq(1), seq)
}

func TestReassemblerCopiesData(t *testing.T) {
	var r protocol.Reassembler
	f1 := fragBody(1, 1, 2, []byte("ab"))
	f2 := fragBody(1, 2, 2, []byte("cd"))
	_, _, err := r.Add(t0, 1, f1)
	require.NoError(t, err)
	f1[6] = 'X' // the caller reuses its receive buffer
	got, _, err := r.Add(t0, 2, f2)
	require.NoError(t, err)
	assert.Equal(t, []byte("abcd"), got)
}

func TestReassemblerDuplicate(t *testing.T) {
	var r protocol.Reassembler
	msg := testMessage(5000, 3)
	frags := fragments(t, 9, msg)
	_, _, err := r.Add(t0, 1, frags[0])
	require.NoError(t, err)
	_, _, err = r.Add(t0, 3, frags[2])
	require.NoError(t, err)
	held, pending := r.Held(), r.Pending()
	for _, i := range []int{0, 2} {
		got, seq, err := r.Add(t0, 50, frags[i])
		assert.ErrorIs(t, err, protocol.ErrDuplicateFragment)
		assert.Nil(t, got)
		assert.Zero(t, seq)
		assert.Equal(t, held, r.Held())
		assert.Equal(t, pending, r.Pending())
	}
	// a duplicate with different data keeps the first copy
	alt := fragBody(9, 1, 5, bytes.Repeat([]byte{0xEE}, 1024))
	_, _, err = r.Add(t0, 51, alt)
	assert.ErrorIs(t, err, protocol.ErrDuplicateFragment)
	for _, i := range []int{1, 3, 4} {
		got, seq, err := r.Add(t0, protocol.Seq(1+i), frags[i])
		require.NoError(t, err)
		if i == 4 {
			assert.Equal(t, msg, got)
			assert.Equal(t, protocol.Seq(1), seq, "fragment 1's seq, not the duplicate's")
		}
	}
	assert.Zero(t, r.Held())
}

func TestReassemblerCountMismatch(t *testing.T) {
	var r protocol.Reassembler
	msg := testMessage(5000, 4)
	frags := fragments(t, 2, msg)
	for _, i := range []int{0, 1} {
		_, _, err := r.Add(t0, protocol.Seq(1+i), frags[i])
		require.NoError(t, err)
	}
	held, pending := r.Held(), r.Pending()
	for _, count := range []uint16{1, 4, 6, 8192} {
		got, seq, err := r.Add(t0, 99, fragBody(2, 1, count, []byte("zz")))
		assert.ErrorIs(t, err, protocol.ErrFragmentMismatch, "count %d", count)
		assert.Nil(t, got)
		assert.Zero(t, seq)
		assert.Equal(t, held, r.Held(), "count %d", count)
		assert.Equal(t, pending, r.Pending(), "count %d", count)
	}
	// the message still completes
	var got []byte
	for _, i := range []int{2, 3, 4} {
		var err error
		got, _, err = r.Add(t0, protocol.Seq(1+i), frags[i])
		require.NoError(t, err)
	}
	assert.Equal(t, msg, got)
}

func TestReassemblerInvalidFragment(t *testing.T) {
	var r protocol.Reassembler
	_, _, err := r.Add(t0, 1, fragBody(1, 1, 3, []byte("x")))
	require.NoError(t, err)
	held := r.Held()
	for _, body := range [][]byte{
		nil,
		{0, 1, 0, 1},
		fragBody(1, 0, 3, nil),
		fragBody(1, 4, 3, nil),
		fragBody(1, 1, 0, nil),
		fragBody(1, 1, 8193, nil),
	} {
		got, _, err := r.Add(t0, 2, body)
		assert.Error(t, err)
		assert.Nil(t, got)
		assert.Equal(t, held, r.Held())
		assert.Equal(t, 1, r.Pending())
	}
}

func TestReassemblerHugeCountStaysSmall(t *testing.T) {
	var r protocol.Reassembler
	_, _, err := r.Add(t0, 1, fragBody(1, 8192, 8192, bytes.Repeat([]byte{1}, 1024)))
	require.NoError(t, err)
	assert.Equal(t, 1, r.Pending())
	assert.Less(t, r.Held(), 4096, "bookkeeping must not grow with the claimed count")

	// many ids each claiming 8192 fragments, one tiny fragment each
	r.MaxPartial = 1000
	for id := protocol.Seq(2); id < 200; id++ {
		_, _, err := r.Add(t0, id, fragBody(id, 4000, 8192, []byte{1}))
		require.NoError(t, err)
	}
	assert.Equal(t, 199, r.Pending())
	assert.Less(t, r.Held(), 199*4096)

	allocs := testing.AllocsPerRun(20, func() {
		var r protocol.Reassembler
		_, _, _ = r.Add(t0, 1, fragBody(1, 8192, 8192, []byte{1}))
	})
	assert.Less(t, allocs, 20.0)
}

func TestReassemblerCapsPartialMessages(t *testing.T) {
	var r protocol.Reassembler
	for id := protocol.Seq(1); id <= protocol.DefaultMaxPartial; id++ {
		_, _, err := r.Add(t0, id, fragBody(id, 1, 2, []byte{1}))
		require.NoError(t, err)
	}
	held := r.Held()
	// a new message is refused, and refusing it allocates nothing
	body := fragBody(1000, 1, 2, []byte{1})
	allocs := testing.AllocsPerRun(100, func() {
		_, _, err := r.Add(t0, 1000, body)
		require.ErrorIs(t, err, protocol.ErrTooManyPartial)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, protocol.DefaultMaxPartial, r.Pending())
	assert.Equal(t, held, r.Held())
	// the messages already started still complete
	got, _, err := r.Add(t0, 5, fragBody(5, 2, 2, []byte{2}))
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2}, got)
	_, _, err = r.Add(t0, 1000, body)
	require.NoError(t, err, "completing a message freed a slot")
	// and expired ones make room
	later := t0.Add(protocol.DefaultFragmentIdle + time.Second)
	_, _, err = r.Add(later, 1001, fragBody(1001, 1, 2, []byte{1}))
	require.NoError(t, err)
	assert.Equal(t, 1, r.Pending())
}

// budget is a Budget of a fixed size that records what it lent.
type budget struct{ left, lent int }

func (b *budget) Reserve(n int) bool {
	if n > b.left {
		return false
	}
	b.left -= n
	b.lent += n
	return true
}

func (b *budget) Release(n int) { b.left += n; b.lent -= n }

func TestReassemblerBorrowsFromTheBudget(t *testing.T) {
	b := &budget{left: 5000}
	r := protocol.Reassembler{Budget: b}
	_, _, err := r.Add(t0, 1, fragBody(1, 1, 3, make([]byte, 1024)))
	require.NoError(t, err)
	assert.Equal(t, r.Held(), b.lent, "every byte held is lent by the budget")
	_, _, err = r.Add(t0, 2, fragBody(1, 2, 3, make([]byte, 1024)))
	require.NoError(t, err)
	assert.Equal(t, r.Held(), b.lent)
	_, _, err = r.Add(t0, 3, fragBody(2, 1, 3, make([]byte, 4000)))
	require.ErrorIs(t, err, protocol.ErrReassemblyFull, "the budget refused")
	assert.Equal(t, r.Held(), b.lent)
	msg, _, err := r.Add(t0, 4, fragBody(1, 3, 3, make([]byte, 10)))
	require.NoError(t, err)
	assert.Len(t, msg, 2058)
	assert.Zero(t, b.lent, "a completed message gives its memory back")
	_, _, err = r.Add(t0, 5, fragBody(3, 1, 3, make([]byte, 1024)))
	require.NoError(t, err)
	r.Reset()
	assert.Zero(t, b.lent, "so does Reset")
}

func TestReassemblerLimit(t *testing.T) {
	const limit = 16 << 10
	r := protocol.Reassembler{Limit: limit, Idle: time.Hour}
	full := 0
	for id := protocol.Seq(1); id < 100; id++ {
		held, pending := r.Held(), r.Pending()
		_, _, err := r.Add(t0, id, fragBody(id, 1, 3, make([]byte, 1024)))
		require.LessOrEqual(t, r.Held(), limit)
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrReassemblyFull)
			require.Equal(t, held, r.Held(), "rejected fragments change nothing")
			require.Equal(t, pending, r.Pending())
			full++
		}
	}
	require.Positive(t, full)
	assert.Greater(t, r.Held(), limit-2048, "the limit is used, not undershot by much")

	// adding to an existing partial message is also limited
	for id := protocol.Seq(1); id < 100; id++ {
		_, _, err := r.Add(t0, id, fragBody(id, 2, 3, make([]byte, 1024)))
		if err != nil {
			require.ErrorIs(t, err, protocol.ErrReassemblyFull)
		}
		require.LessOrEqual(t, r.Held(), limit)
	}

	// expired state makes room: Add expires before giving up
	later := t0.Add(3 * time.Second) // > 1 s + 0.5 s * 3
	_, _, err := r.Add(later, 500, fragBody(500, 1, 3, make([]byte, 1024)))
	require.NoError(t, err)
	assert.Equal(t, 1, r.Pending())
	assert.LessOrEqual(t, r.Held(), limit)
}

func TestReassemblerLimitSmallerThanAFragment(t *testing.T) {
	r := protocol.Reassembler{Limit: 100}
	_, _, err := r.Add(t0, 1, fragBody(1, 1, 2, make([]byte, 200)))
	assert.ErrorIs(t, err, protocol.ErrReassemblyFull)
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Pending())
	// a single-fragment message is not held, so the limit does not apply
	got, _, err := r.Add(t0, 2, fragBody(2, 1, 1, make([]byte, 200)))
	require.NoError(t, err)
	assert.Len(t, got, 200)
}

func TestReassemblerMaxMessage(t *testing.T) {
	r := protocol.Reassembler{MaxMessage: 2000}
	_, _, err := r.Add(t0, 1, fragBody(1, 1, 3, make([]byte, 1024)))
	require.NoError(t, err)
	held := r.Held()
	_, _, err = r.Add(t0, 2, fragBody(1, 2, 3, make([]byte, 1024)))
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	assert.Equal(t, held, r.Held())
	// smaller pieces that stay under the cap are fine
	_, _, err = r.Add(t0, 2, fragBody(1, 2, 3, make([]byte, 900)))
	require.NoError(t, err)
	got, _, err := r.Add(t0, 3, fragBody(1, 3, 3, make([]byte, 76)))
	require.NoError(t, err)
	assert.Len(t, got, 2000)

	// a single fragment larger than the cap
	_, _, err = r.Add(t0, 4, fragBody(2, 1, 2, make([]byte, 2001)))
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	_, _, err = r.Add(t0, 5, fragBody(3, 1, 1, make([]byte, 2001)))
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Held())

	// the default cap is MaxMessageSize
	var d protocol.Reassembler
	_, _, err = d.Add(t0, 1, fragBody(1, 1, 1, make([]byte, protocol.MaxMessageSize+1)))
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
}

func TestReassemblerMaxAgeExpiry(t *testing.T) {
	for _, count := range []uint16{2, 3, 5, 40} {
		t.Run(strconv.Itoa(int(count)), func(t *testing.T) {
			maxAge := time.Second + time.Duration(count)*500*time.Millisecond
			r := protocol.Reassembler{Idle: time.Hour}
			_, _, err := r.Add(t0, 1, fragBody(7, count, count, []byte("a")))
			require.NoError(t, err)
			if count > 2 {
				// progress does not extend the max age
				_, _, err = r.Add(t0.Add(maxAge-time.Millisecond), 2, fragBody(7, 1, count, []byte("b")))
				require.NoError(t, err)
			}
			assert.Zero(t, r.Expire(t0.Add(maxAge)), "not expired at exactly max age")
			assert.Equal(t, 1, r.Pending())
			assert.Equal(t, 1, r.Expire(t0.Add(maxAge+time.Nanosecond)))
			assert.Zero(t, r.Pending())
			assert.Zero(t, r.Held())
		})
	}
}

func TestReassemblerExpiredPartialRestarts(t *testing.T) {
	r := protocol.Reassembler{}
	_, _, err := r.Add(t0, 1, fragBody(7, 1, 2, []byte("a")))
	require.NoError(t, err)
	late := t0.Add(2*time.Second + time.Nanosecond) // 1 s + 0.5 s * 2 passed
	got, _, err := r.Add(late, 2, fragBody(7, 2, 2, []byte("b")))
	require.NoError(t, err)
	assert.Nil(t, got, "the old fragment 1 expired, so nothing completes")
	assert.Equal(t, 1, r.Pending())
	// a count mismatch against an expired partial is not a mismatch
	r2 := protocol.Reassembler{}
	_, _, err = r2.Add(t0, 1, fragBody(7, 1, 2, []byte("a")))
	require.NoError(t, err)
	got, _, err = r2.Add(late, 2, fragBody(7, 1, 1, []byte("new")))
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), got)
	assert.Zero(t, r2.Pending())
	assert.Zero(t, r2.Held())
}

func TestReassemblerIdleExpiry(t *testing.T) {
	r := protocol.Reassembler{Idle: 100 * time.Millisecond}
	// count 100: max age 51 s, so only Idle can expire it
	_, _, err := r.Add(t0, 1, fragBody(1, 1, 100, []byte("a")))
	require.NoError(t, err)
	step := t0.Add(90 * time.Millisecond)
	_, _, err = r.Add(step, 2, fragBody(1, 2, 100, []byte("b")))
	require.NoError(t, err)
	assert.Zero(t, r.Expire(step.Add(100*time.Millisecond)), "idle counts from the last fragment")
	assert.Equal(t, 1, r.Expire(step.Add(100*time.Millisecond+time.Nanosecond)))
	assert.Zero(t, r.Held())

	// the default idle time is 5 s
	var d protocol.Reassembler
	_, _, err = d.Add(t0, 1, fragBody(1, 1, 100, []byte("a")))
	require.NoError(t, err)
	assert.Zero(t, d.Expire(t0.Add(protocol.DefaultFragmentIdle)))
	assert.Equal(t, 1, d.Expire(t0.Add(protocol.DefaultFragmentIdle+time.Nanosecond)))
}

func TestReassemblerExpireCount(t *testing.T) {
	r := protocol.Reassembler{Idle: time.Hour}
	for id := protocol.Seq(1); id <= 10; id++ {
		// ids 1..5 have count 2 (max age 2 s), ids 6..10 count 20 (11 s)
		count := uint16(2)
		if id > 5 {
			count = 20
		}
		_, _, err := r.Add(t0, id, fragBody(id, 1, count, []byte("x")))
		require.NoError(t, err)
	}
	require.Equal(t, 10, r.Pending())
	assert.Zero(t, r.Expire(t0.Add(time.Second)))
	assert.Equal(t, 5, r.Expire(t0.Add(3*time.Second)))
	assert.Equal(t, 5, r.Pending())
	assert.Zero(t, r.Expire(t0.Add(3*time.Second)))
	assert.Equal(t, 5, r.Expire(t0.Add(12*time.Second)))
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Held())
	assert.Zero(t, r.Expire(t0.Add(time.Hour)))
}

func TestReassemblerReset(t *testing.T) {
	var r protocol.Reassembler
	r.Reset() // zero value
	for id := protocol.Seq(1); id <= 3; id++ {
		_, _, err := r.Add(t0, id, fragBody(id, 1, 2, []byte("x")))
		require.NoError(t, err)
	}
	require.Equal(t, 3, r.Pending())
	r.Reset()
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Held())
	// usable again, and fragment 2 of an old message no longer completes it
	got, _, err := r.Add(t0, 9, fragBody(1, 2, 2, []byte("y")))
	require.NoError(t, err)
	assert.Nil(t, got)
}

func TestReassemblerRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	const limit = 64 << 10
	r := protocol.Reassembler{Limit: limit}
	type pending struct {
		msg   []byte
		frags [][]byte
		order []int
		sent  []int
	}
	live := map[protocol.Seq]*pending{}
	nextID := protocol.Seq(0)
	delivered := 0
	now := t0
	for step := 0; step < 5000; step++ {
		now = now.Add(time.Millisecond)
		if len(live) < 4 {
			nextID = nextID.Next()
			msg := testMessage(1433+rng.IntN(8000), byte(nextID))
			f := fragments(t, nextID, msg)
			live[nextID] = &pending{msg: msg, frags: f, order: rng.Perm(len(f))}
		}
		ids := make([]protocol.Seq, 0, len(live))
		for id := range live {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		id := ids[rng.IntN(len(ids))]
		p := live[id]
		i, dup := p.order[0], false
		if len(p.sent) > 0 && rng.IntN(10) == 0 {
			i, dup = p.sent[rng.IntN(len(p.sent))], true
		} else {
			p.order = p.order[1:]
			p.sent = append(p.sent, i)
		}
		got, _, err := r.Add(now, protocol.Seq(step+1), p.frags[i])
		require.LessOrEqual(t, r.Held(), limit)
		if dup {
			require.ErrorIs(t, err, protocol.ErrDuplicateFragment)
			require.Nil(t, got)
		} else {
			require.NoError(t, err)
		}
		if got != nil {
			require.Equal(t, p.msg, got)
			require.Empty(t, p.order)
			delete(live, id)
			delivered++
		}
	}
	assert.Greater(t, delivered, 100)
}

// TestReassemblerChargesWhatItHolds: what a reassembler counts as held is
// at least the memory its partial messages really take, the allocator's
// rounding included, so that limits and budgets mean what they say.
func TestReassemblerChargesWhatItHolds(t *testing.T) {
	for _, size := range []int{1, 100, 769, 897, 1024, 1025, 1409} {
		var r protocol.Reassembler
		bodies := make([][]byte, 2000)
		for i := range bodies {
			bodies[i] = fragBody(1, uint16(i+1), 8192, make([]byte, size))
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, b := range bodies {
			_, _, err := r.Add(t0, 1, b)
			require.NoError(t, err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		grown := int(after.HeapAlloc) - int(before.HeapAlloc)
		assert.GreaterOrEqual(t, r.Held(), grown*97/100, "%d-byte fragments: held %d, heap grew %d", size, r.Held(), grown)
		assert.LessOrEqual(t, r.Held(), grown*3+4096, "%d-byte fragments: not charged far more than they take", size)
		runtime.KeepAlive(&r)
		runtime.KeepAlive(bodies)
	}
}
