//go:build headless

package main

// A headless build (go build -tags headless) leaves out Ebitengine and
// everything that opens a window: a smaller binary for production
// servers, with less memory at rest. Its help lists no window commands,
// and asking for one says why it is missing.

func windowCommands() map[string]command { return nil }
