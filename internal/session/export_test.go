package session

// PeerExtended reports whether c knows its peer speaks the extension
// messages (for the external tests).
func PeerExtended(c *Conn) bool { return c.peer.ext }
