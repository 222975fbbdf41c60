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
