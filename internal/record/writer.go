package record

import (
	"compress/flate"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Writer. For FileBytes, FileAge, MaxBytes and MaxAge,
// zero means the default and a negative value turns the limit off.
type Config struct {
	// FileBytes starts a new file once the current one holds this many
	// bytes (compressed, headers included). Default 64 MiB.
	FileBytes int64
	// FileAge starts a new file once the current one spans this much
	// recording time. Default 5 minutes.
	FileAge time.Duration
	// MaxBytes deletes the oldest recording files of the directory (of
	// this recording or older ones, never the file being written) while
	// they add up to more than this. Default 1 GiB.
	MaxBytes int64
	// MaxAge deletes a recording file once all of it is older than this
	// (its end, the start of the file after it, is more than MaxAge of
	// recording time ago). Default 30 minutes.
	MaxAge time.Duration
	// Buffer bounds the closed blocks waiting for the writer goroutine,
	// in bytes of uncompressed records; a block that does not fit is
	// dropped (a block is always queued when the queue is empty). The
	// Writer keeps the buffers of written blocks for reuse, about as many
	// as fill Buffer, so its memory stays near Buffer plus two blocks
	// (256 KiB each, more if a record was larger). Zero or negative means
	// the default, 8 MiB.
	Buffer int
	// KeepAddrs records clients' addresses as they are. By default they
	// are hashed with a per-recording secret (see the package doc).
	KeepAddrs bool
	// Logger receives the writer goroutine's reports (write errors,
	// dropped records, rotations and deletions). Nil discards them.
	Logger *slog.Logger
}

// The defaults of Config.
const (
	DefaultFileBytes = 64 << 20
	DefaultFileAge   = 5 * time.Minute
	DefaultMaxBytes  = 1 << 30
	DefaultMaxAge    = 30 * time.Minute
	DefaultBuffer    = 8 << 20
)

func (c Config) withDefaults() Config {
	def := func(v, d int64) int64 {
		switch {
		case v == 0:
			return d
		case v < 0:
			return 0
		}
		return v
	}
	c.FileBytes = def(c.FileBytes, DefaultFileBytes)
	c.FileAge = time.Duration(def(int64(c.FileAge), int64(DefaultFileAge)))
	c.MaxBytes = def(c.MaxBytes, DefaultMaxBytes)
	c.MaxAge = time.Duration(def(int64(c.MaxAge), int64(DefaultMaxAge)))
	if c.Buffer <= 0 {
		c.Buffer = DefaultBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Stats counts what a Writer did.
type Stats struct {
	Records        uint64 // records in the blocks written (Dropped markers included)
	Blocks         uint64 // blocks written
	BlocksDropped  uint64 // blocks dropped because the queue was full
	RecordsDropped uint64 // records lost: in dropped blocks, or too large
	Bytes          uint64 // bytes written to files, headers included
	FilesOpened    uint64 // files created
	FilesRotated   uint64 // files closed to start a new one
	FilesDeleted   uint64 // files deleted by MaxBytes or MaxAge
	Errors         uint64 // failed file operations; a failed block write loses the block without a Dropped marker
}

// stats are a Writer's counters, updated from both of its goroutines.
type stats struct {
	records, blocks, blocksDropped, recordsDropped, bytes atomic.Uint64
	filesOpened, filesRotated, filesDeleted, errors       atomic.Uint64
}

// hooks let tests watch and pause the writer goroutine.
type hooks struct {
	// beforeWrite runs on the writer goroutine before it writes each
	// block.
	beforeWrite func()
}

// block is a block being filled, queued or written.
type block struct {
	buf     []byte    // the records, uncompressed
	start   time.Time // when the first record was made
	first   uint64    // the tick in progress at the first record
	n       uint32    // records, markers included
	records uint64    // records made by the caller (markers excluded)
	carried uint64    // the count in the block's Dropped marker, if any
}

func (b *block) reset() {
	b.buf = b.buf[:0]
	b.n, b.records, b.carried = 0, 0, 0
}

// recFile is a recording file of the directory, as the writer goroutine
// tracks it.
type recFile struct {
	name  string
	start time.Time // from its name; the end of the file before it
	size  int64
}

// Writer records into a directory. Its recording methods (Tick, Connect,
// Disconnect, Message, Snapshot, World, Checksum), Flush and Close must be
// called from one goroutine, the server's; they never wait for the disk.
// Stats may be called from any goroutine. After Close the recording
// methods do nothing.
type Writer struct {
	dir   string
	cfg   Config
	start time.Time
	hooks hooks
	stats stats

	// owned by the recording goroutine
	cur     *block
	tick    uint64
	last    time.Time // the latest now seen
	lost    uint64    // records lost since the last queued block
	closed  bool
	mac     hash.Hash
	sum     [sha256.Size]byte
	scratch [maxAddrText + 1]byte

	// shared, guarded by mu
	mu      sync.Mutex
	wake    sync.Cond // signals the writer goroutine
	idle    sync.Cond // broadcast when queued drops to 0
	queue   []*block
	queued  int      // bytes of the queued blocks and the one being written
	free    []*block // blocks to reuse
	maxFree int      // enough to fill Buffer, and the two in use
	closing bool
	done    chan struct{}

	// owned by the writer goroutine (and NewWriter before it starts)
	f          *os.File
	fileSize   int64
	fileBlocks int
	fileStart  time.Time // the time of the file's first block
	seq        uint64
	files      []recFile // the directory's recording files, oldest first
	total      int64     // their bytes
	fw         *flate.Writer
	out        appendBuf
	failing    bool
	err        error // the first error; read by Close after done
}

// appendBuf is an io.Writer appending to a byte slice.
type appendBuf []byte

func (a *appendBuf) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

// NewWriter starts a recording in dir (created if need be), whose start is
// now, and creates its first file.
func NewWriter(dir string, cfg Config, now time.Time) (*Writer, error) {
	return newWriter(dir, cfg, now, hooks{})
}

func newWriter(dir string, cfg Config, now time.Time, h hooks) (*Writer, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	names, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, cfg: cfg, start: now, hooks: h, last: now, done: make(chan struct{})}
	w.maxFree = cfg.Buffer/blockBytes + 2
	w.wake.L = &w.mu
	w.idle.L = &w.mu
	for _, n := range names {
		info, err := os.Stat(filepath.Join(dir, n.name))
		if err != nil {
			continue // deleted meanwhile
		}
		w.files = append(w.files, recFile{n.name, time.Unix(n.sec, 0), info.Size()})
		w.total += info.Size()
		w.seq = max(w.seq, n.seq+1)
	}
	var salt [16]byte
	_, _ = rand.Read(salt[:]) // never fails
	w.mac = hmac.New(sha256.New, salt[:])
	if w.fw, err = flate.NewWriter(io.Discard, flate.BestSpeed); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if err := w.openFile(now); err != nil {
		return nil, err
	}
	w.cur = newBlock()
	go w.run()
	return w, nil
}

func newBlock() *block { return &block{buf: make([]byte, 0, blockBytes+1024)} }

// Tick records that the handler's Update ran for tick with delta (see the
// package doc: after the tick's other records).
func (w *Writer) Tick(now time.Time, tick uint64, delta time.Duration) {
	w.tick = tick
	b := w.begin(now, KindTick, 16)
	if b == nil {
		return
	}
	b.buf = binary.LittleEndian.AppendUint64(b.buf, tick)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(delta))
	w.end(b)
}

// Connect records that peer (its session token) connected from addr,
// hashed unless Config.KeepAddrs is set.
func (w *Writer) Connect(now time.Time, peer uint32, addr netip.AddrPort) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	var form byte
	var a []byte
	if w.cfg.KeepAddrs {
		form = 1
		if addr.IsValid() {
			a = addr.AppendTo(w.scratch[:0])
		}
		if len(a) > maxAddrText {
			a = nil
		}
	} else {
		bin, _ := addr.AppendBinary(w.scratch[:0]) // never fails
		w.mac.Reset()
		w.mac.Write(bin)
		a = w.mac.Sum(w.sum[:0])[:8]
	}
	b := w.begin(now, KindConnect, 5+len(a))
	if b == nil {
		return
	}
	b.buf = binary.LittleEndian.AppendUint32(b.buf, peer)
	b.buf = append(b.buf, form)
	b.buf = append(b.buf, a...)
	w.end(b)
}

