package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The HTTP API, under /api/v1/:
//
//	GET  /api/v1/snapshot                       the Document: in full with a
//	                                            token (admin or read),
//	                                            redacted without
//	POST /api/v1/clients/{token}/disconnect     disconnect a client (admin)
//	POST /api/v1/block       {"addr":"1.2.3.4"} block an address (admin)
//	PUT  /api/v1/conditions  {"token":0,"conditions":{...}}
//	                                            simulated network (admin)
//
// A token travels as "Authorization: Bearer <token>". Actions answer 204
// when done, 401 without the admin token, 403 when the server has none or
// to the read token, 404 for a client that is not there, 409 without a
// simulated network, 400 for a malformed request. Any route answers 421
// to a Host that is not allowed, 401 to a wrong token and 429 to an
// address in back-off.

// maxBody bounds a request's body.
const maxBody = 4 << 10

// MinTokenLen is the shortest admin or read token NewHandler takes, in
// bytes.
const MinTokenLen = 16

// MaxProfileSeconds is the longest profile or trace the handler takes
// (the seconds parameter of /debug/pprof/profile and /debug/pprof/trace).
const MaxProfileSeconds = 30

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Token is the admin token: it takes the actions and reads the full
	// Document. Empty: the server takes no actions.
	Token string
	// ReadToken, when not empty, reads the full Document but takes no
	// action: for a monitor that only watches. It must differ from Token.
	ReadToken string
	// Hosts are the host names (without port, any case) requests may be
	// addressed to besides localhost, *.localhost and IP literals: the
	// names under which the server is reached ("admin.example.com").
	Hosts []string
	// Profiles serves Go's profiles under /debug/pprof/ to requests with
	// the admin token or from loopback.
	Profiles bool
	// Logger receives a warning when an address is backed off (nil:
	// nowhere).
	Logger *slog.Logger
}

