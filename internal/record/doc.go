// Package record is a game server's flight recorder: the file format of a
// recording, a Writer that the server's goroutine feeds without ever
// waiting for the disk, and a Reader that replays a recording and seeks in
// it by tick or by time.
//
// # What is recorded
//
// A recording is a sequence of small records, in the order the server
// made them:
//
//   - Tick{Tick, Delta}: the handler's Update was called with Delta,
//     at the server's tick number Tick. A server (server.Recorder) makes
//     it after the connects, messages and disconnects the handler was
//     given during that tick: a replay gives a handler the records in
//     order and calls its Update at each Tick.
//   - Connect{Peer, Addr}: a client connected; Peer is its session token.
//     The address is kept raw only when Config.KeepAddrs is set; otherwise
//     it is an 8-byte hash (see "Addresses" below).
//   - Disconnect{Peer, Reason}.
//   - Message{Peer, Data}: a message the handler received.
//   - Snapshot{Data}: an opaque blob (the monitor's per-second snapshot,
//     encoded by the caller).
//   - World{Data}: an opaque blob (replicated world state).
//   - Checksum{Tick, Sum}: the game's world checksum after a tick.
//   - Game{Data}: which game the server runs and its options, opaque
//     (mpgameserver serve writes it first, for replays).
//   - Dropped{Records}: Records records were lost before this point,
//     because the writer's queue was full (or a record was larger than
//     MaxRecordBytes).
//
// # Files
//
// A recording is a directory of files named rec-<unix-seconds>-<seq>.mpgsrec
// (or a single such file). <unix-seconds> is the time the file was started
// (the recording's start for its first file, else the recording time of the
// block that opened it), <seq> is a decimal
// sequence number, zero-padded to 6 digits, that a Writer continues from the
// largest one already in the directory. The files of a directory are read
// in the order of (unix-seconds, seq), which is the order of their names
// while both numbers keep their width. A directory may hold the files of
// several recordings (a restarted server's Writer keeps the older files
// until MaxAge or MaxBytes deletes them); each file's header names the
// start of the recording it belongs to. A Reader reads them all, in order;
// its seeks by tick assume ticks do not decrease along what it reads.
//
// All integers are little-endian. A file is a header followed by blocks:
//
//	offset size  field
//	0      8     magic "MPGSREC\n"
//	8      2     format version, uint16: 2 (1 is read too)
//	10     8     the recording's start, int64 unix nanoseconds
//	18     ...   blocks, until the end of the file
//
// A block is a 36-byte header followed by its payload:
//
//	offset size  field
//	0      4     magic "BLK1"
//	4      4     compressed length of the payload, uint32
//	8      4     uncompressed length of the payload, uint32
//	12     8     first tick, uint64: the tick in progress when the block's
//	             first record was made (the tick of a Tick record that
//	             opens the block; 0 before the recording's first Tick)
//	20     8     wall time, int64 unix nanoseconds: when the block's first
//	             record was made
//	28     4     number of records, uint32
//	32     4     CRC-32 (IEEE) of the compressed payload
//	36     ...   the payload: the records, compressed with DEFLATE
//	             (compress/flate, RFC 1951, a raw stream with a final block)
//
// Blocks are independent (each payload is its own DEFLATE stream), so a
// reader finds any block by reading headers only and skipping payloads. A
// Writer closes a block once a second of recording time has passed since
// its first record (by the times passed to the Writer's methods) or once
// it holds more than 256 KiB of records, whichever comes first.
//
// An uncompressed payload is a sequence of records, each one
//
//	kind (1 byte), body length (uvarint, encoding/binary), body
//
// with these kinds and bodies:
//
//	1 Tick        tick uint64, delta int64 nanoseconds          (16 bytes)
//	2 Connect     peer uint32, form uint8, then either
//	              form 0: the address's hash, 8 bytes           (13 bytes)
//	              form 1: the address as text, "ip:port",
//	                      at most 255 bytes, empty if the server
//	                      passed an invalid address
//	3 Disconnect  peer uint32, reason uint8                     (5 bytes)
//	4 Message     peer uint32, then the message's bytes
//	5 Snapshot    the blob's bytes
//	6 World       the blob's bytes
//	7 Checksum    tick uint64, sum uint64                       (16 bytes)
//	8 Dropped     records lost, uint64                          (8 bytes)
//	9 Game        the game and its options, opaque (version 2)
//
// Other kinds are invalid: a new kind is a new version. Version 1 is
// version 2 without kind 9, and a reader of version 2 reads it (a version 1
// file that holds kind 9 was written while that kind was being added, and
// is read as well). Both versions leave what blobs hold to their writers:
// `mpgameserver serve --record` writes the monitor's admin.Document as JSON
// in Snapshot records, the arena's sim.World.AppendState in World records
// and its options, JSON, in the Game record.
//
// # Limits
//
// A reader refuses, as corrupt: a file header with the wrong magic (a file
// with a newer version is refused with an error wrapping ErrVersion that
// names the version); a block whose magic is wrong, whose uncompressed
// length exceeds MaxBlockBytes (16 MiB), whose compressed length exceeds
// that plus 64 KiB or runs past the end of the file, that claims more
// records than its uncompressed length can hold (a record takes at least 2
// bytes) or none, whose CRC does not match, whose payload does not inflate
// to exactly its uncompressed length, or whose records do not parse into
// exactly the stated number; and a record whose body exceeds
// MaxRecordBytes (4 MiB) or runs past its block. A reader never allocates
// in proportion to a length before checking it against the file's size or
// against the bytes actually inflated. A Writer never writes a record over
// MaxRecordBytes (it drops it and counts it as a lost record), so its
// blocks stay under 256 KiB + 4 MiB.
//
// After a corrupt block a reader goes on at the next block: after the
// payload when its header's lengths were sound and another block header
// (or the end of the file) follows it, else at the next occurrence of the
// block magic.
//
// # Addresses
//
// Unless Config.KeepAddrs is set, a Connect record holds
// HMAC-SHA256(salt, address) truncated to 8 bytes, where the address is the
// client's IP (IPv4-mapped IPv6 addresses unmapped) and port as
// netip.AddrPort.AppendBinary encodes them, and salt is 16 random bytes
// drawn when the Writer is made and never stored. One client's address
// hashes the same throughout a recording, but a hash cannot be reversed
// (not even by trying all IPv4 addresses) nor compared with another
// recording's.
//
// # Writing
//
// The Writer's recording methods append to the current block in memory.
// When a block closes it goes to a single writer goroutine through a queue
// bounded by Config.Buffer bytes of uncompressed records; that goroutine
// compresses it, writes it, rotates files and deletes old ones. When the
// queue is full the block is dropped and counted, and the next block that
// is queued begins with a Dropped record carrying the number of records
// lost. The recording methods never wait for the disk and, once their
// buffers have grown, do not allocate.
package record
