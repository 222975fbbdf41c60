//go:build !headless && unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// screenshotsOnSignal saves a screenshot with save on each SIGUSR1, as
// key P does (`kill -USR1 PID` captures a window on a virtual display no
// one can type in), until the returned function is called.
func screenshotsOnSignal(save func()) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sig:
				save()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sig); close(done) }
}
