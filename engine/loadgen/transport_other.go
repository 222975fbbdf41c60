//go:build !linux

package loadgen

import "net/netip"

func newTransport(cfg *Config, n int) (transport, error) { return newNetTransport(n), nil }

// autoSockets: one socket per client, each read by a goroutine, is the
// only way elsewhere than Linux.
func autoSockets(netip.AddrPort) Sockets { return SocketsPortable }
