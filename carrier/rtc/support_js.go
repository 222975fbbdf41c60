//go:build js

package rtc

import (
	"errors"
	"syscall/js"
)

// supported says why this JavaScript host cannot make a peer connection
// (Node, a worker without WebRTC), or nil in a browser that can.
func supported() error {
	if !js.Global().Get("RTCPeerConnection").Truthy() {
		return errors.New("rtc: this JavaScript host has no RTCPeerConnection (a browser has; Node has not)")
	}
	return nil
}
