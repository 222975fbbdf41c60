package sctp

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// Prefetch asks the CPU to load what the next Handle, Send or Flush
// reads and writes first (the association and the start of its output
// buffer), for a caller about to visit many associations: their loads
// from memory overlap instead of stalling each call in turn. It changes
// no result.
func (a *Assoc) Prefetch() {
	prefetch.Range(unsafe.Pointer(a), unsafe.Sizeof(*a))
	if len(a.out) > 0 {
		prefetch.Range(unsafe.Pointer(unsafe.SliceData(a.out)), 2*prefetch.LineSize)
	}
}
