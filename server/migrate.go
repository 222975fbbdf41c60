package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Migrator is the optional side of an EventHandler that is told when a
// client's session moved to another address: its NAT gave it a new port,
// or it switched networks (Wi-Fi to mobile). Its token, its queues, the
// messages awaiting acks and the game's state all stay; Peer.Addr returns
// the new address, from the old one. It runs on the event goroutine, like
// the other events.
type Migrator interface {
	Migrated(p *Peer, from netip.AddrPort)
}

// Migration's bounds, per session.
const (
	// amplification: what the server sends an address that has not
	// answered its challenge, at most, against what came from it.
	amplification = 3
	// New addresses a session may be challenged at: a burst, then one
	// every migrationEvery (a client whose address changes every 200 ms
	// keeps its session; a storm of addresses claiming it costs one
	// challenge each at that rate).
	migrationBurst = 10
	migrationEvery = 100 * time.Millisecond
)

// pathOf is a session's state of migration on the server: its ID, and
// once a datagram came from elsewhere, the move under way.
type pathOf struct {
	id   protocol.PathID
	has  bool       // the session has an ID (a UDP client; migration on)
	move *candidate // nil until a datagram names the session from another address
}

// candidate is an address a session may move to, being challenged.
type candidate struct {
	addr    netip.AddrPort // the address being challenged (zero: none)
	in, out int            // bytes from it, and sent to it, since it became the candidate
	rate    bucket         // new candidates
}

// bucket is a token bucket: up to burst tokens, one more every every.
type bucket struct {
	tokens   int
	refilled time.Time
}

func newBucket(burst int) bucket { return bucket{tokens: burst} }

