//go:build headless

package main

import (
	"context"
	"errors"
	"io"
)

// A headless build (go build -tags headless) leaves out Ebitengine and
// everything that opens a window: a smaller binary for production
// servers, with less memory at rest.

var errHeadless = errors.New("this binary was built with -tags headless, without windows: use a build without the tag")

func runGUI(context.Context, []string, io.Writer, io.Writer) error { return errHeadless }

func runPlay(context.Context, []string, io.Writer, io.Writer) error { return errHeadless }
