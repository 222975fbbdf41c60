package record

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the format version this package writes, and the newest it
// reads.
const Version = 2

// MaxRecordBytes bounds a record's body. A Writer drops (and counts as
// lost) a record that would be larger; a Reader refuses one.
const MaxRecordBytes = 4 << 20

// MaxBlockBytes bounds a block's uncompressed records. A Reader refuses a
// block that claims more.
const MaxBlockBytes = 16 << 20

// ErrCorrupt is wrapped by the errors a Reader returns for a file or block
// that is not well formed: bad magic, impossible lengths, a CRC mismatch, a
// truncated file.
var ErrCorrupt = errors.New("corrupt recording")

// ErrVersion is wrapped by the error a Reader returns for a file written in
// a newer version of the format.
var ErrVersion = errors.New("unsupported recording version")

const (
	fileMagic      = "MPGSREC\n"
	fileHeaderLen  = 18
	blockMagic     = "BLK1"
	blockHeaderLen = 36
	// maxCompressed bounds a block's compressed length: DEFLATE adds 5
	// bytes per 64 KiB stored block at worst, far under 64 KiB for
	// MaxBlockBytes.
	maxCompressed = MaxBlockBytes + 64<<10
	// blockBytes and blockAge close a Writer's block.
	blockBytes = 256 << 10
	blockAge   = time.Second
	// maxAddrText bounds a raw address in a Connect record.
	maxAddrText = 255
	fileExt     = ".mpgsrec"
	filePrefix  = "rec-"
)

// Kind says what a Record is.
type Kind uint8

// The kinds of record.
const (
	KindTick       Kind = 1 // the handler's Update ran
	KindConnect    Kind = 2 // a client connected
	KindDisconnect Kind = 3 // a client disconnected
	KindMessage    Kind = 4 // the handler received a message
	KindSnapshot   Kind = 5 // an opaque monitor snapshot
	KindWorld      Kind = 6 // an opaque blob of world state
	KindChecksum   Kind = 7 // the world's checksum after a tick
	KindDropped    Kind = 8 // records were lost before this point
	KindGame       Kind = 9 // the game and its options, opaque
)

