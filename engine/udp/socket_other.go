//go:build !linux

package udp

import (
	"errors"
	"net"
	"net/netip"
)

// A Socket is a UDP socket taken out of Go's network poller; only Linux
// has them (Detach fails elsewhere).
type Socket struct{}

// Detach fails: read and write the *net.UDPConn instead.
func Detach(uc *net.UDPConn) (*Socket, error) { return nil, errors.ErrUnsupported }

// LocalAddr returns the address the socket is bound to.
func (s *Socket) LocalAddr() netip.AddrPort { return netip.AddrPort{} }

// Close closes the socket.
func (s *Socket) Close() error { return errors.ErrUnsupported }

func (s *Socket) raw() (rawConn, bool) { return nil, false }

// Control fails: there are no Sockets here.
func (s *Socket) Control(func(fd uintptr)) error { return errors.ErrUnsupported }