// Disconnect records that peer disconnected for reason.
func (w *Writer) Disconnect(now time.Time, peer uint32, reason uint8) {
	b := w.begin(now, KindDisconnect, 5)
	if b == nil {
		return
	}
	b.buf = binary.LittleEndian.AppendUint32(b.buf, peer)
	b.buf = append(b.buf, reason)
	w.end(b)
}

// Message records a message the handler received from peer. It copies
// data.
func (w *Writer) Message(now time.Time, peer uint32, data []byte) {
	b := w.begin(now, KindMessage, 4+len(data))
	if b == nil {
		return
	}
	b.buf = binary.LittleEndian.AppendUint32(b.buf, peer)
	b.buf = append(b.buf, data...)
	w.end(b)
}

// Snapshot records an opaque snapshot (the monitor's). It copies data.
func (w *Writer) Snapshot(now time.Time, data []byte) { w.blob(now, KindSnapshot, data) }

// World records an opaque blob of world state. It copies data.
func (w *Writer) World(now time.Time, data []byte) { w.blob(now, KindWorld, data) }

// Game records which game the server runs and its options, opaque (the
// server's command writes it first, for replays).
func (w *Writer) Game(now time.Time, data []byte) { w.blob(now, KindGame, data) }

func (w *Writer) blob(now time.Time, k Kind, data []byte) {
	b := w.begin(now, k, len(data))
	if b == nil {
		return
	}
	b.buf = append(b.buf, data...)
	w.end(b)
}

