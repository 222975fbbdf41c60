package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/server"
)

// maxDocument bounds a Document's size: a server with thousands of
// clients sends a few MB.
const maxDocument = 64 << 20

// ErrPlainToken is why a Remote does not send its token: the server's
// URL is plain http:// to a host that is not loopback, where anyone on
// the path could read the token.
var ErrPlainToken = errors.New("admin: refusing to send the token over plain http:// to a host that is not loopback: " +
	"use https://, or an SSH tunnel to a loopback address (ssh -L 8080:127.0.0.1:8080 HOST, then http://127.0.0.1:8080)")

// Remote is a server elsewhere, attached over its HTTP API (NewHandler):
// the same methods as Local, from the latest Document fetched. Run
// fetches one a second. Its methods may be called from any goroutine.
//
// With a token, it fetches the full Document; without, the server sends
// it redacted (Redacted). It never sends its token over plain http:// to
// a host that is not loopback (see CheckAttach), and follows no
// redirects (the API sends none, and one could carry the token
// elsewhere).
type Remote struct {
	base   string
	token  string
	client *http.Client
	refuse error // why no request is made (ErrPlainToken)

	mu      sync.Mutex
	doc     Document
	version uint64
	contact Contact
}

// Contact is how a Remote's polling goes.
type Contact struct {
	URL string
	// Last is when a Document last arrived (zero: never).
	Last time.Time
	// Err is why the latest poll failed (nil when it worked).
	Err error
	// Failures counts polls failed in a row.
	Failures int
}

// Attach returns a Remote of the server whose HTTP address is base
// ("http://127.0.0.1:8080"; without a scheme, http), with the token its
// actions and full reads need ("": none; the admin or the read token).
// client may be nil (http.DefaultClient's transport, 5 s timeout); the
// Remote uses a copy of it that follows no redirect.
//
// When CheckAttach(base, token) returns an error, such as ErrPlainToken,
// the Remote makes no request: Poll and every action return that error.
func Attach(base, token string, client *http.Client) *Remote {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	c := *client // the same transport, without redirects
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base = baseURL(base)
	return &Remote{base: base, token: token, client: &c, refuse: CheckAttach(base, token), contact: Contact{URL: base}}
}

// baseURL trims base's trailing slashes and gives it a scheme (http).
func baseURL(base string) string {
	base = strings.TrimRight(base, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return base
}

// CheckAttach returns the error a Remote of Attach(base, token, …) would
// return without making any request: ErrPlainToken when token is not
// empty and base is plain http:// to a host that is not loopback
// (localhost, a name under .localhost, an address in 127.0.0.0/8 or
// ::1), or why base is not a URL. A command calls it before it opens a
// window. It decides on base's text: it resolves no name.
func CheckAttach(base, token string) error {
	if token == "" {
		return nil
	}
	u, err := url.Parse(baseURL(base))
	if err != nil {
		return fmt.Errorf("admin: %q is not a URL: %w", base, err)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return ErrPlainToken
	}
	return nil
}

// loopbackHost reports whether host, a URL's host without port, names
// the loopback interface.
func loopbackHost(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().IsLoopback()
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// Run polls every interval (a second when zero) until ctx is done.
func (r *Remote) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = r.Poll(ctx) // kept in Contact
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll fetches the Document once. A server that refuses (a wrong
// token: ErrDenied; 421, 429) gives an error with its reason.
func (r *Remote) Poll(ctx context.Context) error {
	doc, err := r.fetch(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.contact.Err = err
		r.contact.Failures++
		return err
	}
	if !doc.Snapshot.Taken.Equal(r.doc.Snapshot.Taken) || doc.Snapshot.Addr != r.doc.Snapshot.Addr || r.version == 0 {
		r.version++
	}
	r.doc = *doc
	r.contact.Last, r.contact.Err, r.contact.Failures = time.Now(), nil, 0
	return nil
}

func (r *Remote) fetch(ctx context.Context) (*Document, error) {
	if r.refuse != nil {
		return nil, r.refuse
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/api/v1/snapshot", nil)
	if err != nil {
		return nil, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("%w (%s)", ErrDenied, r.base)
	default:
		return nil, fmt.Errorf("admin: %s answered %s%s", r.base, resp.Status, reason(resp.Body))
	}
	var doc Document
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("admin: %s sent no document: %w", r.base, err)
	}
	if doc.Version != Version {
		return nil, fmt.Errorf("admin: %s speaks version %d of the document, this monitor %d", r.base, doc.Version, Version)
	}
	return &doc, nil
}

// Contact tells how polling goes.
func (r *Remote) Contact() Contact {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.contact
}

// Snapshot copies the latest snapshot into dst.
func (r *Remote) Snapshot(dst *server.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.doc.Snapshot.CopyTo(dst)
}

// SnapshotVersion changes each time a new snapshot arrived.
func (r *Remote) SnapshotVersion() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// Redacted reports whether the latest Document came redacted (see
// Document.Redact): the server sends it so without a token, and a
// monitor then has no clients' rows or log lines to show.
func (r *Remote) Redacted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc.Redacted
}

// Logs returns the server's latest warnings and errors.
func (r *Remote) Logs() []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]LogLine(nil), r.doc.Logs...)
}

// Network returns the server's simulated network.
func (r *Remote) Network() Network {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc.Network
}

// Actions reports whether the server takes actions and this Remote has
// a token to ask with.
func (r *Remote) Actions() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc.Actions && r.token != ""
}

// Disconnect asks the server to disconnect the client of token.
func (r *Remote) Disconnect(ctx context.Context, token uint32) error {
	return r.act(ctx, http.MethodPost, "/api/v1/clients/"+strconv.FormatUint(uint64(token), 10)+"/disconnect", nil)
}

// Block asks the server to block addr.
func (r *Remote) Block(ctx context.Context, addr netip.Addr) error {
	return r.act(ctx, http.MethodPost, "/api/v1/block", blockRequest{Addr: addr.String()})
}

// SetConditions asks the server to apply c to the client of token (0:
// all).
func (r *Remote) SetConditions(ctx context.Context, token uint32, c Conditions) error {
	return r.act(ctx, http.MethodPut, "/api/v1/conditions", conditionsRequest{Token: token, Conditions: c})
}

func (r *Remote) act(ctx context.Context, method, path string, body any) error {
	if r.refuse != nil {
		return r.refuse
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg := reason(resp.Body)
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return ErrDenied
	case http.StatusForbidden:
		if msg == ": "+ErrReadOnly.Error() {
			return ErrReadOnly
		}
		return ErrNoActions
	case http.StatusNotFound:
		return ErrNoClient
	case http.StatusConflict:
		return ErrNoNetwork
	}
	return fmt.Errorf("admin: %s %s: %s%s", method, path, resp.Status, msg)
}

// reason returns the start of a refusal's text, after ": " ("" when
// there is none).
func reason(body io.Reader) string {
	msg, _ := io.ReadAll(io.LimitReader(body, 1024))
	if s := strings.TrimSpace(string(msg)); s != "" {
		return ": " + s
	}
	return ""
}

// Source is what a monitor reads from a server, here or attached: Local
// and Remote both are one.
type Source interface {
	Snapshot(*server.Snapshot)
	SnapshotVersion() uint64
	Logs() []LogLine
	Network() Network
	// Actions reports whether the actions below may be taken.
	Actions() bool
	Disconnect(ctx context.Context, token uint32) error
	Block(ctx context.Context, addr netip.Addr) error
	SetConditions(ctx context.Context, token uint32, c Conditions) error
}

var (
	_ Source = (*Local)(nil)
	_ Source = (*Remote)(nil)
)