// resetKey derives the secret of the stateless reset tokens from the root
// key: the same after a restart with the same key, and nothing an
// observer can compute.
func resetKey(root *conn.PrivateKey) [32]byte {
	m := hmac.New(sha256.New, root.Scalar())
	m.Write([]byte("mpgameserver stateless reset v1"))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// resetToken returns the stateless reset token of path ID id.
func (s *Server) resetToken(id protocol.PathID) protocol.ResetToken {
	m := hmac.New(sha256.New, s.resetKey[:])
	m.Write(id[:])
	var sum [32]byte
	var t protocol.ResetToken
	copy(t[:], m.Sum(sum[:0]))
	return t
}

// Stateless resets: at most resetBurst at once, then one every resetEvery,
// server-wide. Each is smaller than the datagram that called for it.
const (
	resetBurst = 64
	resetEvery = 10 * time.Millisecond
)

// statelessReset tells the client whose datagram named path ID id, which
// no session of this server has (the server restarted), that its session
// is gone: ResetSize bytes ending with the ID's token. Nothing is sent to
// an address whose datagram was not larger, nor beyond the server's rate.
func (s *Server) statelessReset(to netip.AddrPort, id protocol.PathID, size int) {
	if s.cfg.DisableMigration || size <= protocol.ResetSize || !s.resets.take(s.now) {
		return
	}
	var random [protocol.ResetSize - 4 - protocol.ResetTokenSize]byte
	if _, err := rand.Read(random[:]); err != nil {
		return
	}
	b := protocol.AppendReset(s.tx.Buffer(), random, s.resetToken(id))
	s.stats.ResetsSent++
	s.prof.sent(len(b))
	s.tx.Queue(b, to)
}

// assignPathID gives a new connection of a UDP client its path ID,
// unique among the server's sessions.
func (s *Server) assignPathID(p *Peer) {
	if s.cfg.DisableMigration || s.carrierOf(p.addr) != "udp" {
		return
	}
	for range 4 {
		var id protocol.PathID
		if _, err := rand.Read(id[:]); err != nil {
			return
		}
		if _, taken := s.byPathID[id]; !taken {
			p.path = pathOf{id: id, has: true}
			s.byPathID[id] = p
			p.conn.SetPathID(id, s.resetToken(id))
			return
		}
	}
}

// forgetPathID removes a leaving session's path ID.
func (s *Server) forgetPathID(p *Peer) {
	if p.path.has && s.byPathID[p.path.id] == p {
		delete(s.byPathID, p.path.id)
	}
}

// migrating handles a datagram from an address the server does not know
// that names a session by its path ID (its trailer). The datagram must be
// accepted by the session (authentic, not a replay): its messages are
// delivered as any other's. The address is then challenged, sending it at
// most amplification times what came from it, and the session moves to it
// when it answers from there (Conn.PathValidated). It reports whether the
// datagram went to a session.
func (s *Server) migrating(from netip.AddrPort, id protocol.PathID, b []byte) bool {
	p := s.byPathID[id]
	if p == nil {
		s.statelessReset(from, id, len(b))
		return false
	}
	if p.pending || p.gone || p.conn.Status() != conn.Connected || !p.conn.Migrates() {
		return false
	}
	if s.carrierOf(from) != "udp" {
		return false
	}
	start := time.Now()
	s.settle(start)
	if !s.admit(p) {
		return true
	}
	if p.path.move == nil {
		p.path.move = &candidate{rate: newBucket(migrationBurst)}
	}
	mv := p.path.move
	fresh := mv.addr != from
	if fresh && !mv.take(s.now) {
		s.stats.MigrationsRefused++ // a storm of addresses claiming it
		return true
	}
	p.conn.PathValidated() // only an answer in this datagram counts
	p.dgramStart, p.dgramMsgs = start, 0
	s.charging = p
	err := p.conn.Receive(s.now, b)
	s.touch(p)
	if err != nil && !errors.Is(err, conn.ErrBadMessage) {
		s.stats.MigrationsRefused++ // forged, or a copy of one it had
		if fresh {
			mv.give()
		}
		return true
	}
	if p.conn.AckNeeded() {
		s.queue(p, p.conn.PollAck(s.now, s.tx.Buffer()))
	}
	if p.conn.PathValidated() && !fresh {
		s.migrate(p, from)
		return true
	}
	if fresh {
		mv.addr, mv.in, mv.out = from, 0, 0
	}
	mv.in += len(b)
	if mv.out+challengeSize <= amplification*mv.in {
		if dg := p.conn.Challenge(s.now, s.tx.Buffer(), fresh); dg != nil {
			mv.out += len(dg)
			s.prof.sent(len(dg))
			s.tx.Queue(dg, from)
		}
	}
	return true
}

// challengeSize is a challenge datagram's size: header, one extension
// message with its sequence number, the tag.
const challengeSize = protocol.HeaderSize + 2 + 1 + protocol.PathIDSize + protocol.TagSize

// spend takes a token if there is one, refilling one every every up to
// burst first.
func (b *bucket) spend(now time.Time, burst int, every time.Duration) bool {
	if b.refilled.IsZero() {
		b.refilled = now
	}
	if n := now.Sub(b.refilled) / every; n > 0 {
		b.tokens = int(min(int64(burst), int64(b.tokens)+int64(n)))
		b.refilled = b.refilled.Add(n * every)
	}
	if b.tokens == 0 {
		return false
	}
	b.tokens--
	return true
}

// take spends one of the session's new candidates.
func (c *candidate) take(now time.Time) bool {
	return c.rate.spend(now, migrationBurst, migrationEvery)
}

// give returns a candidate's token that was not used.
func (c *candidate) give() { c.rate.tokens = min(migrationBurst, c.rate.tokens+1) }

// resetRate is the server's bucket of stateless resets.
type resetRate struct{ bucket }

func (r *resetRate) take(now time.Time) bool { return r.spend(now, resetBurst, resetEvery) }

// migrate moves session p to address to, which answered its challenge.
func (s *Server) migrate(p *Peer, to netip.AddrPort) {
	from := p.addr
	if to.Addr() != from.Addr() && s.hosts.full(to) {
		s.stats.HostLimited++
		s.stats.MigrationsRefused++
		return
	}
	if q := s.byAddr.get(to); q != nil {
		return // another session took the address meanwhile
	}
	s.byAddr.delete(from)
	s.hosts.add(from, false, -1)
	p.addr = to
	s.byAddr.set(to, p)
	s.hosts.add(to, false, 1)
	p.path.move.addr, p.path.move.in, p.path.move.out = netip.AddrPort{}, 0, 0
	s.stats.Migrations++
	if l, separate := s.access(); separate {
		l.Info("migrate", "client", to.String(), "from", from.String(), "token", p.Token())
	} else {
		p.log.Debug("client moved", "to", to.String(), "from", from.String())
	}
	if m, ok := s.cfg.Handler.(Migrator); ok {
		s.callMigrated(m, p, from)
	}
}

func (s *Server) callMigrated(m Migrator, p *Peer, from netip.AddrPort) {
	defer s.recovered(p, "Migrated")
	m.Migrated(p, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
}
