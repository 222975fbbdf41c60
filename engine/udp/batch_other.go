//go:build !linux

package udp

import (
	"errors"
	"net"
)

// Elsewhere than Linux, the reader and writer make one call per datagram.

func udpRaw(*net.UDPConn) (rawConn, bool, error) { return nil, false, errors.ErrUnsupported }

func newBatchReader(rawConn, int) batchReader { return nil }

func newBatchWriter(rawConn, bool, int) batchWriter { return nil }
