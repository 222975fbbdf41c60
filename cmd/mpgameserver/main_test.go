package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	code, out, _ := runArgs()
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "simulate")
	code, out, _ = runArgs("--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: mpgameserver <command>")
	code, _, errOut := runArgs("nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "nope"`)
}

func TestSimulate(t *testing.T) {
	code, out, errOut := runArgs("simulate", "--messages", "200", "--loss", "0.2")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "delivered once 200, more than once 0, lost 0, corrupt 0")
	assert.Contains(t, out, "callbacks: true 200, false 0")

	code, out, _ = runArgs("simulate", "--messages", "200", "--mode", "none", "--size", "50")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "more than once 0")
}

func TestSimulateFlagErrors(t *testing.T) {
	code, _, errOut := runArgs("simulate", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-loss float")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--loss", "x"}, 2, "-loss"},
		{[]string{"--mode", "sometimes"}, 1, `--mode "sometimes"`},
		{[]string{"--loss", "1.5"}, 1, "--loss 1.5"},
		{[]string{"--messages", "0"}, 1, "--messages 0"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, errOut := runArgs(append([]string{"simulate"}, tc.args...)...)
		assert.Equal(t, tc.code, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
	}
}