// Checksum records the world's checksum sum after tick.
func (w *Writer) Checksum(now time.Time, tick, sum uint64) {
	b := w.begin(now, KindChecksum, 16)
	if b == nil {
		return
	}
	b.buf = binary.LittleEndian.AppendUint64(b.buf, tick)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, sum)
	w.end(b)
}

// begin starts a record of bodyLen bytes: it closes the current block if
// it is a second old, opens one if need be and appends the record's head.
// It returns the block to append the body to, or nil to skip the record.
func (w *Writer) begin(now time.Time, k Kind, bodyLen int) *block {
	if w.closed {
		return nil
	}
	w.last = now
	if bodyLen > MaxRecordBytes {
		w.lost++
		w.stats.recordsDropped.Add(1)
		return nil
	}
	if w.cur.n > 0 && now.Sub(w.cur.start) >= blockAge {
		w.closeBlock(false)
	}
	if w.cur.n == 0 {
		w.openBlock(now)
	}
	b := w.cur
	b.buf = appendRecordHead(b.buf, k, bodyLen)
	return b
}

// end finishes a record begun by begin, closing the block if it is full.
func (w *Writer) end(b *block) {
	b.n++
	b.records++
	if len(b.buf) >= blockBytes {
		w.closeBlock(false)
	}
}

// openBlock starts the empty current block at now, with a Dropped marker
// if records were lost.
func (w *Writer) openBlock(now time.Time) {
	b := w.cur
	b.start = now
	b.first = w.tick
	if w.lost > 0 {
		b.carried, w.lost = w.lost, 0
		b.buf = appendRecordHead(b.buf, KindDropped, 8)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, b.carried)
		b.n++
	}
}

