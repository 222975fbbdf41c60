//go:build !linux

package xvfb

import "os/exec"

// dieWithParent leaves cmd as it is: only Linux kills children with
// their parent (the tests stop the server themselves).
func dieWithParent(*exec.Cmd) {}
