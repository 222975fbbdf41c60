//go:build !headless && !unix

package main

// screenshotsOnSignal does nothing where there is no SIGUSR1.
func screenshotsOnSignal(func()) (stop func()) { return func() {} }
