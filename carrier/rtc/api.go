//go:build !js

package rtc

import (
	"log/slog"
	"net"
	"net/netip"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// NewAPI returns the pion API for peer connections that offer the
// addresses o allows: host candidates only (no STUN server), no mDNS
// names. Under GOOS=js the browser decides all of that, and o is ignored.
func NewAPI(o Options) *webrtc.API {
	return webrtc.NewAPI(webrtc.WithSettingEngine(o.settings(nil)))
}

// settings is o as a pion setting engine whose log lines go to log at
// debug level (nil: nowhere).
func (o Options) settings(log *slog.Logger) webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs(log)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	host := o.Host.Unmap()
	if host.IsValid() && !host.IsUnspecified() {
		se.SetIncludeLoopbackCandidate(host.IsLoopback())
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			return ok && a.Unmap() == host
		})
	} else {
		se.SetIncludeLoopbackCandidate(true)
	}
	if len(o.Public) > 0 {
		ips := make([]string, len(o.Public))
		for i, a := range o.Public {
			ips[i] = a.String()
		}
		_ = se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: ips, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace})
	}
	return se
}
