// Package crashtest runs servers that can crash, for tests of what their
// clients do then: a server on a loopback socket that, crashed, stops as a
// killed process does for its clients (nothing it says on its way out, its
// DISCONNECTs, leaves the socket), so that a test can start another on the
// same address and key.
package crashtest

import (
	"sync/atomic"
	"testing"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/server"
)

// muted is a socket that sends nothing once mute is set.
type muted struct {
	transport.Conn
	mute atomic.Bool
}

func (m *muted) WriteBatch(ds []transport.Datagram) (int, error) {
	if m.mute.Load() {
		return len(ds), nil
	}
	return m.Conn.WriteBatch(ds)
}

func (m *muted) Unwrap() transport.Conn { return m.Conn }

// Server is a running server that can crash.
type Server struct {
	*server.Server
	sock *muted
}

// Start runs a server of cfg on addr ("127.0.0.1:0" for any port) until
// the test ends.
func Start(t testing.TB, cfg server.Config, addr string) *Server {
	t.Helper()
	c, err := transport.Listen(addr, transport.Config{})
	if err != nil {
		t.Fatalf("crashtest: listen on %s: %v", addr, err)
	}
	s := &Server{sock: &muted{Conn: c}}
	s.Server, err = server.NewWithConn(cfg, s.sock)
	if err != nil {
		c.Close()
		t.Fatalf("crashtest: %v", err)
	}
	go s.Run()
	t.Cleanup(s.stop)
	return s
}

// Crash stops the server as a crash would for its clients.
func (s *Server) Crash() {
	s.sock.mute.Store(true)
	s.stop()
}

// Stop stops the server gracefully: its clients are told.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() {
	s.Server.Stop()
	<-s.Done()
}
