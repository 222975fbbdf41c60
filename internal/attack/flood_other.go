//go:build !linux

package attack

import "net/netip"

// floodSupported: forging a source address per datagram needs Linux's
// IP_PKTINFO.
const floodSupported = false

// floodSocket cannot exist off Linux.
type floodSocket struct{}

func newFloodSocket(server netip.AddrPort) (*floodSocket, error) { return nil, CheckFlood(server) }

func (*floodSocket) send(dgs [][]byte, _ [][4]byte) (sent, errs int) { return 0, len(dgs) }

func (*floodSocket) drain() uint64 { return 0 }

func (*floodSocket) close() {}