// String returns the kind's name, such as "tick".
func (k Kind) String() string {
	switch k {
	case KindTick:
		return "tick"
	case KindConnect:
		return "connect"
	case KindDisconnect:
		return "disconnect"
	case KindMessage:
		return "message"
	case KindSnapshot:
		return "snapshot"
	case KindWorld:
		return "world"
	case KindChecksum:
		return "checksum"
	case KindDropped:
		return "dropped"
	case KindGame:
		return "game"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Record is one record of a recording. Only the fields of its Kind are
// set:
//
//	KindTick        Tick, Delta
//	KindConnect     Peer, and Addr (Hashed false) or AddrHash (Hashed true)
//	KindDisconnect  Peer, Reason
//	KindMessage     Peer, Data
//	KindSnapshot    Data
//	KindWorld       Data
//	KindChecksum    Tick, Sum
//	KindDropped     Records
//	KindGame        Data
//
// A Record returned by Reader.Next shares Data with the reader: it is
// valid until the reader's next call.
type Record struct {
	Kind     Kind
	Tick     uint64
	Delta    time.Duration
	Peer     uint32
	Addr     netip.AddrPort // the raw address, when the writer kept it
	AddrHash [8]byte        // the address's hash, when the writer hashed it
	Hashed   bool           // whether the address was hashed
	Reason   uint8
	Sum      uint64
	Records  uint64
	Data     []byte
}

// String describes the record on one line, such as "tick 5 (16ms)".
func (r Record) String() string {
	switch r.Kind {
	case KindTick:
		return fmt.Sprintf("tick %d (%v)", r.Tick, r.Delta)
	case KindConnect:
		if r.Hashed {
			return fmt.Sprintf("connect peer %d from #%x", r.Peer, r.AddrHash)
		}
		return fmt.Sprintf("connect peer %d from %v", r.Peer, r.Addr)
	case KindDisconnect:
		return fmt.Sprintf("disconnect peer %d (reason %d)", r.Peer, r.Reason)
	case KindMessage:
		return fmt.Sprintf("message peer %d: %d bytes", r.Peer, len(r.Data))
	case KindSnapshot, KindWorld, KindGame:
		return fmt.Sprintf("%v: %d bytes", r.Kind, len(r.Data))
	case KindChecksum:
		return fmt.Sprintf("checksum tick %d: %016x", r.Tick, r.Sum)
	case KindDropped:
		return fmt.Sprintf("dropped %d records", r.Records)
	}
	return r.Kind.String()
}

// appendRecordHead appends a record's kind and body length.
func appendRecordHead(b []byte, k Kind, bodyLen int) []byte {
	b = append(b, byte(k))
	return binary.AppendUvarint(b, uint64(bodyLen))
}

// decodeRecord decodes the record at the start of b into rec and returns
// its length, or a reason it is malformed.
func decodeRecord(b []byte, rec *Record) (int, string) {
	if len(b) < 2 {
		return 0, "record header runs past the block"
	}
	l, m := binary.Uvarint(b[1:])
	if m <= 0 {
		return 0, "bad record length"
	}
	if l > MaxRecordBytes {
		return 0, "record longer than MaxRecordBytes"
	}
	if l > uint64(len(b)-1-m) {
		return 0, "record runs past the block"
	}
	n := 1 + m + int(l)
	body := b[1+m : n]
	le := binary.LittleEndian
	*rec = Record{Kind: Kind(b[0])}
	switch rec.Kind {
	case KindTick, KindChecksum:
		if len(body) != 16 {
			return 0, "bad tick or checksum record length"
		}
		rec.Tick = le.Uint64(body)
		if rec.Kind == KindTick {
			rec.Delta = time.Duration(le.Uint64(body[8:]))
		} else {
			rec.Sum = le.Uint64(body[8:])
		}
	case KindConnect:
		if len(body) < 5 {
			return 0, "short connect record"
		}
		rec.Peer = le.Uint32(body)
		switch addr := body[5:]; body[4] {
		case 0:
			if len(addr) != 8 {
				return 0, "bad address hash length"
			}
			rec.Hashed = true
			copy(rec.AddrHash[:], addr)
		case 1:
			if len(addr) > maxAddrText {
				return 0, "address too long"
			}
			if len(addr) > 0 {
				ap, err := netip.ParseAddrPort(string(addr))
				if err != nil {
					return 0, "bad address"
				}
				rec.Addr = ap
			}
		default:
			return 0, "unknown address form"
		}
	case KindDisconnect:
		if len(body) != 5 {
			return 0, "bad disconnect record length"
		}
		rec.Peer = le.Uint32(body)
		rec.Reason = body[4]
	case KindMessage:
		if len(body) < 4 {
			return 0, "short message record"
		}
		rec.Peer = le.Uint32(body)
		rec.Data = body[4:]
	case KindSnapshot, KindWorld, KindGame:
		rec.Data = body
	case KindDropped:
		if len(body) != 8 {
			return 0, "bad dropped record length"
		}
		rec.Records = le.Uint64(body)
	default:
		return 0, "unknown record kind"
	}
	return n, ""
}

// appendFileHeader appends a file header for a recording started at start.
func appendFileHeader(b []byte, start time.Time) []byte {
	b = append(b, fileMagic...)
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, uint64(start.UnixNano()))
}

// parseFileHeader checks a file header and returns the recording's start
// (unix nanoseconds). name is for the error.
func parseFileHeader(b []byte, name string) (int64, error) {
	if len(b) < fileHeaderLen {
		return 0, fmt.Errorf("record: %s: too short for a recording's header: %w", name, ErrCorrupt)
	}
	if string(b[:len(fileMagic)]) != fileMagic {
		return 0, fmt.Errorf("record: %s: not a recording (bad magic): %w", name, ErrCorrupt)
	}
	switch v := binary.LittleEndian.Uint16(b[8:]); {
	case v > Version:
		return 0, fmt.Errorf("record: %s: format version %d is newer than this reader's (%d): %w", name, v, Version, ErrVersion)
	case v == 0:
		return 0, fmt.Errorf("record: %s: format version 0: %w", name, ErrCorrupt)
	}
	return int64(binary.LittleEndian.Uint64(b[10:])), nil
}

// blockHeader is a block's header, magic aside.
type blockHeader struct {
	clen, ulen uint32
	first      uint64
	time       int64
	n          uint32
	crc        uint32
}

// put encodes h into b, which holds blockHeaderLen bytes.
func (h *blockHeader) put(b []byte) {
	le := binary.LittleEndian
	copy(b, blockMagic)
	le.PutUint32(b[4:], h.clen)
	le.PutUint32(b[8:], h.ulen)
	le.PutUint64(b[12:], h.first)
	le.PutUint64(b[20:], uint64(h.time))
	le.PutUint32(b[28:], h.n)
	le.PutUint32(b[32:], h.crc)
}

// parseBlockHeader decodes b, which holds blockHeaderLen bytes, and
// reports whether its magic is right.
func parseBlockHeader(b []byte) (blockHeader, bool) {
	le := binary.LittleEndian
	return blockHeader{
		clen:  le.Uint32(b[4:]),
		ulen:  le.Uint32(b[8:]),
		first: le.Uint64(b[12:]),
		time:  int64(le.Uint64(b[20:])),
		n:     le.Uint32(b[28:]),
		crc:   le.Uint32(b[32:]),
	}, string(b[:4]) == blockMagic
}

// check returns why a block at off of a file of size bytes cannot have
// this header, or "".
func (h *blockHeader) check(off, size int64) string {
	switch {
	case h.ulen > MaxBlockBytes:
		return "uncompressed length over MaxBlockBytes"
	case h.clen > maxCompressed:
		return "compressed length over the limit"
	case h.clen == 0:
		return "empty payload"
	case int64(h.clen) > size-off-blockHeaderLen:
		return "payload runs past the end of the file (truncated?)"
	case h.n == 0:
		return "no records"
	case h.n > h.ulen/2:
		return "more records than the payload can hold"
	}
	return ""
}

// fileName is a recording file's name and the numbers in it.
type fileName struct {
	name string
	sec  int64
	seq  uint64
}

// parseFileName parses rec-<unix-seconds>-<seq>.mpgsrec.
func parseFileName(name string) (fileName, bool) {
	s, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return fileName{}, false
	}
	if s, ok = strings.CutSuffix(s, fileExt); !ok {
		return fileName{}, false
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok || !digits(a) || !digits(b) {
		return fileName{}, false
	}
	sec, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return fileName{}, false
	}
	return fileName{name, sec, seq}, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// makeFileName names a recording file.
func makeFileName(t time.Time, seq uint64) string {
	return fmt.Sprintf("%s%d-%06d%s", filePrefix, max(t.Unix(), 0), seq, fileExt)
}

// compareFileNames orders recording files by seconds, then sequence.
func compareFileNames(a, b fileName) int {
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.seq, b.seq), strings.Compare(a.name, b.name))
}

// listFiles returns the recording files of dir in order.
func listFiles(dir string) ([]fileName, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	var names []fileName
	for _, e := range ents {
		if n, ok := parseFileName(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, compareFileNames)
	return names, nil
}
