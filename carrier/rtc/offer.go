//go:build !js

package rtc

import "errors"

// maxOfferCandidates bounds the candidates an offer may carry: a
// browser's offer of one data channel has a few (a host and a
// server-reflexive one per interface). The listener uses none of them.
const maxOfferCandidates = 32

// errOffer: an offer the listener does not take.
var errOffer = errors.New("rtc: the body must be an SDP offer of one data channel")
