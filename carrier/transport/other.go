//go:build !linux

package transport

import "net"

// Listen opens a UDP socket bound to addr ("host:port"; "[::]:port"
// listens on IPv6 and, where the system allows, IPv4 too). Off Linux it is
// always the portable socket.
func Listen(addr string, cfg Config) (Conn, error) { return listenPortable(addr, cfg) }

// Dial opens a UDP socket connected to addr, on a port of its own: it
// reads only datagrams from addr, and writes go there whatever their
// Addr.
func Dial(addr string, cfg Config) (Conn, error) { return dialPortable(addr, cfg) }

func bufferSizes(*net.UDPConn) (rcv, snd int) { return 0, 0 }
