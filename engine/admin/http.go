package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// The HTTP API, under /api/v1/:
//
//	GET  /api/v1/snapshot                       the Document (anyone)
//	POST /api/v1/clients/{token}/disconnect     disconnect a client (token)
//	POST /api/v1/block       {"addr":"1.2.3.4"} block an address (token)
//	PUT  /api/v1/conditions  {"token":0,"conditions":{...}}
//	                                            simulated network (token)
//
// Actions need "Authorization: Bearer <token>"; they answer 204 when
// done, 401 without the right token, 403 when the server has none, 404
// for a client that is not there, 409 without a simulated network, 400
// for a malformed request.

// maxBody bounds a request's body.
const maxBody = 4 << 10

// Handler serves l's Document and actions over HTTP. token ("" for none:
// actions are refused) is what actions must carry as a bearer token.
func Handler(l *Local, token string) http.Handler {
	h := &handler{l: l, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/snapshot", h.snapshot)
	mux.HandleFunc("POST /api/v1/clients/{token}/disconnect", h.action(h.disconnect))
	mux.HandleFunc("POST /api/v1/block", h.action(h.block))
	mux.HandleFunc("PUT /api/v1/conditions", h.action(h.conditions))
	return mux
}

type handler struct {
	l     *Local
	token string
}

func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(h.l.Document(h.token != "")); err != nil {
		return // the client went away
	}
}

// action checks the bearer token, then runs fn, mapping its error to a
// status.
func (h *handler) action(fn func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.token == "" {
			http.Error(w, ErrNoActions.Error(), http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
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
