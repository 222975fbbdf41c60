//go:build !headless

package main

// windowCommands are the commands that open a window; a headless build
// has none.
func windowCommands() map[string]command {
	return map[string]command{
		"gui":  {Summary: "run a game server in a monitor window, or watch one elsewhere (--attach) or a recording (--replay)", Run: runGUI},
		"play": {Summary: "open the arena game window and join a server, or watch a recording through a player's eyes (--replay)", Run: runPlay},
	}
}
