// Package xvfb gives tests an X display when they have none: Ensure
// starts a virtual X server (Xvfb, when installed) and points DISPLAY at
// it, so that window tests run for real instead of skipping, in this
// process and in the processes it starts.
package xvfb

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// needsX reports whether windows on this platform go through an X
// server, which DISPLAY names.
func needsX() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly", "illumos", "solaris":
		return true
	}
	return false
}

// Ensure makes sure DISPLAY names an X server. When it is set already, or
// windows here do not need X, it does nothing. Otherwise it starts Xvfb
// on a free display number and sets DISPLAY; stop ends that server (call
// it before the process exits). Without Xvfb on the PATH it returns an
// error saying so, and DISPLAY stays unset: window tests then skip.
func Ensure() (stop func(), err error) {
	if !needsX() || os.Getenv("DISPLAY") != "" {
		return func() {}, nil
	}
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		return func() {}, errors.New("xvfb: no DISPLAY and no Xvfb to start one (apt-get install xvfb): window tests skip")
	}
	display, stopX, err := Start(path, 30*time.Second)
	if err != nil {
		return func() {}, err
	}
	os.Setenv("DISPLAY", display)
	return func() {
		stopX()
		os.Unsetenv("DISPLAY")
	}, nil
}

// Start runs the Xvfb at path on the first free display number (Xvfb
// picks it and tells it through -displayfd) with a 1280x1024 screen, and
// returns its DISPLAY value (":N") once it accepts connections, within
// wait. stop ends it.
func Start(path string, wait time.Duration) (display string, stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	cmd := exec.Command(path, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	// The kernel's "kill it with its parent" watches the thread that
	// started it, not the process: start it from a thread of its own that
	// lives, locked, until stop, so that neither the Go runtime retiring a
	// thread nor a test's locked goroutine ending kills the display.
	started, release := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		dieWithParent(cmd)
		err := cmd.Start()
		started <- err
		if err == nil {
			<-release
		}
	}()
	err = <-started
	w.Close()
	if err != nil {
		return "", nil, fmt.Errorf("xvfb: %w", err)
	}
	stop = func() {
		defer close(release)
		// SIGTERM lets it remove its socket and lock file; a server that
		// does not go is killed.
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			stop()
			return "", nil, errors.New("xvfb: Xvfb exited without a display number")
		}
		return ":" + n, stop, nil
	case <-time.After(wait):
		stop()
		return "", nil, fmt.Errorf("xvfb: Xvfb gave no display number in %v", wait)
	}
}
