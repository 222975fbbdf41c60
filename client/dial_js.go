//go:build js

package client

import (
	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
)

// dialURL reaches a server's signaling URL over WebRTC, the one way a
// browser has: carrier/rtc drives the browser's RTCPeerConnection.
func dialURL(url string) (transport.Conn, error) { return rtc.Dial(url, nil) }
