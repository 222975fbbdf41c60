package server

import "time"

// A WorldReporter is a handler that tells monitors about its world: what
// its replication sends each client and a top-down map (a game on
// package replicate reports its Replicator's figures). The server asks
// once a second, on the event goroutine, as it publishes its snapshot, so
// a reporter reads its state without locks. Positions are player data:
// the admin API shows them only with a token, as it does addresses.
type WorldReporter interface {
	// ReportPeer fills what the game replicates to client p, and reports
	// whether it knows the client.
	ReportPeer(p *Peer, w *PeerWorld) bool
	// ReportWorld fills the map. Append at most MaxWorldPoints points,
	// reusing m.Points.
	ReportWorld(m *WorldMap)
}

// PeerWorld is what a game's replication sends one client.
type PeerWorld struct {
	// Reported is set when the game reported on this client.
	Reported bool
	// InView is the entities the client is told of; Waiting those whose
	// change waits for room in a snapshot, OldestWait the longest wait.
	InView, Waiting int
	OldestWait      time.Duration
	// Bytes is the size of the last snapshot, datagram overhead
	// included, and Budget the most one may take.
	Bytes, Budget int
	// Memory is what the game holds for the client, in bytes.
	Memory int
	// X, Y, HalfW, HalfH is the client's view area in world units.
	X, Y, HalfW, HalfH float64
}

// WorldMap is a top-down map of a game's world.
type WorldMap struct {
	// MinX, MinY, MaxX, MaxY bound the world; all zero when the game
	// reports no world.
	MinX, MinY, MaxX, MaxY float64
	// Kinds names the kinds of points, by their Kind.
	Kinds []string
	// Points are the entities, or a sample of them (at most
	// MaxWorldPoints).
	Points []WorldPoint
}

// WorldPoint is an entity on a WorldMap.
type WorldPoint struct {
	X, Y float32
	Kind uint8
}

// MaxWorldPoints bounds the points of a WorldMap.
const MaxWorldPoints = 8192

func (m *WorldMap) copyTo(dst *WorldMap) {
	points, kinds := dst.Points[:0], dst.Kinds[:0]
	*dst = *m
	dst.Points = append(points, m.Points...)
	dst.Kinds = append(kinds, m.Kinds...)
}
