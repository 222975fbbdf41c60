package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
)

func TestOptions(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	pem := string(root.Public().MarshalPEM())

	o, err := options([]string{"-server", "http://127.0.0.1:8080/rtc", "-key", pem, "-name", "ann\x07", "-color", "3"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/rtc", o.Server)
	assert.True(t, root.Public().Equal(o.Key))
	assert.Equal(t, "ann", o.Name, "control characters are left out, as the server would")
	assert.Equal(t, uint8(3), o.Color)

	// What the page passes when the URL has no ?name= nor ?color=.
	o, err = options([]string{"-server", "https://example.com/rtc", "-key", "", "-name", "", "-color", ""}, io.Discard)
	require.NoError(t, err)
	assert.Nil(t, o.Key, "no key: trust the server's")
	assert.Equal(t, colorOf(""), o.Color)
	a, _ := options([]string{"-server", "s", "-name", "bob"}, io.Discard)
	b, _ := options([]string{"-server", "s", "-name", "bob"}, io.Discard)
	assert.Equal(t, a.Color, b.Color, "a name keeps its color")

	for _, bad := range [][]string{
		{},
		{"-server", "s", "-key", "not a key"},
		{"-server", "s", "-color", "12"},
		{"-server", "s", "-color", "red"},
		{"-server", "s", "extra", "-nope"},
	} {
		_, err := options(bad, io.Discard)
		assert.Error(t, err, "%q", bad)
	}
}
