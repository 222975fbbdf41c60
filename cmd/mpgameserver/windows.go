//go:build !headless

package main

// windowCommands are the commands that open a window; a headless build
// has none.
func windowCommands() map[string]command {
	return map[string]command{
		"gui":  {"run a game server in a monitor window", runGUI},
		"play": {"open the arena game window and join a server", runPlay},
	}
}
