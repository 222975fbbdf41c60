package admin

import (
	"net/http"
	"time"
)

// SetClock makes h, a handler of NewHandler, count wrong tokens on the
// clock now. It is set before h serves.
func SetClock(h http.Handler, now func() time.Time) { h.(*handler).now = now }

// Tracked returns how many addresses h's back-off keeps.
func Tracked(h http.Handler) int { return h.(*handler).fails.len() }
