//go:build js

package rtc

import "github.com/pion/webrtc/v4"

// NewAPI returns the pion API the package uses: under GOOS=js the
// browser's RTCPeerConnection, which decides candidates itself (o is
// ignored).
func NewAPI(o Options) *webrtc.API { return webrtc.NewAPI() }