// closeBlock hands the current block to the writer goroutine, or drops it
// if the queue is full. With wait, it waits for the queue to empty instead
// of dropping.
func (w *Writer) closeBlock(wait bool) {
	b := w.cur
	if b.n == 0 {
		return
	}
	size := len(b.buf)
	w.mu.Lock()
	for wait && w.queued > 0 {
		w.idle.Wait()
	}
	if w.queued == 0 || w.queued+size <= w.cfg.Buffer {
		w.queue = append(w.queue, b)
		w.queued += size
		var nb *block
		if k := len(w.free); k > 0 {
			nb = w.free[k-1]
			w.free[k-1] = nil
			w.free = w.free[:k-1]
		}
		w.wake.Signal()
		w.mu.Unlock()
		if nb == nil {
			nb = newBlock()
		}
		w.cur = nb
		return
	}
	w.mu.Unlock()
	w.stats.blocksDropped.Add(1)
	w.stats.recordsDropped.Add(b.records)
	w.lost += b.records + b.carried
	b.reset()
}

// Flush closes the current block, handing it to the writer goroutine (or
// dropping it if the queue is full). If records were lost and not yet
// reported, it queues a block holding only the Dropped marker.
func (w *Writer) Flush(now time.Time) {
	if w.closed {
		return
	}
	w.last = now
	w.flush(now, false)
}

func (w *Writer) flush(now time.Time, wait bool) {
	if w.cur.n == 0 && w.lost > 0 {
		w.openBlock(now)
	}
	w.closeBlock(wait)
}

// Close flushes the current block (waiting for room in the queue rather
// than dropping it), waits for the writer goroutine to write everything
// and closes the file. It returns the first error the writer goroutine
// met, if any.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.flush(w.last, true)
	w.closed = true
	w.mu.Lock()
	w.closing = true
	w.wake.Signal()
	w.mu.Unlock()
	<-w.done
	return w.err
}

// Stats returns the Writer's counters.
func (w *Writer) Stats() Stats {
	s := &w.stats
	return Stats{
		Records:        s.records.Load(),
		Blocks:         s.blocks.Load(),
		BlocksDropped:  s.blocksDropped.Load(),
		RecordsDropped: s.recordsDropped.Load(),
		Bytes:          s.bytes.Load(),
		FilesOpened:    s.filesOpened.Load(),
		FilesRotated:   s.filesRotated.Load(),
		FilesDeleted:   s.filesDeleted.Load(),
		Errors:         s.errors.Load(),
	}
}

// waitIdle waits until the writer goroutine has written every queued
// block. For tests.
func (w *Writer) waitIdle() {
	w.mu.Lock()
	for w.queued > 0 {
		w.idle.Wait()
	}
	w.mu.Unlock()
}

// run is the writer goroutine.
func (w *Writer) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closing {
			w.wake.Wait()
		}
		if len(w.queue) == 0 {
			w.mu.Unlock()
			break
		}
		b := w.queue[0]
		n := copy(w.queue, w.queue[1:])
		w.queue[n] = nil
		w.queue = w.queue[:n]
		w.mu.Unlock()

		if w.hooks.beforeWrite != nil {
			w.hooks.beforeWrite()
		}
		w.write(b)

		w.mu.Lock()
		w.queued -= len(b.buf)
		b.reset()
		if len(w.free) < w.maxFree {
			w.free = append(w.free, b)
		}
		if w.queued == 0 {
			w.idle.Broadcast()
		}
		w.mu.Unlock()
	}
	w.closeFile()
}

