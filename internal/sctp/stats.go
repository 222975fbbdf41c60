package sctp

// Stats counts what an Assoc has seen and done. All counters only grow.
type Stats struct {
	PacketsIn  uint64 // packets passed to Handle
	PacketsOut uint64 // packets passed to Sink.Output
	BytesIn    uint64
	BytesOut   uint64

	BadChecksum uint64 // packets dropped for their CRC32c
	BadTag      uint64 // packets dropped for their verification tag
	BadPort     uint64 // packets dropped for their ports
	Malformed   uint64 // packets (or their remainder) dropped as malformed, a wrong cookie included
	Ignored     uint64 // well-formed chunks that do not apply in the current state
	Unknown     uint64 // chunks of unknown type (skipped or ending the packet per their type bits)

	DataIn         uint64 // DATA chunks received in ESTABLISHED
	Duplicates     uint64 // DATA chunks at or below the cumulative TSN, or seen before
	OutOfWindow    uint64 // DATA chunks beyond the receive window, dropped unacknowledged
	Delivered      uint64 // messages passed to Sink.Deliver
	DeliveredBytes uint64
	DroppedStream  uint64 // messages on streams other than the channel's, or before it opened
	DroppedPPID    uint64 // messages with an unsupported payload protocol identifier
	TooLarge       uint64 // messages larger than Config.MaxMessage
	DroppedPartial uint64 // reassemblies abandoned for a gap, a new first fragment or FORWARD-TSN

	SACKsIn        uint64
	SACKsOut       uint64
	ForwardTSNsIn  uint64
	ForwardTSNsOut uint64
	DataOut        uint64 // DATA chunks sent, the DCEP ACK and its retransmissions included
	MessagesSent   uint64 // messages accepted by Send
	RwndExceeded   uint64 // Sends after which our unacknowledged bytes exceeded the peer's window

	OpensRefused   uint64 // DATA_CHANNEL_OPENs refused or ignored (second channel, wrong label)
	AckRetransmits uint64 // retransmissions of our DATA_CHANNEL_ACK
}

// Stats returns a copy of the counters.
func (a *Assoc) Stats() Stats { return a.stats }
