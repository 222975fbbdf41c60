package conn

import (
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Seq is a message's sequence number, as HandleMessage and a client's
// messages report it: 16 bits on the ring 1..65535 (0 means none), with
// Diff and NewerThan comparing across the wrap.
type Seq = protocol.Seq

// Message sizes.
const (
	// MaxMessageSize is the largest message (8 MiB): Send refuses larger
	// ones.
	MaxMessageSize = protocol.MaxMessageSize
	// MaxSingleMessage is the largest message that travels in one
	// datagram; longer ones are split into fragments and joined again.
	MaxSingleMessage = protocol.MaxSingleMessage
	// MaxDatagramSize is the largest datagram the protocol sends.
	MaxDatagramSize = protocol.MaxDatagramSize
	// RecvBufferSize is the buffer a datagram must be read into.
	RecvBufferSize = protocol.RecvBufferSize
)
