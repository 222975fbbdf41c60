package session

import (
	"fmt"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Role says which end of the handshake a connection plays.
type Role uint8

// Roles.
const (
	RoleClient Role = 1
	RoleServer Role = 2
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// A rejection is an error made once and returned as it is, wrapping a
// class of the first group above and its cause, so that refusing a
// datagram allocates nothing however often a peer makes it happen.
type rejection struct{ errs [2]error } // the class, the cause

func (r *rejection) Error() string { return r.errs[0].Error() + ": " + r.errs[1].Error() }

// Unwrap returns the class and the cause (a view of r: no allocation,
// even for errors.Is).
func (r *rejection) Unwrap() []error { return r.errs[:] }

// The header errors Receive returns, one per cause.
var headerRejections = [...]*rejection{
	{[2]error{conn.ErrBadHeader, protocol.ErrShortHeader}},
	{[2]error{conn.ErrBadHeader, protocol.ErrBadMagic}},
	{[2]error{conn.ErrBadHeader, protocol.ErrDirection}},
	{[2]error{conn.ErrBadHeader, protocol.ErrPacketType}},
	{[2]error{conn.ErrBadHeader, protocol.ErrShortPayload}},
}

// headerRejection returns the rejection for a header error.
func headerRejection(cause error) error {
	for _, r := range headerRejections {
		if r.errs[1] == cause {
			return r
		}
	}
	return conn.ErrBadHeader
}

// errBudgetSpent: the shared Budget is spent.
var errBudgetSpent = fmt.Errorf("%w: the shared memory budget is spent", conn.ErrQueueFull)

// drop counts one rejected datagram.
func drop(s *conn.Stats, counter *uint64) {
	*counter++
	s.Dropped++
}
