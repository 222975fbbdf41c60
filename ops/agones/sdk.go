package agones

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// EnvPort is the environment variable in which Agones gives a game
// server's container the port of its SDK sidecar's HTTP API.
const EnvPort = "AGONES_SDK_HTTP_PORT"

// DefaultPort is the sidecar's HTTP port when EnvPort is not set.
const DefaultPort = 9358

// Defaults of Config.
const (
	DefaultRetryFor    = 30 * time.Second
	DefaultCallTimeout = 10 * time.Second
)

// Bounds on what the sidecar may make the client read.
const (
	// MaxLine caps one JSON object of the watch stream; a longer line
	// ends the stream (WatchGameServer reconnects).
	MaxLine = 1 << 20
	// maxResponse caps the body of a unary call's answer.
	maxResponse = 4 << 20
	// maxErrorBody is how much of a non-2xx answer's body StatusError
	// keeps.
	maxErrorBody = 512
)

// Config configures an SDK; a zero field means its default.
type Config struct {
	// BaseURL is the sidecar's address, such as "http://localhost:9358".
	// When empty, the sidecar is http://localhost:Port.
	BaseURL string
	// Port is the sidecar's HTTP port when BaseURL is empty (DefaultPort).
	Port int
	// HTTPClient makes the requests. Nil: a client of its own that never
	// goes through a proxy. Tests give one whose Transport calls a fake
	// sidecar in memory. Its Timeout must be zero (WatchGameServer's
	// stream lasts); each call has CallTimeout instead.
	HTTPClient *http.Client
	// Logger receives the SDK's log lines, a few at most per kind of
	// failure and interval (discarded when nil).
	Logger *slog.Logger
	// RetryFor is how long a call goes on retrying, with backoff, while
	// the sidecar cannot be reached: it may start after the game server
	// (30 s; negative: a single attempt). Answers, errors included, are
	// never retried.
	RetryFor time.Duration
	// CallTimeout bounds each attempt of a call (10 s).
	CallTimeout time.Duration

	invalid error // why the environment FromEnv read is unusable
}

// FromEnv returns the Config of the sidecar that Agones announces in the
// environment (getenv is os.Getenv, or a map's lookup in tests; nil means
// os.Getenv), and whether EnvPort was set, that is whether the process
// runs under Agones. When it is not set, the Config is the default
// (http://localhost:9358). An invalid port makes New fail.
func FromEnv(getenv func(string) string) (Config, bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := strings.TrimSpace(getenv(EnvPort))
	if v == "" {
		return Config{}, false
	}
	// The variable goes into the sidecar's URL: a port number and nothing
	// else ("1@elsewhere" would send the calls to another host).
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil || n == 0 {
		return Config{invalid: fmt.Errorf("agones: %s=%q is not a port number", EnvPort, v)}, true
	}
	return Config{Port: int(n)}, true
}

// An SDK talks to the Agones SDK sidecar of the pod over its REST API.
// Its methods may be called from any goroutine.
type SDK struct {
	base        string // scheme://host:port, no trailing slash
	hc          *http.Client
	log         *slog.Logger
	lim         *limiter
	retryFor    time.Duration
	callTimeout time.Duration
}

