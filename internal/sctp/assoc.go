package sctp

import (
	"crypto/rand"
	"hash/crc32"
	"io"
	"time"
)

// Sink receives what an Assoc produces. Both slices are valid only during the
// call. Deliver may call Send and Close on the same Assoc; Output must not call
// the Assoc at all (its packet is the Assoc's reused output buffer).
type Sink interface {
	// Deliver receives one whole message of the data channel, string or
	// binary; an empty message (PPID 56 or 57) is delivered with zero length.
	Deliver(msg []byte)
	// Output receives one SCTP packet to encrypt with DTLS and send.
	Output(pkt []byte)
}

// Config parametrises an Assoc. The zero value is usable.
type Config struct {
	// Port is our SCTP port, 5000 in WebRTC (the default). Received packets
	// must be addressed to it.
	Port uint16
	// MTU is the largest SCTP packet Output produces (default 1200, at
	// least 576 so that any control reply fits in one packet).
	MTU int
	// MaxMessage is the largest message delivered or sent (default 2048).
	// Larger received messages are dropped; it also sizes the one
	// reassembly buffer.
	MaxMessage int
	// Label, if not empty, is the only channel label accepted: a
	// DATA_CHANNEL_OPEN with another label is not acknowledged.
	Label string
}

const (
	defaultPort       = 5000
	defaultMTU        = 1200
	minMTU            = 576
	maxMTU            = 65535 // a chunk length is 16 bits
	defaultMaxMessage = 2048

	// ourRwnd is the receive window we advertise. We deliver every message
	// the moment it is complete and buffer at most one partial message, so
	// the window is a formality; it only has to be large enough that the
	// peer never waits for it.
	ourRwnd = 128 << 10
	// ourStreams is the number of inbound streams we accept. Streams cost
	// us nothing; only the channel's stream is used.
	ourStreams = 65535
)

type state uint8

const (
	stateListen      state = iota // waiting for INIT
	stateInitAcked                // INIT-ACK sent, waiting for COOKIE-ECHO
	stateEstablished              //
	stateShutdown                 // SHUTDOWN acknowledged: closed, still answers SHUTDOWN retransmissions
	stateDead                     // ABORT sent or received, or SHUTDOWN-COMPLETE received
)

// Assoc is the server side of one SCTP association carrying one WebRTC data
// channel. See the package documentation.
type Assoc struct {
	cfg  Config
	crc  *crc32.Table
	zero [4]byte // always zero: the checksum field as checksummed
	st   state

	myTag    uint32
	cookie   [cookieLen]byte
	peerTag  uint32
	peerPort uint16
	peerMIS  uint16 // the peer's inbound streams: bound of our outbound streams
	peerFwd  bool   // the peer supports FORWARD-TSN

	open   bool   // a DATA_CHANNEL_OPEN was accepted
	stream uint16 // the channel's stream, valid when open
	reset  bool   // the peer reset the channel's stream: the channel is closed

	once uint8 // replies already sent for the packet being handled (onceX bits)

	rx receiver
	tx sender

	out  []byte // the packet being built, MTU bytes
	outN int
	gaps [maxGapBlocks][2]uint16

	stats Stats
}

// Replies sent at most once per received packet, so that a packet full of
// small chunks cannot make us send many packets back.
const (
	onceCookieAck uint8 = 1 << iota
	onceHeartbeat
	onceShutdownAck
	onceReconfig
	onceDCEPAck
)

// New returns an association waiting for the peer's INIT. rand (crypto/rand
// if nil) supplies, in this order, the 4-byte verification tag, the 4-byte
// initial TSN and the state cookie. New panics if rand fails.
func New(cfg Config, rand io.Reader) *Assoc {
	if cfg.Port == 0 {
		cfg.Port = defaultPort
	}
	if cfg.MTU == 0 {
		cfg.MTU = defaultMTU
	}
	cfg.MTU = min(max(cfg.MTU, minMTU), maxMTU)
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = defaultMaxMessage
	}
	a := &Assoc{
		cfg: cfg,
		crc: crc32.MakeTable(crc32.Castagnoli),
		out: make([]byte, cfg.MTU),
	}
	a.rx.buf = make([]byte, 0, cfg.MaxMessage)
	var seed [8 + cookieLen]byte
	if _, err := io.ReadFull(randOrDefault(rand), seed[:]); err != nil {
		panic("sctp: reading random bytes: " + err.Error())
	}
	a.myTag = be32(seed[0:])
	if a.myTag == 0 { // a verification tag of 0 is reserved for INIT
		a.myTag = 1
	}
	a.tx.init(be32(seed[4:]))
	copy(a.cookie[:], seed[8:])
	return a
}

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// Open reports whether the data channel is open: a DATA_CHANNEL_OPEN was
// accepted and acknowledged, and the association is not closed.
func (a *Assoc) Open() bool { return a.open && !a.Closed() }

