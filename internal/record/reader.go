package record

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// source is an open recording file.
type source interface {
	io.ReaderAt
	io.Closer
}

// opener opens a recording file and returns its size.
type opener func(name string) (source, int64, error)

func openOS(name string) (source, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// readFull reads len(b) bytes at off.
func readFull(src source, b []byte, off int64) error {
	n, err := src.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// indexEntry locates a block.
type indexEntry struct {
	file  int   // index in Reader.files
	off   int64 // offset of its header
	first uint64
	time  int64
}

// Reader reads a recording. It is not safe for concurrent use.
type Reader struct {
	files []string
	open  opener

	// the position of Next
	fi    int    // current file
	src   source // open current file, or nil
	size  int64
	off   int64  // next block header to read
	block []byte // the current block's records
	pos   int    // next record in block

	index   []indexEntry
	indexed bool

	// scratch
	comp    []byte
	scan    []byte
	hdr     [blockHeaderLen]byte
	one     [1]byte
	br      bytes.Reader
	fr      io.ReadCloser
	inflate int // blocks inflated, for tests
}

// Open opens a recording: one file, or a directory whose recording files
// (named rec-<unix-seconds>-<seq>.mpgsrec) are read in order. It checks
// the files' headers: a file of a newer version is refused with an error
// wrapping ErrVersion; a single file that is not a recording is refused
// with an error wrapping ErrCorrupt (in a directory, Next reports such a
// file when it reaches it, and goes on with the next).
func Open(path string) (*Reader, error) { return openWith(path, openOS) }

func openWith(path string, open opener) (*Reader, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Reader{open: open}
	if info.IsDir() {
		names, err := listFiles(path)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("record: %s holds no recording files", path)
		}
		for _, n := range names {
			r.files = append(r.files, filepath.Join(path, n.name))
		}
	} else {
		r.files = []string{path}
	}
	for _, name := range r.files {
		src, size, err := r.open(name)
		if err != nil {
			if info.IsDir() {
				continue // deleted meanwhile? Next reports it
			}
			return nil, fmt.Errorf("record: %w", err)
		}
		err = r.readFileHeader(src, size, name)
		_ = src.Close()
		if err != nil && (errors.Is(err, ErrVersion) || !info.IsDir()) {
			return nil, err
		}
	}
	return r, nil
}

// Close closes the file being read.
func (r *Reader) Close() error {
	r.block, r.pos = nil, 0
	r.fi = len(r.files)
	return r.closeFile()
}

func (r *Reader) closeFile() error {
	if r.src == nil {
		return nil
	}
	err := r.src.Close()
	r.src = nil
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}

// readFileHeader reads and checks the header of a file.
func (r *Reader) readFileHeader(src source, size int64, name string) error {
	var b [fileHeaderLen]byte
	if size < fileHeaderLen {
		_, err := parseFileHeader(nil, name)
		return err
	}
	if err := readFull(src, b[:], 0); err != nil {
		return fmt.Errorf("record: %s: %w", name, err)
	}
	_, err := parseFileHeader(b[:], name)
	return err
}

// Next returns the next record, or io.EOF after the last one. The
// record's Data is valid until the next call. An error wrapping
// ErrCorrupt reports a corrupt block (or file), which is skipped: the
// next call goes on after it.
func (r *Reader) Next() (Record, error) {
	rec, _, err := r.next()
	return rec, err
}

// next is Next, also returning the record's offset in r.block.
func (r *Reader) next() (Record, int, error) {
	for r.pos >= len(r.block) {
		if err := r.load(); err != nil {
			return Record{}, 0, err
		}
	}
	var rec Record
	start := r.pos
	n, why := decodeRecord(r.block[start:], &rec)
	if why != "" { // cannot happen: load checked the block
		r.block, r.pos = r.block[:0], 0
		return Record{}, 0, fmt.Errorf("record: %s: %s: %w", r.files[r.fi], why, ErrCorrupt)
	}
	r.pos += n
	return rec, start, nil
}

// load reads the next block into r.block.
func (r *Reader) load() error {
	r.block, r.pos = r.block[:0], 0
	for {
		if r.fi >= len(r.files) {
			return io.EOF
		}
		if r.src == nil {
			if err := r.openFile(r.fi); err != nil {
				r.fi++
				return err
			}
			r.off = fileHeaderLen
		}
		if r.off >= r.size {
			if err := r.closeFile(); err != nil {
				return err
			}
			r.fi++
			continue
		}
		out, _, next, err := r.decode(r.src, r.size, r.off, r.files[r.fi], r.block[:0])
		r.block, r.off = out, next
		return err
	}
}

// openFile opens file i as the current file and checks its header.
func (r *Reader) openFile(i int) error {
	src, size, err := r.open(r.files[i])
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := r.readFileHeader(src, size, r.files[i]); err != nil {
		_ = src.Close()
		return err
	}
	r.src, r.size = src, size
	return nil
}

// decode reads the block at off of src (size bytes, named name), checks
// it and inflates its records into dst. It returns the records, the
// header, where the next block should start and, for a block that is
// corrupt, an error wrapping ErrCorrupt.
func (r *Reader) decode(src source, size, off int64, name string, dst []byte) ([]byte, blockHeader, int64, error) {
	corrupt := func(why string) error {
		return fmt.Errorf("record: %s: block at offset %d: %s: %w", name, off, why, ErrCorrupt)
	}
	dst = dst[:0]
	if size-off < blockHeaderLen {
		return dst, blockHeader{}, size, corrupt("truncated block header")
	}
	if err := readFull(src, r.hdr[:], off); err != nil {
		return dst, blockHeader{}, size, fmt.Errorf("record: %s: %w", name, err)
	}
	h, ok := parseBlockHeader(r.hdr[:])
	if !ok {
		return dst, h, r.findMagic(src, off+1, size), corrupt("bad block magic")
	}
	if why := h.check(off, size); why != "" {
		return dst, h, r.findMagic(src, off+1, size), corrupt(why)
	}
	// clen is now known to fit in the file
	if cap(r.comp) < int(h.clen) {
		r.comp = make([]byte, h.clen)
	}
	comp := r.comp[:h.clen]
	if err := readFull(src, comp, off+blockHeaderLen); err != nil {
		return dst, h, size, fmt.Errorf("record: %s: %w", name, err)
	}
	end := off + blockHeaderLen + int64(h.clen)
	if crc32.ChecksumIEEE(comp) != h.crc {
		return dst, h, r.after(src, off, end, size), corrupt("CRC mismatch")
	}
	dst, why := r.inflateTo(comp, int(h.ulen), dst)
	if why != "" {
		return dst[:0], h, end, corrupt(why)
	}
	var rec Record
	n := uint32(0)
	for p := 0; p < len(dst); n++ {
		k, why := decodeRecord(dst[p:], &rec)
		if why != "" {
			return dst[:0], h, end, corrupt(why)
		}
		p += k
	}
	if n != h.n {
		return dst[:0], h, end, corrupt("wrong number of records")
	}
	return dst, h, end, nil
}

// inflateTo inflates comp, which must hold exactly ulen bytes, into dst,
// growing it with the bytes actually inflated.
func (r *Reader) inflateTo(comp []byte, ulen int, dst []byte) ([]byte, string) {
	r.inflate++
	r.br.Reset(comp)
	if r.fr == nil {
		r.fr = flate.NewReader(&r.br)
	} else if err := r.fr.(flate.Resetter).Reset(&r.br, nil); err != nil {
		return dst, "payload does not inflate"
	}
	dst = dst[:0]
	for len(dst) < ulen {
		if len(dst) == cap(dst) {
			grown := make([]byte, len(dst), min(ulen, max(2*cap(dst), 64<<10)))
			copy(grown, dst)
			dst = grown
		}
		n, err := r.fr.Read(dst[len(dst):min(cap(dst), ulen)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, "payload does not inflate"
		}
	}
	if len(dst) < ulen {
		return dst, "payload inflates to less than its length"
	}
	if n, err := r.fr.Read(r.one[:]); n != 0 || err != io.EOF {
		return dst, "payload inflates to more than its length"
	}
	return dst, ""
}

// after returns where to go on after a block at off whose payload ends at
// end but did not check: end if a block header (or the end of the file)
// is there, else the next block magic after off.
func (r *Reader) after(src source, off, end, size int64) int64 {
	if end >= size {
		if end == size {
			return end
		}
		return r.findMagic(src, off+1, size)
	}
	var m [len(blockMagic)]byte
	if readFull(src, m[:], end) == nil && string(m[:]) == blockMagic {
		return end
	}
	return r.findMagic(src, off+1, size)
}

// findMagic returns the offset of the first block magic at or after from,
// or size if there is none.
func (r *Reader) findMagic(src source, from, size int64) int64 {
	if r.scan == nil {
		r.scan = make([]byte, 32<<10)
	}
	for from+blockHeaderLen <= size {
		n := int(min(int64(len(r.scan)), size-from))
		b := r.scan[:n]
		if readFull(src, b, from) != nil {
			return size
		}
		if i := bytes.Index(b, []byte(blockMagic)); i >= 0 {
			return from + int64(i)
		}
		if from+int64(n) >= size {
			break
		}
		from += int64(n - (len(blockMagic) - 1))
	}
	return size
}

// buildIndex reads the headers of all blocks, once.
func (r *Reader) buildIndex() error {
	if r.indexed {
		return nil
	}
	for i, name := range r.files {
		src, size, err := r.open(name)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		if r.readFileHeader(src, size, name) != nil {
			_ = src.Close()
			continue // Next reports it
		}
		prev, off := int64(-1), int64(fileHeaderLen)
		for size-off >= blockHeaderLen {
			if readFull(src, r.hdr[:], off) != nil {
				break
			}
			h, ok := parseBlockHeader(r.hdr[:])
			if !ok || h.check(off, size) != "" {
				// resync from the block before: its length may be what
				// is wrong
				from := off + 1
				if !ok && prev >= 0 {
					from = prev + 1
				}
				prev, off = -1, r.findMagic(src, from, size)
				continue
			}
			r.index = append(r.index, indexEntry{file: i, off: off, first: h.first, time: h.time})
			prev, off = off, off+blockHeaderLen+int64(h.clen)
		}
		_ = src.Close()
	}
	r.indexed = true
	return nil
}

// seekTo makes Next read from the block of e.
func (r *Reader) seekTo(e indexEntry) error {
	r.block, r.pos = r.block[:0], 0
	if r.src == nil || r.fi != e.file {
		if err := r.closeFile(); err != nil {
			return err
		}
		r.fi = e.file
		if err := r.openFile(e.file); err != nil {
			return err
		}
	}
	r.off = e.off
	return nil
}

// SeekTick positions the reader at the Tick record of tick, or of the
// first tick after it that was recorded: the next call to Next returns
// it. It finds the block by reading block headers only (indexing them on
// the first seek) and then inflates at most a couple of blocks, as long as
// the tick was recorded. The index is built once: blocks written to the
// files after the first seek are read by Next but not found by seeks.
// Corrupt blocks on the way are skipped. If no tick
// at or after tick was recorded, it returns an error wrapping io.EOF and
// Next returns io.EOF. Seeking assumes ticks do not decrease along the
// recording (a directory holding several recordings seeks in the first
// one that fits).
func (r *Reader) SeekTick(tick uint64) error {
	if err := r.buildIndex(); err != nil {
		return err
	}
	if len(r.index) == 0 {
		r.fi = len(r.files)
		return fmt.Errorf("record: no blocks: %w", io.EOF)
	}
	i := max(sort.Search(len(r.index), func(i int) bool { return r.index[i].first >= tick })-1, 0)
	if err := r.seekTo(r.index[i]); err != nil {
		return err
	}
	for {
		rec, start, err := r.next()
		switch {
		case errors.Is(err, ErrCorrupt):
			continue
		case err == io.EOF:
			return fmt.Errorf("record: no tick at or after %d: %w", tick, io.EOF)
		case err != nil:
			return err
		case rec.Kind == KindTick && rec.Tick >= tick:
			r.pos = start
			return nil
		}
	}
}

// SeekTime positions the reader at the tick that was in progress at t, as
// well as block headers tell: the first tick of the last block that began
// at or before t. If t precedes the recording's first block (or falls in
// its first tick), the reader goes back to the recording's first record.
func (r *Reader) SeekTime(t time.Time) error {
	if err := r.buildIndex(); err != nil {
		return err
	}
	if len(r.index) == 0 {
		r.fi = len(r.files)
		return fmt.Errorf("record: no blocks: %w", io.EOF)
	}
	tn := t.UnixNano()
	i := sort.Search(len(r.index), func(i int) bool { return r.index[i].time > tn }) - 1
	if i < 0 || r.index[i].first <= r.index[0].first {
		return r.seekTo(r.index[0])
	}
	return r.SeekTick(r.index[i].first)
}

// Span returns the recording's first and last ticks and the times its
// first and last blocks began (a block spans at most a second). first is
// the first block's first tick; last is the last Tick record of the last
// block (its first tick if that block is corrupt or holds no Tick). It
// reads block headers and the last block, and leaves the position of
// Next alone. A recording without blocks returns an error wrapping
// io.EOF.
func (r *Reader) Span() (first, last uint64, start, end time.Time, err error) {
	if err = r.buildIndex(); err != nil {
		return
	}
	if len(r.index) == 0 {
		err = fmt.Errorf("record: no blocks: %w", io.EOF)
		return
	}
	e0, el := r.index[0], r.index[len(r.index)-1]
	first, last = e0.first, el.first
	start, end = time.Unix(0, e0.time), time.Unix(0, el.time)
	src, size, oerr := r.open(r.files[el.file])
	if oerr != nil {
		err = fmt.Errorf("record: %w", oerr)
		return
	}
	defer src.Close()
	recs, _, _, derr := r.decode(src, size, el.off, r.files[el.file], nil)
	if derr != nil {
		return // corrupt: the header's first tick will do
	}
	var rec Record
	for p := 0; p < len(recs); {
		n, _ := decodeRecord(recs[p:], &rec)
		p += n
		if rec.Kind == KindTick {
			last = max(last, rec.Tick)
		}
	}
	return
}