// New returns an SDK of cfg. It makes no request.
func New(cfg Config) (*SDK, error) {
	if cfg.invalid != nil {
		return nil, cfg.invalid
	}
	base := cfg.BaseURL
	if base == "" {
		port := cfg.Port
		if port == 0 {
			port = DefaultPort
		}
		if port < 0 || port > 65535 {
			return nil, fmt.Errorf("agones: port %d out of range", port)
		}
		base = "http://localhost:" + strconv.Itoa(port)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("agones: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("agones: base URL %q is not http://host:port", base)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("agones: base URL %q: bad port", base)
		}
	}
	if cfg.CallTimeout < 0 {
		return nil, fmt.Errorf("agones: negative CallTimeout %v", cfg.CallTimeout)
	}
	s := &SDK{
		base:        strings.TrimRight(u.String(), "/"),
		hc:          cfg.HTTPClient,
		log:         cfg.Logger,
		lim:         newLimiter(logEvery),
		retryFor:    cfg.RetryFor,
		callTimeout: cfg.CallTimeout,
	}
	if s.hc == nil {
		s.hc = &http.Client{Transport: &http.Transport{
			Proxy:                 nil, // the sidecar is in the pod
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 0, // the watch waits for its first event
		}}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.retryFor == 0 {
		s.retryFor = DefaultRetryFor
	}
	if s.callTimeout == 0 {
		s.callTimeout = DefaultCallTimeout
	}
	return s, nil
}

// BaseURL returns the sidecar's address.
func (s *SDK) BaseURL() string { return s.base }

// A StatusError is a call the sidecar answered with a status other than
// 2xx.
type StatusError struct {
	Call       string // the SDK call: "ready", "set counter", ...
	Method     string
	Path       string
	StatusCode int
	// Body is the start of the answer's body (the sidecar's message).
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("agones: %s: %s %s: %d %s", e.Call, e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// Ready tells Agones the game server is ready to take players: its state
// becomes Ready and it may be allocated.
func (s *SDK) Ready(ctx context.Context) error {
	return s.call(ctx, "ready", http.MethodPost, "/ready", struct{}{}, nil)
}

// Health is the game server's heartbeat: Agones marks it Unhealthy when
// none arrives for the GameServer's health period times its failure
// threshold.
func (s *SDK) Health(ctx context.Context) error {
	return s.call(ctx, "health", http.MethodPost, "/health", struct{}{}, nil)
}

// Shutdown tells Agones the game server is done: its state becomes
// Shutdown and the pod is deleted.
func (s *SDK) Shutdown(ctx context.Context) error {
	return s.call(ctx, "shutdown", http.MethodPost, "/shutdown", struct{}{}, nil)
}

// Allocate marks the game server Allocated itself (a game server that
// fills its own seats, rather than one a GameServerAllocation chose).
func (s *SDK) Allocate(ctx context.Context) error {
	return s.call(ctx, "allocate", http.MethodPost, "/allocate", struct{}{}, nil)
}

// Reserve marks the game server Reserved for d, rounded up to whole
// seconds: it cannot be allocated, scaled down or deleted meanwhile, then
// goes back to Ready. A d of 0 reserves it until a state change (Ready,
// Allocate, Shutdown).
func (s *SDK) Reserve(ctx context.Context, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("agones: reserve: negative duration %v", d)
	}
	secs := int64((d + time.Second - 1) / time.Second)
	return s.call(ctx, "reserve", http.MethodPost, "/reserve", struct {
		Seconds string `json:"seconds"`
	}{strconv.FormatInt(secs, 10)}, nil)
}

// SetLabel sets a label on the GameServer. Agones prefixes its key with
// "agones.dev/sdk-"; the key must be a valid label name.
func (s *SDK) SetLabel(ctx context.Context, key, value string) error {
	return s.call(ctx, "set label", http.MethodPut, "/metadata/label", keyValue{key, value}, nil)
}

// SetAnnotation sets an annotation on the GameServer, its key prefixed
// with "agones.dev/sdk-" like SetLabel's.
func (s *SDK) SetAnnotation(ctx context.Context, key, value string) error {
	return s.call(ctx, "set annotation", http.MethodPut, "/metadata/annotation", keyValue{key, value}, nil)
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// GameServer returns the GameServer as the sidecar knows it now.
func (s *SDK) GameServer(ctx context.Context) (*GameServer, error) {
	var w wireGameServer
	if err := s.call(ctx, "get gameserver", http.MethodGet, "/gameserver", nil, &w); err != nil {
		return nil, err
	}
	return w.gameServer(), nil
}

// Counter returns the counter name of the GameServer's status (the beta
// Counters API; the counter must be declared in the GameServer's spec).
func (s *SDK) Counter(ctx context.Context, name string) (Counter, error) {
	var w wireCounter
	if err := s.call(ctx, "get counter", http.MethodGet, counterPath(name), nil, &w); err != nil {
		return Counter{}, err
	}
	c := w.counter()
	if c.Name == "" {
		c.Name = name
	}
	return c, nil
}

// SetCounter sets the count of the counter name (the beta Counters API).
// Agones refuses a count beyond the counter's capacity.
func (s *SDK) SetCounter(ctx context.Context, name string, count int64) error {
	return s.call(ctx, "set counter", http.MethodPatch, counterPath(name), struct {
		Count string `json:"count"`
	}{strconv.FormatInt(count, 10)}, nil)
}

// IncrementCounter adds diff (negative: subtracts) to the count of the
// counter name.
func (s *SDK) IncrementCounter(ctx context.Context, name string, diff int64) error {
	return s.call(ctx, "update counter", http.MethodPatch, counterPath(name), struct {
		CountDiff string `json:"countDiff"`
	}{strconv.FormatInt(diff, 10)}, nil)
}

// SetCounterCapacity sets the capacity of the counter name.
func (s *SDK) SetCounterCapacity(ctx context.Context, name string, capacity int64) error {
	return s.call(ctx, "set counter capacity", http.MethodPatch, counterPath(name), struct {
		Capacity string `json:"capacity"`
	}{strconv.FormatInt(capacity, 10)}, nil)
}

func counterPath(name string) string { return "/v1beta1/counters/" + url.PathEscape(name) }

// PlayerConnect adds a player to the GameServer's status (the alpha
// player tracking API, behind Agones' PlayerTracking feature gate).
func (s *SDK) PlayerConnect(ctx context.Context, id string) error {
	return s.call(ctx, "player connect", http.MethodPost, "/alpha/player/connect", playerID{id}, nil)
}

// PlayerDisconnect removes a player from the GameServer's status (alpha).
func (s *SDK) PlayerDisconnect(ctx context.Context, id string) error {
	return s.call(ctx, "player disconnect", http.MethodPost, "/alpha/player/disconnect", playerID{id}, nil)
}

type playerID struct {
	PlayerID string `json:"playerID"`
}

// call makes one SDK call: it sends body as JSON (nil: none, for GET),
// retries while the sidecar cannot be reached, and decodes a 2xx answer
// into out when out is not nil.
func (s *SDK) call(ctx context.Context, name, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("agones: %s: %w", name, err)
		}
	}
	resp, err := s.send(ctx, name, method, path, payload, s.callTimeout)
	if err != nil {
		return err
	}
	defer resp.close()
	if out == nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("agones: %s: %s %s: reading the answer: %w", name, method, path, err)
	}
	if len(b) > maxResponse {
		return fmt.Errorf("agones: %s: %s %s: answer longer than %d bytes", name, method, path, maxResponse)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("agones: %s: %s %s: decoding the answer: %w", name, method, path, err)
	}
	return nil
}