// write compresses b and writes it, rotating and pruning files.
func (w *Writer) write(b *block) {
	t := b.start
	if w.f != nil && w.fileBlocks > 0 &&
		(w.cfg.FileBytes > 0 && w.fileSize >= w.cfg.FileBytes || w.cfg.FileAge > 0 && t.Sub(w.fileStart) >= w.cfg.FileAge) {
		w.closeFile()
		w.stats.filesRotated.Add(1)
		w.cfg.Logger.Debug("recorder rotated its file", "dir", w.dir)
	}
	if w.f == nil {
		if err := w.openFile(t); err != nil {
			w.fail(err)
			return
		}
	}

	w.out = append(w.out[:0], make([]byte, blockHeaderLen)...)
	w.fw.Reset(&w.out)
	_, _ = w.fw.Write(b.buf) // appendBuf never fails
	_ = w.fw.Close()
	payload := w.out[blockHeaderLen:]
	h := blockHeader{
		clen:  uint32(len(payload)),
		ulen:  uint32(len(b.buf)),
		first: b.first,
		time:  t.UnixNano(),
		n:     b.n,
		crc:   crc32.ChecksumIEEE(payload),
	}
	h.put(w.out)
	n, err := w.f.Write(w.out)
	w.fileSize += int64(n)
	w.total += int64(n)
	w.files[len(w.files)-1].size += int64(n)
	w.stats.bytes.Add(uint64(n))
	if err != nil {
		w.fail(fmt.Errorf("record: %w", err))
		w.closeFile()
		return
	}
	if w.failing {
		w.failing = false
		w.cfg.Logger.Info("recorder writes again", "dir", w.dir)
	}
	w.stats.blocks.Add(1)
	w.stats.records.Add(uint64(b.n))
	if w.fileBlocks == 0 {
		w.fileStart = t
	}
	w.fileBlocks++
	if b.carried > 0 {
		w.cfg.Logger.Warn("recorder dropped records: its queue was full", "records", b.carried)
	}
	w.prune(t)
}

// fail counts an error, keeps the first and logs it unless the previous
// operation failed too.
func (w *Writer) fail(err error) {
	w.stats.errors.Add(1)
	if w.err == nil {
		w.err = err
	}
	if !w.failing {
		w.failing = true
		w.cfg.Logger.Error("recorder cannot write", "dir", w.dir, "err", err)
	}
}

// openFile creates the next file, named after t, and writes its header.
func (w *Writer) openFile(t time.Time) error {
	for attempt := 0; ; attempt++ {
		name := makeFileName(t, w.seq)
		w.seq++
		path := filepath.Join(w.dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if errors.Is(err, fs.ErrExist) && attempt < 100 {
			continue
		}
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		hdr := appendFileHeader(w.out[:0], w.start)
		if _, err := f.Write(hdr); err != nil {
			_ = f.Close()
			_ = os.Remove(path)
			return fmt.Errorf("record: %w", err)
		}
		w.f, w.fileSize, w.fileBlocks = f, int64(len(hdr)), 0
		w.files = append(w.files, recFile{name, t, int64(len(hdr))})
		w.total += int64(len(hdr))
		w.stats.filesOpened.Add(1)
		w.stats.bytes.Add(uint64(len(hdr)))
		return nil
	}
}

func (w *Writer) closeFile() {
	if w.f == nil {
		return
	}
	if err := w.f.Close(); err != nil {
		w.fail(fmt.Errorf("record: %w", err))
	}
	w.f, w.fileSize, w.fileBlocks = nil, 0, 0
}

// prune deletes the oldest files, never the last one, while they exceed
// MaxBytes or all of the oldest is older than MaxAge at t.
func (w *Writer) prune(t time.Time) {
	for len(w.files) > 1 {
		old := w.files[0]
		expired := w.cfg.MaxAge > 0 && t.Sub(w.files[1].start) > w.cfg.MaxAge
		over := w.cfg.MaxBytes > 0 && w.total > w.cfg.MaxBytes
		if !expired && !over {
			return
		}
		if err := os.Remove(filepath.Join(w.dir, old.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.stats.errors.Add(1)
			w.cfg.Logger.Error("recorder cannot delete an old file", "file", old.name, "err", err)
		} else {
			w.stats.filesDeleted.Add(1)
			w.cfg.Logger.Debug("recorder deleted an old file", "file", old.name, "expired", expired)
		}
		w.total -= old.size
		w.files = slices.Delete(w.files, 0, 1)
	}
}
