package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNameWarning: a --name the game will not show as given is warned
// about, with the name the player will have.
func TestNameWarning(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"ann", ""},
		{"sixteen-letters!", ""},
		{"Maximilian the Great", `warning: --name "Maximilian the Great" is longer than 16 bytes: you will play as "Maximilian_the_G"`},
		{"ÉÉÉÉÉÉÉÉÉ", `warning: --name "ÉÉÉÉÉÉÉÉÉ" is longer than 16 bytes: you will play as "ÉÉÉÉÉÉÉÉ"`},
		{"tab\there", `warning: --name "tab\there" has spaces: a name is one word, you will play as "tab_here"`},
		{"Ada Lovelace", `warning: --name "Ada Lovelace" has spaces: a name is one word, you will play as "Ada_Lovelace"`},
		{"bo\u202eb", `warning: --name "bo\u202eb" has control or invisible characters: you will play as "bob"`},
		{"\x01\x02", `warning: --name "\x01\x02" has nothing printable: the server will name you`},
	} {
		assert.Equal(t, tc.want, nameWarning(tc.name), tc.name)
	}
	assert.True(t, strings.Contains(nameWarning(strings.Repeat("x", 40)), `"`+strings.Repeat("x", 16)+`"`))
}
