//go:build !js

package rtc

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// offered is what the listener takes from a browser's offer.
type offered struct {
	ufrag, pwd  string   // the browser's ICE credentials
	fingerprint [32]byte // SHA-256 of its DTLS certificate
	mid         string   // its data channel section's
	sctpPort    uint16   // its SCTP port
}

// parseOffer reads an offer of one data channel (RFC 8841's
// "UDP/DTLS/SCTP webrtc-datachannel", as browsers and pion make it). It is
// refused (errOffer) when it has another media section or more than one,
// when its end is ICE-lite (two lite ends check nothing), when it gives no
// ICE credentials, no SHA-256 fingerprint, or a DTLS role that leaves the
// listener the client's (it is the DTLS server), or more than
// maxOfferCandidates candidates. The offer's candidates are not used: the
// listener sends only to addresses whose checks reached it.
func parseOffer(raw string) (offered, error) {
	var o offered
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return o, errOffer
	}
	if len(d.MediaDescriptions) != 1 {
		return o, errOffer
	}
	m := d.MediaDescriptions[0]
	if m.MediaName.Media != "application" || len(m.MediaName.Formats) != 1 || m.MediaName.Formats[0] != "webrtc-datachannel" ||
		strings.Join(m.MediaName.Protos, "/") != "UDP/DTLS/SCTP" {
		return o, errOffer
	}
	o.sctpPort = 5000
	var fp string
	candidates := 0
	// Media-level attributes come second and win.
	for _, attrs := range [][]sdp.Attribute{d.Attributes, m.Attributes} {
		for _, a := range attrs {
			v := strings.TrimSpace(a.Value)
			switch strings.TrimSpace(a.Key) {
			case sdp.AttrKeyICELite:
				return o, errOffer
			case sdp.AttrKeyCandidate:
				candidates++
			case "ice-ufrag":
				o.ufrag = v
			case "ice-pwd":
				o.pwd = v
			case "fingerprint":
				fp = v
			case "setup":
				if v != "actpass" && v != "active" {
					return o, errOffer
				}
			case sdp.AttrKeyMID:
				o.mid = v
			case "sctp-port":
				p, err := strconv.ParseUint(v, 10, 16)
				if err != nil || p == 0 {
					return o, errOffer
				}
				o.sctpPort = uint16(p)
			}
		}
	}
	if candidates > maxOfferCandidates || !iceChars(o.ufrag, 4) || !iceChars(o.pwd, 22) || !midChars(o.mid) {
		return o, errOffer
	}
	alg, hexfp, ok := strings.Cut(fp, " ")
	if !ok || !strings.EqualFold(alg, "sha-256") {
		return o, errOffer
	}
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(hexfp), ":", ""))
	if err != nil || len(b) != len(o.fingerprint) {
		return o, errOffer
	}
	copy(o.fingerprint[:], b)
	return o, nil
}

// iceChars reports whether s is an ICE ufrag or password (RFC 8839's
// ice-char: letters, digits, "+" and "/") of min to 256 characters.
func iceChars(s string, min int) bool {
	if len(s) < min || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// midChars reports whether s may be echoed in the answer as a media
// section's identification (RFC 8843's token; we take a safe subset).
func midChars(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// answer is the listener's side of a peer, for the answer's SDP.
type answer struct {
	session     uint64
	mid         string
	ufrag, pwd  string
	fingerprint [32]byte
	candidates  []netip.AddrPort
	maxMessage  int
}

// sdp returns the answer: ICE-lite, DTLS server (setup:passive), a data
// channel on SCTP port sctpPort, one host candidate per address.
func (a answer) sdp() string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", a.session)
	fmt.Fprintf(&b, "a=group:BUNDLE %s\r\na=ice-lite\r\n", a.mid)
	b.WriteString("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n")
	fmt.Fprintf(&b, "a=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", a.mid, a.ufrag, a.pwd)
	b.WriteString("a=fingerprint:sha-256 ")
	for i, c := range a.fingerprint {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	b.WriteString("\r\na=setup:passive\r\n")
	fmt.Fprintf(&b, "a=sctp-port:%d\r\na=max-message-size:%d\r\n", sctpPort, a.maxMessage)
	for i, c := range a.candidates {
		fmt.Fprintf(&b, "a=candidate:%d 1 udp %d %s %d typ host\r\n", i+1, 2130706431-i, c.Addr().Unmap(), c.Port())
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String()
}

// sctpPort is the listener's SCTP port, WebRTC's usual one.
const sctpPort = 5000
