package dtlsrec

import (
	"bytes"
	"testing"

	"github.com/mpgs/mpgameserver/internal/allocs"
)

// FuzzOpen feeds Open whatever a peer or an attacker could send: it must
// not panic, must not allocate, and each call must consume at least a
// record header or end the datagram (rest nil, with an error), so that a
// caller's loop over rest ends after at most len/13+1 calls.
func FuzzOpen(f *testing.F) {
	se, ce := fakeExport(f, 0xc02b)
	client, err := newConn(ce)
	if err != nil {
		f.Fatal(err)
	}
	seal := func(m string) []byte {
		r, err := client.Seal(nil, []byte(m))
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	alert, _ := client.SealAlert(nil, AlertWarning, AlertCloseNotify)
	one, two := seal("hello"), seal("world, a little longer")
	clear := []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 1, 2}
	f.Add(one)
	f.Add(alert)
	f.Add(bytes.Join([][]byte{one, two, clear, alert}, nil))
	f.Add(bytes.Join([][]byte{two, two}, nil)) // the second is a replay
	f.Add(clear)
	f.Add(one[:len(one)-1])
	f.Add(one[:headerLen])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0}, 10))

	f.Fuzz(func(t *testing.T, in []byte) {
		server, err := newConn(se)
		if err != nil {
			t.Fatal(err)
		}
		d := bytes.Clone(in) // Open decrypts in place
		var calls, bad int
		cost := allocs.Once(func() {
			for len(d) > 0 {
				_, _, rest, err := server.Open(d)
				calls++
				switch {
				case rest == nil:
					if err == nil {
						bad++ // only an error may end the datagram early
					}
				case len(d)-len(rest) < headerLen:
					bad++ // must consume a header at least
				case len(rest) > 0 && &rest[len(rest)-1] != &d[len(d)-1]:
					bad++ // rest must be the datagram's tail
				}
				d = rest
			}
		})
		if bad > 0 {
			t.Fatalf("%d calls broke Open's contract on % x", bad, in)
		}
		if calls > len(in)/headerLen+1 {
			t.Fatalf("%d calls for %d bytes", calls, len(in))
		}
		if cost.Mallocs != 0 {
			t.Fatalf("Open allocated: %v", cost)
		}
	})
}