// NewHandler serves l's Document and actions over HTTP, and Go's profiles
// with cfg.Profiles. It serves paths under /api/ and, with Profiles,
// under /debug/pprof/: mount it at both prefixes,
//
//	mux.Handle("/api/", h)
//	mux.Handle("/debug/pprof/", h)
//
// What anyone who reaches it may read is the redacted Document (see
// Document.Redact): counters, per-second figures and the network
// conditions applied to all, without clients' addresses and tokens or log
// lines. The full Document needs the admin token or the read token;
// actions need the admin token; profiles need the admin token or a
// request from a loopback address (127.0.0.0/8, ::1; behind a reverse
// proxy on the same host every request is one, so do not enable profiles
// there), and take at most MaxProfileSeconds seconds (more is refused
// with 400).
//
// Every request must be addressed (its Host) to localhost, a name under
// .localhost, an IP literal or one of cfg.Hosts; others are refused with
// 421, which keeps DNS rebinding from reaching a loopback-bound server
// from a browser.
//
// A request carrying a token that is neither counts against its address
// (an IPv4 address, or an IPv6 /64): after 5 within a minute every
// request with a token from that address, even the right one, is refused
// with 429 and Retry-After until the minute has passed, so that guessing
// cannot go on. Requests without a token are not counted and are served
// as usual. Behind a reverse proxy all clients share the proxy's address.
//
// NewHandler returns an error when a token is shorter than MinTokenLen,
// when both tokens are the same, or when a host is not a plain name.
func NewHandler(l *Local, cfg HandlerConfig) (http.Handler, error) {
	h, err := newHandler(l, cfg)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Handler serves l's Document and actions over HTTP with token as the
// admin token ("" for none: actions are refused). If token is too short
// for NewHandler, every request that needs it is answered 500 with the
// reason.
//
// Deprecated: use NewHandler, which reports a token too short.
func Handler(l *Local, token string) http.Handler {
	h, err := newHandler(l, HandlerConfig{Token: token})
	if err == nil {
		return h
	}
	if h, _ = newHandler(l, HandlerConfig{}); h == nil { // no Local
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	h.broken = err
	return h
}

// access is what a request's token lets it do.
type access int

const (
	anonymous     access = iota // no token
	reader                      // the read token
	administrator               // the admin token
)

type handler struct {
	l        *Local
	admin    [sha256.Size]byte // hashes, compared in constant time
	read     [sha256.Size]byte
	hasAdmin bool
	hasRead  bool
	hosts    map[string]bool
	log      *slog.Logger
	mux      *http.ServeMux
	fails    *backoff
	now      func() time.Time // the back-off's clock
	broken   error            // why the token given to Handler is refused
}

func newHandler(l *Local, cfg HandlerConfig) (*handler, error) {
	if l == nil {
		return nil, errors.New("admin: NewHandler needs a Local")
	}
	h := &handler{
		l:     l,
		hosts: map[string]bool{},
		log:   cfg.Logger,
		mux:   http.NewServeMux(),
		fails: newBackoff(),
		now:   time.Now,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h.hasAdmin, h.admin = cfg.Token != "", sha256.Sum256([]byte(cfg.Token))
	h.hasRead, h.read = cfg.ReadToken != "", sha256.Sum256([]byte(cfg.ReadToken))
	for _, name := range cfg.Hosts {
		h.hosts[strings.TrimSuffix(strings.ToLower(name), ".")] = true
	}

	h.mux.HandleFunc("GET /api/v1/snapshot", h.snapshot)
	h.mux.HandleFunc("POST /api/v1/clients/{token}/disconnect", h.action(h.disconnect))
	h.mux.HandleFunc("POST /api/v1/block", h.action(h.block))
	h.mux.HandleFunc("PUT /api/v1/conditions", h.action(h.conditions))
	if cfg.Profiles {
		h.mux.Handle("GET /debug/pprof/", h.profile(http.HandlerFunc(pprof.Index)))
		h.mux.Handle("GET /debug/pprof/cmdline", h.profile(http.HandlerFunc(pprof.Cmdline)))
		h.mux.Handle("GET /debug/pprof/profile", h.profile(http.HandlerFunc(pprof.Profile)))
		h.mux.Handle("GET /debug/pprof/symbol", h.profile(http.HandlerFunc(pprof.Symbol)))
		h.mux.Handle("POST /debug/pprof/symbol", h.profile(http.HandlerFunc(pprof.Symbol)))
		h.mux.Handle("GET /debug/pprof/trace", h.profile(http.HandlerFunc(pprof.Trace)))
		for _, name := range []string{"heap", "goroutine", "allocs", "block", "mutex", "threadcreate"} {
			h.mux.Handle("GET /debug/pprof/"+name, h.profile(pprof.Handler(name)))
		}
	}
	return h, nil
}

// Validate returns why NewHandler would refuse c: a token shorter than
// MinTokenLen or with spaces around it, both tokens the same, a host that
// is not a plain name. A program calls it before it binds anything.
func (c HandlerConfig) Validate() error {
	if err := checkToken("admin token", c.Token); err != nil {
		return err
	}
	if err := checkToken("read token", c.ReadToken); err != nil {
		return err
	}
	if c.Token != "" && c.Token == c.ReadToken {
		return errors.New("admin: the read token is the admin token: give it another, or none")
	}
	for _, name := range c.Hosts {
		n := strings.TrimSuffix(strings.ToLower(name), ".")
		if n == "" || strings.ContainsAny(n, ":/[] \t") {
			return fmt.Errorf("admin: allowed host %q: give a host name, without scheme or port", name)
		}
	}
	return nil
}

// checkToken returns why tok cannot be the token called what.
func checkToken(what, tok string) error {
	if tok == "" {
		return nil
	}
	if len(tok) < MinTokenLen {
		return fmt.Errorf("admin: the %s is %d bytes, too short to resist guessing: give at least %d "+
			"(make one with `openssl rand -hex 16` or `head -c 16 /dev/urandom | base64`)", what, len(tok), MinTokenLen)
	}
	if strings.TrimSpace(tok) != tok || strings.ContainsFunc(tok, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("admin: the %s has spaces around it or control characters (a newline from a file?): "+
			"it could not travel in an Authorization header", what)
	}
	return nil
}

// ServeHTTP checks the request's Host, then serves it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hostAllowed(r.Host) {
		http.Error(w, fmt.Sprintf("admin: requests addressed to %q are refused: add the name to the allowed hosts "+
			"(HandlerConfig.Hosts), or use localhost or the IP address", r.Host), http.StatusMisdirectedRequest)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// hostAllowed reports whether a request with Host hostport may be
// served: localhost, a name under .localhost, an IP literal (a DNS
// rebinding always uses a name), or an allowed name.
func (h *handler) hostAllowed(hostport string) bool {
	host := hostport
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || !isPort(host[end+1:], true) {
			return false
		}
		a, err := netip.ParseAddr(host[1:end])
		return err == nil && a.Is6()
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if !isPort(host[i:], true) {
			return false
		}
		host = host[:i]
	}
	if strings.Contains(host, ":") {
		return false // IPv6 without brackets
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Is4()
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case name == "":
		return false
	case name == "localhost", strings.HasSuffix(name, ".localhost"):
		return true
	}
	return h.hosts[name]
}

// isPort reports whether s is ":" and a port number (or nothing, when
// empty is true).
func isPort(s string, empty bool) bool {
	if s == "" {
		return empty
	}
	if s[0] != ':' || len(s) > 6 {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// authenticate returns what r's token lets it do. When it refuses the
// token (wrong, or its address backed off) it answers r and reports
// false.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (access, bool) {
	auth := r.Header.Values("Authorization")
	if len(auth) == 0 {
		return anonymous, true
	}
	if h.broken != nil {
		http.Error(w, h.broken.Error(), http.StatusInternalServerError)
		return anonymous, false
	}
	if !h.hasAdmin && !h.hasRead {
		return anonymous, true // there is nothing to guess
	}
	key, now := clientKey(r.RemoteAddr), h.now()
	if wait := h.fails.wait(key, now); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, fmt.Sprintf("admin: too many wrong tokens from this address: try again in %d s", secs), http.StatusTooManyRequests)
		return anonymous, false
	}
	if len(auth) == 1 {
		if tok, ok := bearer(auth[0]); ok {
			sum := sha256.Sum256([]byte(tok))
			if h.hasAdmin && subtle.ConstantTimeCompare(sum[:], h.admin[:]) == 1 {
				return administrator, true
			}
			if h.hasRead && subtle.ConstantTimeCompare(sum[:], h.read[:]) == 1 {
				return reader, true
			}
		}
	}
	if h.fails.fail(key, now) {
		h.log.Warn("admin: wrong tokens: refusing tokens from the address for a while",
			"from", key.String(), "failures", backoffFailures, "for", backoffWindow)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="mpgameserver"`)
	http.Error(w, ErrDenied.Error(), http.StatusUnauthorized)
	return anonymous, false
}

// bearer returns the token of an Authorization header's value.
func bearer(v string) (string, bool) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) {
	who, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	d := h.l.Document(h.hasAdmin && who != reader)
	if who == anonymous {
		d.Redact()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(d); err != nil {
		return // the client went away
	}
}

// action checks the admin token, then runs fn, mapping its error to a
// status.
func (h *handler) action(fn func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.broken != nil {
			http.Error(w, h.broken.Error(), http.StatusInternalServerError)
			return
		}
		who, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		switch {
		case !h.hasAdmin:
			http.Error(w, ErrNoActions.Error(), http.StatusForbidden)
			return
		case who == reader:
			http.Error(w, ErrReadOnly.Error(), http.StatusForbidden)
			return
		case who != administrator:
			w.Header().Set("WWW-Authenticate", `Bearer realm="mpgameserver"`)
			http.Error(w, ErrDenied.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		err := fn(r)
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrNoClient):
			http.Error(w, err.Error(), http.StatusNotFound)
		case errors.Is(err, ErrNoNetwork):
			http.Error(w, err.Error(), http.StatusConflict)
		case errors.As(err, new(*badRequest)):
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}
}

// profile serves next, one of Go's profiles, to a request with the admin
// token or from loopback, for at most MaxProfileSeconds.
func (h *handler) profile(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		if who != administrator && !isLoopback(r.RemoteAddr) {
			if who == reader {
				http.Error(w, "admin: refused: the read token does not read profiles; they need the admin token", http.StatusForbidden)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="mpgameserver"`)
			http.Error(w, "admin: refused: profiles need the admin token, or a request from loopback", http.StatusUnauthorized)
			return
		}
		if v := r.URL.Query().Get("seconds"); v != "" {
			// The profiles read it as a number of seconds, whole or not.
			if s, err := strconv.ParseFloat(v, 64); err == nil && !(s <= MaxProfileSeconds) {
				http.Error(w, fmt.Sprintf("admin: seconds=%s: profiles and traces take at most %d seconds", v, MaxProfileSeconds),
					http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type badRequest struct{ err error }

func (b *badRequest) Error() string { return "admin: bad request: " + b.err.Error() }

func (h *handler) disconnect(r *http.Request) error {
	tok, err := strconv.ParseUint(r.PathValue("token"), 10, 32)
	if err != nil {
		return &badRequest{err}
	}
	return h.l.Disconnect(r.Context(), uint32(tok))
}

// blockRequest is the body of POST /api/v1/block.
type blockRequest struct {
	Addr string `json:"addr"`
}

func (h *handler) block(r *http.Request) error {
	var req blockRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	a, err := netip.ParseAddr(req.Addr)
	if err != nil {
		return &badRequest{err}
	}
	return h.l.Block(r.Context(), a)
}

// conditionsRequest is the body of PUT /api/v1/conditions.
type conditionsRequest struct {
	Token      uint32     `json:"token"`
	Conditions Conditions `json:"conditions"`
}

func (h *handler) conditions(r *http.Request) error {
	var req conditionsRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	if err := req.Conditions.Valid(); err != nil {
		return &badRequest{err}
	}
	return h.l.SetConditions(r.Context(), req.Token, req.Conditions)
}

func decode(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badRequest{err}
	}
	return nil
}
