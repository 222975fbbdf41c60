// Package syncbuf is a bytes.Buffer that goroutines may write while
// another reads it: what tests hand a logger, a server's handler or a
// command as its output.
package syncbuf

import (
	"bytes"
	"sync"
)

// A Buffer collects writes from any goroutine. The zero value is ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