// Closed reports whether the association or its channel is finished: ABORT
// or SHUTDOWN received, the channel's stream reset by the peer, Close called,
// or our DATA_CHANNEL_ACK never acknowledged.
func (a *Assoc) Closed() bool { return a.st >= stateShutdown || a.reset }

// Close sends ABORT if the peer knows of the association, and closes it.
func (a *Assoc) Close(s Sink) {
	if a.st == stateDead {
		return
	}
	if a.st != stateListen {
		a.begin(a.peerTag)
		a.chunk(ctAbort, 0, 0)
		a.finish(s)
	}
	a.st = stateDead
}

// Handle processes one received SCTP packet: replies go to s.Output and
// complete messages to s.Deliver. A returned error says why the packet, or
// its remainder, was dropped; it is for counting only.
func (a *Assoc) Handle(pkt []byte, now time.Time, s Sink) error {
	a.stats.PacketsIn++
	a.stats.BytesIn += uint64(len(pkt))
	if a.st == stateDead {
		return ErrClosed
	}
	if len(pkt) < commonHeaderLen+chunkHeaderLen {
		a.stats.Malformed++
		return ErrMalformed
	}
	if getChecksum(pkt) != checksum(a.crc, &a.zero, pkt) {
		a.stats.BadChecksum++
		return ErrBadChecksum
	}
	if be16(pkt[2:]) != a.cfg.Port || be16(pkt) == 0 ||
		(a.st != stateListen && pkt[commonHeaderLen] != ctInit && be16(pkt) != a.peerPort) {
		a.stats.BadPort++
		return ErrBadPort
	}
	if !checkChunks(pkt) {
		a.stats.Malformed++
		return ErrMalformed
	}
	gapped := a.rx.max != a.rx.cum // before this packet

	// Verification tag rules of RFC 9260 section 8.5.1.
	tag := be32(pkt[4:])
	first, firstFlags := pkt[commonHeaderLen], pkt[commonHeaderLen+1]
	reflected := false
	switch {
	case first == ctInit:
		if tag != 0 {
			a.stats.BadTag++
			return ErrBadTag
		}
		return a.onInit(pkt[commonHeaderLen:], be16(pkt), s)
	case tag == a.myTag && a.st != stateListen:
	case tag == a.peerTag && a.st != stateListen && firstFlags&flagT != 0 &&
		(first == ctAbort || first == ctShutdownComplete):
		reflected = true // only that one chunk is processed
	default:
		a.stats.BadTag++
		return ErrBadTag
	}

	a.once = 0
	a.rx.sackNow = false
	var err error
walk:
	for off := commonHeaderLen; off < len(pkt) && a.st != stateDead; {
		typ, flags := pkt[off], pkt[off+1]
		l := int(be16(pkt[off+2:]))
		body := pkt[off+chunkHeaderLen : off+l]
		off += pad4(l)

		switch typ {
		case ctData:
			err = a.onData(flags, body, now, s)
		case ctSack:
			err = a.onSack(body)
		case ctForwardTSN:
			err = a.onForwardTSN(body, now)
		case ctCookieEcho:
			err = a.onCookieEcho(body, now, s)
		case ctHeartbeat:
			err = a.onHeartbeat(body, s)
		case ctAbort:
			// A T bit must come with the reflected tag, no T bit with ours.
			if (flags&flagT != 0) == reflected {
				a.st = stateDead
			} else {
				a.stats.Ignored++
			}
		case ctShutdown:
			err = a.onShutdown(body, s)
		case ctShutdownComplete:
			if a.st == stateShutdown && (flags&flagT != 0) == reflected {
				a.st = stateDead
			} else {
				a.stats.Ignored++
			}
		case ctReconfig:
			err = a.onReconfig(body, s)
		case ctInitAck, ctHeartbeatAck, ctShutdownAck, ctError, ctCookieAck:
			// Answers to things we never send (or errors we only count).
			a.stats.Ignored++
		default:
			// RFC 9260 section 3.2: the upper two bits of an unknown
			// type say whether to skip it (1x) or to stop processing
			// the packet (0x). We never send the ERROR reports the
			// x1 variants ask for.
			a.stats.Unknown++
			if typ&0x80 == 0 {
				break walk
			}
		}
		if err != nil {
			a.stats.Malformed++
			break
		}
		if reflected {
			break
		}
	}

	// RFC 9260 section 6.7: while there are gaps, when a packet fills
	// them, or after a duplicate, acknowledge every packet at once;
	// otherwise the SACK waits for Flush.
	if a.st == stateEstablished && a.rx.pending && (a.rx.sackNow || a.rx.max != a.rx.cum || gapped) {
		a.sendSACK(s)
	}
	return err
}
