package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// errHeadless is what a headless build says when asked for a window.
var errHeadless = errors.New("this binary was built with -tags headless, without windows: use a build without the tag")

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "Prints the version of this binary: the module version, the source\n"+
		"revision it was built from, the Go version and the platform.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, version(debug.ReadBuildInfo))
	return nil
}

// version describes this build in one line, from what readBuildInfo
// (debug.ReadBuildInfo) tells: "mpgameserver v1.2.3 (rev 0123abcd4567,
// modified) go1.26.0 linux/amd64 headless".
func version(readBuildInfo func() (*debug.BuildInfo, bool)) string {
	v, rev, modified := "(devel)", "", false
	if bi, ok := readBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "mpgameserver " + v
	if rev != "" {
		line += " (rev " + rev[:min(12, len(rev))]
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	line += " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if windowCommands() == nil {
		line += " headless"
	}
	return line
}
