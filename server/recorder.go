package server

import (
	"net/netip"
	"time"
)

// Recorder is told, in order, every event a server gives its handler
// (Config.Recorder): the flight recorder of `mpgameserver serve --record`
// implements it. A handler that is deterministic given its events can be
// run again from them (a replay). Events that do not go through the
// handler's methods (functions given to Post) are not told.
//
// Its methods are called on the handler's goroutine, just before the
// handler's own, and must not block: a recorder that writes to disk
// hands the bytes to a goroutine of its own.
type Recorder interface {
	// Tick: the handler's Update is called with delta, the server's tick
	// number tick (the messages since the last Tick are this tick's).
	Tick(now time.Time, tick uint64, delta time.Duration)
	// Connect: client peer (its session token) connected from addr.
	Connect(now time.Time, peer uint32, addr netip.AddrPort)
	// Disconnect: client peer left, for reason.
	Disconnect(now time.Time, peer uint32, reason DisconnectReason)
	// Message: client peer sent data (valid during the call only).
	Message(now time.Time, peer uint32, data []byte)
	// Checksum: after the handler's Update of tick, a Checksummer
	// handler's world checksum.
	Checksum(now time.Time, tick, sum uint64)
}

// Checksummer is the optional side of an EventHandler whose world can be
// digested: after each Update, the server gives its Recorder the
// handler's Checksum, and a replay of the recording compares its own.
type Checksummer interface {
	Checksum() uint64
}

// SnapshotRecorder is the optional side of a Recorder that also keeps
// the monitor's view of the server: once a second, just after the server
// published its snapshot (Server.Snapshot), it is given that snapshot on
// the event goroutine, before the tick's messages. snap is valid during
// the call only (copy it with CopyTo), and the call must be quick: it is
// in the tick's time. A recorder that encodes it does so elsewhere.
type SnapshotRecorder interface {
	RecordSnapshot(now time.Time, snap *Snapshot)
}

// DisconnectReason is why a client left, as a Recorder is told.
type DisconnectReason = uint8

// The reasons a client leaves.
const (
	LeftOther        DisconnectReason = iota // over budget, out of window, a failure
	LeftTimedOut                             // silent too long
	LeftClientClosed                         // the client disconnected
	LeftServerClosed                         // the server closed it (Disconnect, Stop)
)
