//go:build !headless

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// errNoDisplay is what the window commands say, before they bind or open
// anything, when there is no display to open a window on.
var errNoDisplay = errors.New("no display: set DISPLAY (an X server; under Wayland, XWayland's; or xvfb-run for a virtual one) or use `mpgameserver serve`, which needs no window")

// checkDisplay returns an error, before anything is bound or printed,
// when the windows of this platform need an X server (Ebitengine opens
// its windows through X11 there, under Wayland through XWayland) and
// DISPLAY names none or one that does not answer. getenv is os.Getenv.
func checkDisplay(getenv func(string) string) error {
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly", "illumos", "solaris":
	default:
		return nil
	}
	display := getenv("DISPLAY")
	if display == "" {
		return errNoDisplay
	}
	return probeDisplay(display, 2*time.Second)
}

// probeDisplay connects to the X server DISPLAY names
// ([host]:number[.screen]) and hangs up: it says whether something
// listens there, not whether it will let us in (that is Xauthority's
// business, and the window's error says it).
func probeDisplay(display string, timeout time.Duration) error {
	if strings.HasPrefix(display, "/") {
		return nil // a launchd socket path (XQuartz): no number to probe
	}
	host, rest, ok := strings.Cut(display, ":")
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || n > 59535 {
		return fmt.Errorf("DISPLAY=%q is not a display name (want :0, host:0 or :0.0)", display)
	}
	var tries [][2]string
	switch host = strings.TrimPrefix(host, "tcp/"); host {
	case "", "unix":
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		tries = [][2]string{{"unix", sock}, {"unix", "@" + sock}}
		if host == "" {
			tries = append(tries, [2]string{"tcp", net.JoinHostPort("localhost", strconv.Itoa(6000+n))})
		}
	default:
		tries = [][2]string{{"tcp", net.JoinHostPort(host, strconv.Itoa(6000+n))}}
	}
	for _, try := range tries {
		if runtime.GOOS != "linux" && strings.HasPrefix(try[1], "@") {
			continue // abstract sockets are Linux's
		}
		c, err := net.DialTimeout(try[0], try[1], timeout)
		if err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("DISPLAY=%s: no X server answers there (is it running? xvfb-run gives a virtual one) "+
		"or use `mpgameserver serve`, which needs no window", display)
}
