//go:build !headless

package main

import (
	"errors"
	"runtime"
)

// errNoDisplay is what the window commands say, before they bind or open
// anything, when there is no display to open a window on.
var errNoDisplay = errors.New("no display: set DISPLAY (an X server, or xvfb-run for a virtual one) or use `mpgameserver serve`, which needs no window")

// checkDisplay returns errNoDisplay when the windows of this platform need
// a display server and the environment names none. getenv is os.Getenv.
func checkDisplay(getenv func(string) string) error {
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly", "illumos", "solaris":
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return errNoDisplay
		}
	}
	return nil
}
