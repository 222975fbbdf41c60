package gui

import (
	"testing"

	"github.com/mpgs/mpgameserver/internal/guitest"
)

// win is the test binary's window (nil without a display).
var win *guitest.Window

func TestMain(m *testing.M) { guitest.Main(m, &win) }
