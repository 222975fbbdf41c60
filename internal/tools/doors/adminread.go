//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The admin-read attack.
const (
	// profileFor is how long the profile request waits for an answer
	// before it gives up (and the server's profile stops with it).
	profileFor = 2 * time.Second
	// wrongTokens is how many wrong tokens are tried.
	wrongTokens = 20
	// rebindHost is the Host of a DNS rebinding: a page of another site
	// whose name now points at the loopback.
	rebindHost = "rebind.example"
	// maxDocument bounds the snapshot read.
	maxDocument = 16 << 20
	// snapshotAge is how long until the server has published a
	// snapshot taken after now.
	snapshotAge = 2 * time.Second
)

// runAdminRead reads the admin API without a token and tries wrong
// tokens.
func runAdminRead(ctx context.Context, t *tool) row { return t.arenaRun(ctx, adminRead) }

// adminRead reads the snapshot as a stranger would, asks for a day-long
// profile and tries wrong tokens, with the players in the game.
func adminRead(ctx context.Context, a *arenaEnv) outcome {
	if err := a.needs("http"); err != nil {
		return outcome{achieved: "did not run: " + err.Error()}
	}
	var pl playerState
	for _, p := range a.players.states() {
		if p.inGame {
			pl = p
			break
		}
	}
	if !pl.addr.IsValid() {
		return outcome{achieved: "did not run: no player in the game"}
	}
	// The snapshot is published once a second: one with the players in.
	sleep(ctx, snapshotAge)
	url := a.srv.httpURL("/api/v1/snapshot")
	direct := readSnapshot(ctx, url, "", pl)
	rebound := readSnapshot(ctx, url, rebindHost, pl)
	prof := profile(ctx, a.srv.httpURL("/debug/pprof/profile?seconds=86400"))
	tokens := tryTokens(ctx, a.srv.httpURL("/api/v1/block"))
	achieved := fmt.Sprintf("GET /api/v1/snapshot without a token, Host 127.0.0.1:port: %s; Host %s: %s. GET /debug/pprof/profile?seconds=86400 without a token: %s. %d wrong tokens on POST /api/v1/block: %s",
		direct, rebindHost, rebound, prof, wrongTokens, counts(tokens))
	return outcome{achieved: achieved}
}

// exposure is what one read of the snapshot gave away.
type exposure struct {
	status      int
	err         error
	addr, token bool // the player's address, its token
	logTail     bool // the document has the log's tail
	logs        int  // lines in it
	clients     int  // client rows
}

// String is what the read gave away, for the table.
func (e exposure) String() string {
	if e.err != nil {
		return short(e.err)
	}
	if e.status != http.StatusOK {
		return fmt.Sprintf("%d", e.status)
	}
	var gave []string
	if e.addr {
		gave = append(gave, "the player's address")
	}
	if e.token {
		gave = append(gave, "its token")
	}
	if e.logTail {
		gave = append(gave, fmt.Sprintf("the log's tail (%d lines now)", e.logs))
	}
	if len(gave) == 0 {
		return fmt.Sprintf("200, %d client rows, no address, token or log", e.clients)
	}
	return fmt.Sprintf("200 with %s (%d client rows)", strings.Join(gave, ", "), e.clients)
}

// readSnapshot GETs the document without a token (with host as the
// Host header when not empty) and looks in it for the player.
func readSnapshot(ctx context.Context, url, host string, pl playerState) exposure {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return exposure{err: err}
	}
	if host != "" {
		req.Host = host
	}
	resp, err := httpFrom(loopback(), answerWithin).Do(req)
	if err != nil {
		return exposure{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	e := exposure{status: resp.StatusCode, err: err}
	if err != nil || resp.StatusCode != http.StatusOK {
		return e
	}
	e.addr = bytes.Contains(body, []byte(pl.addr.String()))
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		e.err = fmt.Errorf("200 but not JSON: %w", err)
		return e
	}
	e.token = hasToken(doc, pl.token)
	if m, ok := doc.(map[string]any); ok {
		if logs, ok := m["logs"]; ok {
			l, _ := logs.([]any)
			e.logTail, e.logs = true, len(l)
		}
		if s, ok := m["snapshot"].(map[string]any); ok {
			if peers, ok := s["Peers"].([]any); ok {
				e.clients = len(peers)
			}
		}
	}
	return e
}

// hasToken reports whether a JSON value holds token under a key that
// names a token, at any depth.
func hasToken(v any, token uint32) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if f, ok := x.(float64); ok && f == float64(token) && strings.Contains(strings.ToLower(k), "token") {
				return true
			}
			if hasToken(x, token) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasToken(x, token) {
				return true
			}
		}
	}
	return false
}

// profile asks for a day's CPU profile without a token and gives up
// after profileFor: a status, or that the server took it and is
// profiling.
func profile(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, profileFor)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := httpFrom(loopback(), time.Hour).Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Sprintf("accepted (no answer in %v: profiling; given up)", profileFor)
		}
		return short(err)
	}
	resp.Body.Close()
	return fmt.Sprintf("%d", resp.StatusCode)
}

// tryTokens posts a block with wrongTokens wrong tokens and counts the
// statuses.
func tryTokens(ctx context.Context, url string) map[string]int {
	got := map[string]int{}
	hc := httpFrom(loopback(), answerWithin)
	for range wrongTokens {
		tok := make([]byte, 16)
		_, _ = rand.Read(tok)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"addr":"192.0.2.1"}`))
		if err != nil {
			got[short(err)]++
			continue
		}
		req.Header.Set("Authorization", "Bearer "+hex.EncodeToString(tok))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			got[short(err)]++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got[fmt.Sprint(resp.StatusCode)]++
	}
	return got
}
