//go:build !js

package client

import "github.com/mpgs/mpgameserver/carrier/transport"

// dialURL refuses a server's URL: a native game links the browser carrier
// only when it asks for it (Config.Dial: rtc.Dialer).
func dialURL(string) (transport.Conn, error) { return nil, ErrNoWebRTC }
