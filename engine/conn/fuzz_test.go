package conn

import (
	"errors"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/engine/internal/vectors"
	"github.com/mpgs/mpgameserver/engine/protocol"
)

// fuzzReceive feeds arbitrary datagrams to a connected Conn of the given
// role (keyed like the reference session, so the vector datagrams seed
// valid inputs). Invariants: no panic; a rejected datagram changes nothing
// and is counted; the reassembler stays within its limit.
func fuzzReceive(f *testing.F, role Role) {
	sess := vectors.MustLoad[vectors.Session]("session.json")
	want := "to_server"
	if role == RoleClient {
		want = "to_client"
	}
	for _, st := range sess.Steps {
		if st.Direction == want {
			f.Add([]byte(st.Datagram))
		}
	}
	f.Add([]byte("FSOS"))
	now := time.Unix(1_700_000_000, 0)
	r := newReplay(f)
	f.Fuzz(func(t *testing.T, d []byte) {
		client, server := handshakeWith(t, r, now)
		c := server
		if role == RoleClient {
			c = client
		}
		c.SetHandler(func(_ protocol.Seq, msg []byte) { _ = append([]byte(nil), msg...) })
		before := fingerprint(c)
		drops := c.stats.Dropped
		err := c.Receive(now.Add(time.Second), d)
		switch {
		case err == nil, errors.Is(err, ErrBadMessage):
		default:
			if c.stats.Dropped != drops+1 {
				t.Fatalf("rejected datagram not counted: %v", err)
			}
			if after := fingerprint(c); after != before {
				t.Fatalf("rejected datagram (%v) changed state:\n%s\n%s", err, before, after)
			}
		}
		if c.reasm.Held() > c.cfg.MaxReassemblyBytes {
			t.Fatalf("reassembly holds %d bytes", c.reasm.Held())
		}
		c.Poll(now.Add(2*time.Second), nil)
	})
}

func FuzzServerReceive(f *testing.F) { fuzzReceive(f, RoleServer) }

func FuzzClientReceive(f *testing.F) { fuzzReceive(f, RoleClient) }
