//go:build !js

package rtc

import (
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// NewAPI returns the pion API the package uses: host candidates only
// (no STUN server), no mDNS, and loopback candidates too when loopback is
// set (a server and its clients on one machine). Under GOOS=js the
// browser decides all of that, and loopback is ignored.
func NewAPI(loopback bool) *webrtc.API {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(loopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}
