//go:build !linux

package main

// pin does nothing where CPU affinity is not Linux's.
func pin(pid, cpu int) bool { return false }
