//go:build !js

package rtc

// supported says why this platform cannot make a peer connection: pion
// runs everywhere Go does but under GOOS=js, where the browser does.
func supported() error { return nil }
