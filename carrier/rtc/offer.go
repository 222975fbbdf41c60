//go:build !js

package rtc

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// maxOfferCandidates bounds the candidates an offer may carry: a
// browser's offer of one data channel has a few (a host and a
// server-reflexive one per interface).
const maxOfferCandidates = 32

// errOffer: an offer the listener does not take.
var errOffer = errors.New("rtc: the body must be an SDP offer of one data channel")

// checkOffer parses an offer posted from the IP address from and returns
// it with the candidates the server may learn of: UDP ones, at an IP
// address (not an mDNS name) that is neither unspecified, multicast nor
// link-local (where cloud metadata services live), on a port from 1024,
// loopback ones only for a request from the loopback, private ones only
// for a request from a private network. The server is ICE-lite: it never
// sends a connectivity check, to these or any address; it answers the
// browser's checks and replies where they came from. The candidates it
// keeps only name the addresses a check may come from.
//
// An offer is refused when it is not SDP, when it has more than one media
// section or one that is not a data channel's, when it says its end is
// ICE-lite (two lite ends would pick a pair with no check at all, and
// the server would send to an address nobody proved), or when it carries
// more than maxOfferCandidates candidates.
func checkOffer(raw string, from netip.Addr) (string, int, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return "", 0, errOffer
	}
	if len(d.MediaDescriptions) != 1 || d.MediaDescriptions[0].MediaName.Media != "application" {
		return "", 0, errOffer
	}
	m := d.MediaDescriptions[0]
	n := 0
	for _, attrs := range [][]sdp.Attribute{d.Attributes, m.Attributes} {
		for _, a := range attrs {
			switch strings.TrimSpace(a.Key) {
			case sdp.AttrKeyICELite:
				return "", 0, errOffer
			case sdp.AttrKeyCandidate:
				n++
			}
		}
	}
	if n > maxOfferCandidates {
		return "", 0, errOffer
	}
	d.Attributes = keepCandidates(d.Attributes, from)
	m.Attributes = keepCandidates(m.Attributes, from)
	out, err := d.Marshal()
	if err != nil {
		return "", 0, errOffer
	}
	kept := 0
	for _, a := range m.Attributes {
		if a.Key == sdp.AttrKeyCandidate {
			kept++
		}
	}
	for _, a := range d.Attributes {
		if a.Key == sdp.AttrKeyCandidate {
			kept++
		}
	}
	return string(out), kept, nil
}

// keepCandidates returns attrs without the candidates the server may not
// learn of.
func keepCandidates(attrs []sdp.Attribute, from netip.Addr) []sdp.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if strings.TrimSpace(a.Key) == sdp.AttrKeyCandidate {
			addr, ok := candidateAddr(a.Value)
			if !ok || !allowedRemote(addr, from) {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// candidateAddr returns the address of a UDP candidate's value
// ("foundation component transport priority address port typ type ...").
func candidateAddr(v string) (netip.AddrPort, bool) {
	f := strings.Fields(v)
	if len(f) < 8 || !strings.EqualFold(f[2], "udp") || f[6] != "typ" {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddr(f[4])
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[5], 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// sharedIPv4 is the carrier-grade NAT range (RFC 6598): private in
// practice.
var sharedIPv4 = netip.MustParsePrefix("100.64.0.0/10")

// allowedRemote reports whether a candidate at addr is kept for a request
// from the IP address from.
func allowedRemote(addr netip.AddrPort, from netip.Addr) bool {
	a := addr.Addr()
	switch {
	case addr.Port() < 1024,
		!a.IsValid(), a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(),
		a.IsInterfaceLocalMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return false
	case a.IsLoopback():
		return from.IsLoopback()
	case private(a):
		return private(from) || from.IsLoopback()
	}
	return true
}

// private reports whether a is an address of a private network.
func private(a netip.Addr) bool { return a.IsPrivate() || sharedIPv4.Contains(a) }

// answerFor returns the answer's SDP with only the candidates at local,
// the address the signaling request came to, when the listener offers
// every interface's address and the request came from another machine:
// a browser is told the address it reached the server at, not every
// address the machine has (its other networks, its containers' bridges).
// A request from this machine (to a loopback address) is told them all.
func answerFor(raw string, local netip.Addr) string {
	local = local.Unmap()
	if !local.IsValid() || local.IsLoopback() || local.IsUnspecified() {
		return raw
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return raw
	}
	found := false
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key == sdp.AttrKeyCandidate {
				if ap, ok := candidateAddr(a.Value); ok && ap.Addr() == local {
					found = true
				}
			}
		}
	}
	if !found {
		return raw
	}
	for _, m := range d.MediaDescriptions {
		out := m.Attributes[:0]
		for _, a := range m.Attributes {
			if a.Key == sdp.AttrKeyCandidate {
				if ap, ok := candidateAddr(a.Value); !ok || ap.Addr() != local {
					continue
				}
			}
			out = append(out, a)
		}
		m.Attributes = out
	}
	b, err := d.Marshal()
	if err != nil {
		return raw
	}
	return string(b)
}
