//go:build headless

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHeadlessBuildHasNoWindows(t *testing.T) {
	for _, cmd := range []string{"gui", "play"} {
		code, _, errOut := runArgs(cmd)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "-tags headless")
	}
}

// TestHeadlessHelp: the headless binary's help lists only what it can do.
func TestHeadlessHelp(t *testing.T) {
	_, out, _ := runArgs("--help")
	assert.NotRegexp(t, `(?m)^  (gui|play) `, out)
	assert.Regexp(t, `(?m)^  serve `, out)
	_, out, _ = runArgs("--version")
	assert.Contains(t, out, "headless")
}
