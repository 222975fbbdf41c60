//go:build js

package rtc

import "github.com/pion/webrtc/v4"

// NewAPI returns the pion API the package uses: under GOOS=js the
// browser's RTCPeerConnection, which decides candidates itself (loopback
// is ignored).
func NewAPI(loopback bool) *webrtc.API { return webrtc.NewAPI() }