// response is a 2xx answer whose body the caller reads; close releases it
// and its attempt's context.
type response struct {
	*http.Response
	cancel context.CancelFunc
}

func (r *response) close() {
	// Reading a little of what is left lets the connection be reused.
	_, _ = io.CopyN(io.Discard, r.Body, 4<<10)
	r.Body.Close()
	r.cancel()
}

// send makes the request, retrying with backoff, for at most the SDK's
// RetryFor, while the sidecar cannot be reached. A timeout of 0 leaves the
// attempt unbounded (the watch stream). A non-2xx answer is a
// *StatusError.
func (s *SDK) send(ctx context.Context, name, method, path string, payload []byte, timeout time.Duration) (*response, error) {
	start := time.Now()
	bo := newBackoff()
	for attempt := 1; ; attempt++ {
		resp, err := s.attempt(ctx, method, path, payload, timeout)
		if err == nil {
			if resp.StatusCode/100 != 2 {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
				resp.close()
				return nil, &StatusError{Call: name, Method: method, Path: path, StatusCode: resp.StatusCode, Body: string(b)}
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("agones: %s: %s %s: %w", name, method, path, context.Cause(ctx))
		}
		wait := bo.next()
		if s.retryFor < 0 || noRetry(ctx) || time.Since(start)+wait > s.retryFor {
			return nil, fmt.Errorf("agones: %s: %s %s: sidecar unreachable after %d attempts: %w", name, method, path, attempt, err)
		}
		if ok, held := s.lim.allow("unreachable"); ok {
			s.log.Info("agones: sidecar unreachable, retrying", "call", name, "url", s.base+path, "err", err.Error(), "attempt", attempt, "suppressed", held)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("agones: %s: %s %s: %w", name, method, path, err)
		}
	}
}

func (s *SDK) attempt(ctx context.Context, method, path string, payload []byte, timeout time.Duration) (*response, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, timeout)
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, s.base+path, body)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	return &response{Response: resp, cancel: cancel}, nil
}

type noRetryKey struct{}

// withoutRetry marks ctx for calls that make a single attempt: Run's
// periodic calls, which are made again anyway, and whose attempts must not
// outlive the server.
func withoutRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

func noRetry(ctx context.Context) bool { return ctx.Value(noRetryKey{}) != nil }

// backoff is an exponential backoff between retries, from 50 ms to 2 s.
type backoff struct{ cur time.Duration }

const (
	backoffMin = 50 * time.Millisecond
	backoffMax = 2 * time.Second
)

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = backoffMin
	} else {
		b.cur = min(2*b.cur, backoffMax)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// errLineTooLong ends a watch stream whose line exceeds MaxLine.
var errLineTooLong = fmt.Errorf("agones: watch stream: a line longer than %d bytes", MaxLine)
