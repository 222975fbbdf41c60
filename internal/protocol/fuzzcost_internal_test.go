package protocol

import "time"

// Test-only views of unexported state, for the cost checks of the fuzz
// targets (fuzz_test.go, package protocol_test).

// ExpireGapForTest is the least time between two sweeps made because
// memory or slots ran short.
const ExpireGapForTest = expireGap

// LastSweepForTest returns when r last looked at every partial message
// (a sweep or an Expire call).
func LastSweepForTest(r *Reassembler) time.Time { return r.lastExpire }

// FilterWordsForTest returns the number of 64-bit words of f's bitmap
// in use (its ring) and in store (its slice).
func FilterWordsForTest(f *SeqFilter) (inUse, stored int) {
	return int(f.mask + 1), len(f.words)
}

// AcceptTouchesForTest returns how many words of its bitmap Accept(n)
// clears, measured on a copy of f (f is unchanged) whose every stored word
// is filled with ones first, so that clearing one shows.
func AcceptTouchesForTest(f *SeqFilter, n uint64) int {
	c := *f
	c.words = make([]uint64, len(f.words))
	b := c.words
	for i := range b {
		b[i] = ^uint64(0)
	}
	c.Accept(n)
	touched := 0
	for _, w := range b {
		if w != ^uint64(0) {
			touched++
		}
	}
	return touched
}
