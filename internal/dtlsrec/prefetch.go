package dtlsrec

import (
	"crypto/cipher"
	"reflect"
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// cipherState returns where an AEAD's state (its expanded key and hash
// tables) is in memory and its size, when the AEAD is a pointer to a
// struct (Go's AES-GCM is); nil otherwise.
func cipherState(a cipher.AEAD) (unsafe.Pointer, uintptr) {
	if v := reflect.ValueOf(a); v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
		return v.UnsafePointer(), v.Type().Elem().Size()
	}
	return nil, 0
}

// PrefetchOpen asks the CPU to load what the next Open reads (the Conn
// and the opening cipher's state), for a caller about to open the records
// of many connections: their loads from memory overlap instead of
// stalling each Open in turn. PrefetchSeal does the same for Seal. A
// prefetch changes no result.
func (c *Conn) PrefetchOpen() {
	prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c))
	if c.openState != nil {
		prefetch.Range(c.openState, c.openSize)
	}
}

// PrefetchSeal is PrefetchOpen for Seal.
func (c *Conn) PrefetchSeal() {
	prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c))
	if c.sealState != nil {
		prefetch.Range(c.sealState, c.sealSize)
	}
}
