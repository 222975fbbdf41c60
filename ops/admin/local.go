package admin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/server"
)

// Version is the version of the Document's JSON form; a monitor refuses
// a document of another.
const Version = 1

// Document is what a monitor shows of a server.
type Document struct {
	Version  int             `json:"version"`
	Snapshot server.Snapshot `json:"snapshot"`
	// Logs are the server's latest warnings and errors, oldest first.
	Logs []LogLine `json:"logs"`
	// Network is the simulated network applied to the server's clients.
	Network Network `json:"network"`
	// Actions tells whether the server takes actions (it has an admin
	// token). A Document read with the read token says false: that token
	// takes none.
	Actions bool `json:"actions"`
	// Redacted is true in a Document read without a token: it names no
	// client (Snapshot.Peers and Network.Clients are empty) and carries
	// no log lines. See Redact.
	Redacted bool `json:"redacted"`
}

// Redact removes from d everything that names a client or may quote one:
// the snapshot's per-client rows (addresses, tokens), the conditions of
// single clients (by token), and the log lines (they name clients, and
// carry panic stacks). The server's counters, per-second figures and the
// conditions applied to all stay. It sets Redacted.
func (d *Document) Redact() {
	d.Snapshot.Peers = nil
	// Where the game's entities (its players among them) are is player
	// data too; the world's size stays.
	d.Snapshot.World.Points = nil
	d.Logs = []LogLine{}
	d.Network.Clients = nil
	d.Redacted = true
}

// Conditions is a simulated network, the same each way: every datagram
// to and from the clients it applies to is lost, duplicated, delayed and
// reordered by it (carrier/netsim). The zero Conditions is a perfect link.
type Conditions struct {
	Loss      float64       `json:"loss"`      // probability, 0-1
	Duplicate float64       `json:"duplicate"` // probability, 0-1
	Latency   time.Duration `json:"latency"`   // one way
	Jitter    time.Duration `json:"jitter"`
	Reorder   float64       `json:"reorder"` // probability that a datagram is held back
}

// Off reports whether c is a perfect link.
func (c Conditions) Off() bool { return c == Conditions{} }

// Valid returns an error when c is out of range.
func (c Conditions) Valid() error {
	for _, p := range []float64{c.Loss, c.Duplicate, c.Reorder} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("admin: probabilities are 0 to 1, not %g", p)
		}
	}
	if c.Latency < 0 || c.Jitter < 0 || c.Latency > 10*time.Second || c.Jitter > 10*time.Second {
		return errors.New("admin: latency and jitter are 0 to 10 s")
	}
	return nil
}

func (c Conditions) profile() netsim.Profile {
	p := netsim.Profile{Loss: c.Loss, Duplicate: c.Duplicate, Delay: c.Latency, Jitter: c.Jitter, Reorder: c.Reorder}
	if c.Reorder > 0 {
		p.ReorderDelay = 3*c.Jitter + 20*time.Millisecond
	}
	return p
}

// Network is the simulated network of a server.
type Network struct {
	// Available is false when the server was not started on a simulated
	// network (serve --netsim): conditions cannot be applied.
	Available bool `json:"available"`
	// All applies to every client without conditions of its own.
	All Conditions `json:"all"`
	// Clients are the clients with conditions of their own, by token.
	Clients map[uint32]Conditions `json:"clients,omitempty"`
}

// Errors of the actions.
var (
	ErrNoClient  = errors.New("admin: no connected client has that token")
	ErrNoNetwork = errors.New("admin: the server does not run on a simulated network (start it with --netsim)")
	ErrDenied    = errors.New("admin: refused: the token is missing or wrong")
	ErrNoActions = errors.New("admin: the server takes no actions (it was started without --admin-token)")
	ErrReadOnly  = errors.New("admin: refused: the read token only reads; actions need the admin token")
)

// Local is a server in this process as a monitor sees it: its snapshot,
// the tail of its log, and the actions. Its methods may be called from
// any goroutine.
type Local struct {
	srv  *server.Server
	tail *LogTail
	sim  *netsim.Conn

	mu      sync.Mutex
	network Network
	addrs   map[uint32]netip.AddrPort // clients with conditions of their own
}

