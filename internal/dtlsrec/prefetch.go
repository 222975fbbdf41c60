package dtlsrec

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// PrefetchOpen asks the CPU to load what the next Open reads (the Conn
// and the opening cipher's state), for a caller about to open the records
// of many connections: their loads from memory overlap instead of
// stalling each Open in turn. PrefetchSeal does the same for Seal. A
// prefetch changes no result.
func (c *Conn) PrefetchOpen() {
	prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c))
	c.openState.Prefetch()
}

// PrefetchSeal is PrefetchOpen for Seal.
func (c *Conn) PrefetchSeal() {
	prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c))
	c.sealState.Prefetch()
}