// NewLocal returns srv as a monitor sees it. tail (may be nil) is the
// LogTail among its logger's handlers; sim (may be nil) is the simulated
// network its socket is wrapped in, without which conditions cannot be
// applied.
func NewLocal(srv *server.Server, tail *LogTail, sim *netsim.Conn) *Local {
	return &Local{srv: srv, tail: tail, sim: sim, network: Network{Available: sim != nil}, addrs: map[uint32]netip.AddrPort{}}
}

// Server returns the server.
func (l *Local) Server() *server.Server { return l.srv }

// Snapshot copies the server's latest published snapshot into dst.
func (l *Local) Snapshot(dst *server.Snapshot) { l.srv.Snapshot(dst) }

// SnapshotVersion changes each time a new snapshot is published.
func (l *Local) SnapshotVersion() uint64 { return l.srv.SnapshotVersion() }

// Logs returns the latest warnings and errors, oldest first.
func (l *Local) Logs() []LogLine {
	if l.tail == nil {
		return nil
	}
	return l.tail.Lines()
}

// Network returns the simulated network's conditions.
func (l *Local) Network() Network {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.network
	n.Clients = make(map[uint32]Conditions, len(l.network.Clients))
	for k, v := range l.network.Clients {
		n.Clients[k] = v
	}
	return n
}

// Actions reports true: a server in this process takes every action.
func (l *Local) Actions() bool { return true }

// Document returns everything a monitor shows, with actions as given.
func (l *Local) Document(actions bool) *Document {
	d := &Document{Version: Version, Logs: l.Logs(), Network: l.Network(), Actions: actions}
	l.Snapshot(&d.Snapshot)
	return d
}

// eventWait bounds how long an action waits for the event goroutine.
const eventWait = 3 * time.Second

// onEvent runs fn on the server's event goroutine and waits for it, for
// ctx, or at most eventWait (a server that is not running, or stuck).
func (l *Local) onEvent(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	l.srv.Post(func() { fn(); close(done) })
	t := time.NewTimer(eventWait)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-l.srv.Done():
		return errors.New("admin: the server stopped")
	case <-t.C:
		return fmt.Errorf("admin: the server's event loop did not run the action within %v: is it running, or stuck?", eventWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Disconnect disconnects the client of token: it is told, and the game's
// Disconnect event runs.
func (l *Local) Disconnect(ctx context.Context, token uint32) error {
	found := false
	if err := l.onEvent(ctx, func() {
		if p := l.srv.Peer(token); p != nil {
			p.Disconnect()
			found = true
		}
	}); err != nil {
		return err
	}
	if !found {
		return ErrNoClient
	}
	return nil
}

// Block adds addr to the server's blocklist and disconnects its clients.
func (l *Local) Block(_ context.Context, addr netip.Addr) error {
	if !addr.IsValid() {
		return errors.New("admin: no address to block")
	}
	l.srv.Block(addr)
	return nil
}

// SetConditions applies c to the client of token, or to every client
// without conditions of its own when token is 0. Conditions of zero
// value on a client give it back the conditions of all.
func (l *Local) SetConditions(ctx context.Context, token uint32, c Conditions) error {
	if err := c.Valid(); err != nil {
		return err
	}
	if l.sim == nil {
		return ErrNoNetwork
	}
	if token == 0 {
		l.mu.Lock()
		l.network.All = c
		p := c.profile()
		l.sim.SetProfiles(p, p)
		l.mu.Unlock()
		return nil
	}
	var addr netip.AddrPort
	if err := l.onEvent(ctx, func() {
		if p := l.srv.Peer(token); p != nil {
			addr = p.Addr()
		}
	}); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !addr.IsValid() {
		// A client that left loses its conditions.
		if old, ok := l.addrs[token]; ok {
			l.sim.ClearPeerProfiles(old)
			delete(l.addrs, token)
			delete(l.network.Clients, token)
		}
		return ErrNoClient
	}
	if l.network.Clients == nil {
		l.network.Clients = map[uint32]Conditions{}
	}
	if c.Off() {
		l.sim.ClearPeerProfiles(addr)
		delete(l.addrs, token)
		delete(l.network.Clients, token)
		return nil
	}
	p := c.profile()
	l.sim.SetPeerProfiles(addr, p, p)
	l.addrs[token] = addr
	l.network.Clients[token] = c
	return nil
}
