package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Firefox tests run the arena's server and a Firefox with its default
// WebRTC settings in a network namespace of their own (netns_test.go),
// whose veth address is routable: the machine's own network is left as
// it is, and nothing leaves the machine.
//
// Firefox runs under Xvfb, not --headless: headless Firefox creates no
// WebGL context ("tryNativeGL: Exhausted GL driver options", even with
// webgl.force-enabled), and the arena's page, which draws with WebGL,
// ends before it joins. Under Xvfb, Mesa's llvmpipe gives it WebGL 2 with
// the default settings.

// firefox returns the path of Debian's Firefox ESR, or of a Firefox, on
// the PATH, or skips the test.
func firefox(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Firefox on the PATH (apt-get install firefox-esr): the Firefox tests need one")
	return ""
}

// firefoxPrefs go in the fresh profile's user.js: no first-run pages, and
// nothing that reaches for the internet (the machine may have none).
// WebRTC's prefs (media.peerconnection.*) keep their defaults: they are
// what the tests are about.
var firefoxPrefs = []struct {
	name  string
	value any
}{
	{"browser.shell.checkDefaultBrowser", false},
	{"browser.startup.homepage_override.mstone", "ignore"},
	{"startup.homepage_welcome_url", ""},
	{"startup.homepage_welcome_url.additional", ""},
	{"browser.aboutwelcome.enabled", false},
	{"browser.startup.page", 0},
	{"browser.newtabpage.enabled", false},
	{"browser.sessionstore.resume_from_crash", false},
	{"toolkit.startup.max_resumed_crashes", -1},
	{"datareporting.policy.dataSubmissionEnabled", false},
	{"datareporting.healthreport.uploadEnabled", false},
	{"toolkit.telemetry.reportingpolicy.firstRun", false},
	{"toolkit.telemetry.enabled", false},
	{"toolkit.telemetry.unified", false},
	{"app.update.disabledForTesting", true},
	{"app.update.auto", false},
	{"app.normandy.enabled", false},
	{"app.shield.optoutstudies.enabled", false},
	{"network.captive-portal-service.enabled", false},
	{"network.connectivity-service.enabled", false},
	{"network.trr.mode", 5},
	{"network.dns.disablePrefetch", true},
	{"network.prefetch-next", false},
	{"network.http.speculative-parallel-limit", 0},
	{"browser.safebrowsing.malware.enabled", false},
	{"browser.safebrowsing.phishing.enabled", false},
	{"browser.safebrowsing.downloads.enabled", false},
	{"browser.safebrowsing.blockedURIs.enabled", false},
	{"browser.safebrowsing.update.enabled", false},
	{"services.settings.server", "data:,#remote-settings-dummy/v1"},
	{"extensions.update.enabled", false},
	{"extensions.getAddons.cache.enabled", false},
	{"extensions.blocklist.enabled", false},
	{"media.gmp-manager.updateEnabled", false},
	{"geo.provider.network.url", ""},
	{"browser.region.network.url", ""},
	{"browser.region.update.enabled", false},
	{"browser.search.update", false},
	{"dom.push.connection.enabled", false},
	{"browser.topsites.contile.enabled", false},
	{"browser.newtabpage.activity-stream.feeds.topsites", false},
	{"browser.newtabpage.activity-stream.telemetry", false},
	// The page's console (the Go program's output) on Firefox's stdout.
	{"devtools.console.stdout.content", true},
}

// firefoxLog is what Firefox logs (MOZ_LOG) for the evidence: nICEr's
// gathering, pairing and checks, and the candidates it trickles.
const firefoxLog = "timestamp,sync,nicer:5,mtransport:4,signaling:3,jsep:3"

// openFirefox starts Firefox in n on the X display, with a fresh profile
// and home of its own, at url, and returns it and the directory of its
// logs.
func openFirefox(t *testing.T, n *netns, path, display, url string) (*nsProc, string) {
	t.Helper()
	dir := t.TempDir()
	profile, home, logs := filepath.Join(dir, "profile"), filepath.Join(dir, "home"), filepath.Join(dir, "log")
	for _, d := range []string{profile, home, logs} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var prefs strings.Builder
	for _, p := range firefoxPrefs {
		v, err := json.Marshal(p.value)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", p.name, v)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DISPLAY", k == "WAYLAND_DISPLAY", k == "XAUTHORITY", k == "HOME", k == "XDG_RUNTIME_DIR",
			strings.HasPrefix(k, "MOZ_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "DISPLAY="+display, "HOME="+home, "MOZ_CRASHREPORTER_DISABLE=1",
		"MOZ_LOG="+firefoxLog, "MOZ_LOG_FILE="+filepath.Join(logs, "firefox"))
	cmd := n.command(path, "--no-remote", "--profile", profile, url)
	cmd.Env = env
	return n.start(t, "Firefox", cmd), logs
}

// serveArena builds this command, makes a root key with it, and runs
// `serve --game arena --listen listen --web web --log-level debug` in n
// (pion's lines are debug lines); it returns the server and its page's
// URL once it printed WEB and READY. It builds the server binary with the
// go command, and serves the arena the tests built once (--web-assets).
func serveArena(t *testing.T, n *netns, listen, web string) (*nsProc, string) {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH: the test builds the server with it")
	}
	cwd, err := os.Getwd() // cmd/mpgameserver, in the module
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mpgameserver")
	if out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	if out, err := exec.Command(bin, "keygen", filepath.Join(dir, "root")).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v: %s", err, out)
	}
	cmd := n.command(bin, "serve", "--game", "arena", "--listen", listen, "--web", web,
		"--key", filepath.Join(dir, "root", "root.key"), "--log-level", "debug", "--web-assets", arenaAssets(t))
	cmd.Dir = cwd
	srv := n.start(t, "the server", cmd)
	ready := regexp.MustCompile(`WEB (\S+)\nREADY (\S+)`)
	var m []string
	if !waitUntil(5*time.Minute, func() bool { m = ready.FindStringSubmatch(srv.out.String()); return m != nil }, srv) {
		t.Fatalf("serve printed no WEB and READY lines (exited: %v, %v): %s\n%s", srv.exited(), srv.err, srv.out.String(), lastLines(srv.errOut.String(), 40))
	}
	return srv, m[1]
}

// waitUntil polls ok until it is true, until d passed or until one of
// procs exited; it reports whether ok became true.
func waitUntil(d time.Duration, ok func() bool, procs ...*nsProc) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return true
		}
		for _, p := range procs {
			if p.exited() {
				return ok()
			}
		}
	}
	return ok()
}

// joined reports whether the server printed that name joined.
func joined(srv *nsProc, name string) bool {
	return regexp.MustCompile(`(?m)^JOIN ` + regexp.QuoteMeta(name) + `$`).MatchString(srv.out.String())
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serverLog is the server's standard error without the SCTP lines of
// pion (one per packet at debug level).
func serverLog(srv *nsProc) string {
	var keep []string
	for _, l := range strings.Split(srv.errOut.String(), "\n") {
		if !strings.Contains(l, "pion=sctp") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// explainOnFailure logs what the processes said when t fails.
func explainOnFailure(t *testing.T, srv, fox *nsProc, logs string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("server stdout:\n%s\nserver log:\n%s", srv.out.String(), lastLines(serverLog(srv), 60))
		t.Logf("Firefox stdout:\n%s\nFirefox stderr:\n%s", lastLines(fox.out.String(), 40), lastLines(fox.errOut.String(), 40))
		t.Logf("ICE:\n%s", readICE(logs, serverLog(srv)))
	})
}

// iceEvidence is what Firefox's log (nICEr) and the server's (pion) say
// of one browser peer's ICE.
type iceEvidence struct {
	gathered  []string // Firefox's local candidates
	offered   []string // the candidates Firefox trickled into its offer
	answered  []string // the server's candidates of component 1, as Firefox parsed the answer
	pairs     []string // the pairs Firefox formed, local -> remote (peer-reflexive ones too, from checks it received)
	succeeded []string
	failed    []string
	nominated []string
	bogus     []string // pairs Firefox would not check: "Peer address is bogus"
	iceFailed bool     // Firefox gave up

	mdnsDropped []string // pion: remote mDNS candidates, dropped (mDNS disabled)
	tcpDropped  []string // pion: remote TCP active candidates, dropped
	prflx       []string // pion: peer-reflexive candidates learned from Firefox's checks
	noPairs     int      // pion: ping rounds without a candidate pair
}

var (
	ffGathered  = regexp.MustCompile(`created candidate host\((IP[46]:[^)]+)\)( active| passive| so)? with type`)
	ffOffered   = regexp.MustCompile(`trickling candidate candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)( tcptype \S+)?`)
	ffAnswered  = regexp.MustCompile(`parsing trickle (?:ICE )?candidate candidate:\S+ 1 (\S+) \d+ (\S+) (\d+) typ (\S+)`)
	ffPair      = regexp.MustCompile(`CAND-PAIR\(\w+\): Pairing candidate (\S+) \([0-9a-f]+\):(\S+) \(`)
	ffState     = regexp.MustCompile(`CAND-PAIR\(\w+\): setting pair to state (SUCCEEDED|FAILED): \w+\|([^|]+)\|([^|(]+)`)
	ffNominated = regexp.MustCompile(`nominated pair is \w+\|([^|]+)\|([^|(]+)`)
	ffBogus     = regexp.MustCompile(`STUN-CLIENT\(\w+\|([^|]+)\|([^|(]+)\(.*\): Peer address is bogus`)
	pionMDNS    = regexp.MustCompile(`Remote mDNS candidate added, but mDNS is disabled: \(([^)]+)\)`)
	pionTCP     = regexp.MustCompile(`Ignoring remote candidate with tcpType active: (.+?) \(resolved`)
	pionPrflx   = regexp.MustCompile(`Adding a new peer-reflexive candidate: (\S+)`)
)

// readICE reads Firefox's logs in the directory logs and the server's log.
func readICE(logs, server string) iceEvidence {
	var ff strings.Builder
	files, _ := filepath.Glob(filepath.Join(logs, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		ff.Write(b)
	}
	text := ff.String()
	var e iceEvidence
	e.gathered = matches(ffGathered, text, func(m []string) string { return m[1] + m[2] })
	e.offered = matches(ffOffered, text, func(m []string) string { return fmt.Sprintf("%s %s:%s %s%s", m[1], m[2], m[3], m[4], m[5]) })
	e.answered = matches(ffAnswered, text, func(m []string) string { return fmt.Sprintf("%s %s:%s %s", m[1], m[2], m[3], m[4]) })
	e.pairs = matches(ffPair, text, func(m []string) string { return m[1] + " -> " + m[2] })
	e.succeeded = matches(ffState, text, func(m []string) string {
		if m[1] != "SUCCEEDED" {
			return ""
		}
		return m[2] + " -> " + m[3]
	})
	e.failed = matches(ffState, text, func(m []string) string {
		if m[1] != "FAILED" {
			return ""
		}
		return m[2] + " -> " + m[3]
	})
	e.nominated = matches(ffNominated, text, func(m []string) string { return m[1] + " -> " + m[2] })
	e.bogus = matches(ffBogus, text, func(m []string) string { return m[1] + " -> " + m[2] })
	e.iceFailed = strings.Contains(text, "ICE Failed(") || strings.Contains(text, "all checks completed success=0")
	e.mdnsDropped = matches(pionMDNS, server, func(m []string) string { return m[1] })
	e.tcpDropped = matches(pionTCP, server, func(m []string) string { return m[1] })
	e.prflx = matches(pionPrflx, server, func(m []string) string { return m[1] })
	e.noPairs = strings.Count(server, "Failed to ping without candidate pairs")
	return e
}

// matches returns what f makes of each match of re in s, once each, in
// order, leaving out the empty ones.
func matches(re *regexp.Regexp, s string, f func([]string) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if v := f(m); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (e iceEvidence) String() string {
	list := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("Firefox gathered: %s\nFirefox offered: %s\nthe server answered: %s\nFirefox paired: %s\n"+
		"succeeded: %s\nfailed: %s\nnominated: %s\nnot checked (peer address is bogus): %s\nFirefox's ICE failed: %v\n"+
		"the server dropped (mDNS disabled): %s\nthe server dropped (TCP active): %s\n"+
		"the server learned from Firefox's checks (peer-reflexive): %s\nthe server's ping rounds without a pair: %d",
		list(e.gathered), list(e.offered), list(e.answered), list(e.pairs), list(e.succeeded), list(e.failed),
		list(e.nominated), list(e.bogus), e.iceFailed, list(e.mdnsDropped), list(e.tcpDropped), list(e.prflx), e.noPairs)
}

// TestFirefoxJoinsArena loads the arena's page in Firefox, with its
// default WebRTC settings, from a server that offers a routable address
// (the default --listen, every interface, in a namespace with a default
// route): the server sees the player join under its name.
func TestFirefoxJoinsArena(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arena for the browser and runs Firefox")
	}
	path := firefox(t)
	n := newNetns(t)
	display := n.xvfb(t)
	srv, page := serveArena(t, n, ":0", n.Addr+":0")
	fox, logs := openFirefox(t, n, path, display, page+"?name=fox")
	explainOnFailure(t, srv, fox, logs)

	if !waitUntil(3*time.Minute, func() bool { return joined(srv, "fox") }, srv, fox) {
		t.Fatalf("the Firefox player never joined (server exited: %v, Firefox exited: %v)", srv.exited(), fox.exited())
	}
	t.Logf("Firefox joined; its ICE:\n%s", readICE(logs, serverLog(srv)))

	fox.stop(t)
	if !srv.stop(t) {
		t.Error("the server did not stop on SIGTERM")
	}
}

// TestFirefoxLoopbackServer loads the arena's page in Firefox, with its
// default WebRTC settings, from a server that listens on the loopback
// only (--listen and --web on 127.0.0.1), in the same namespace. Firefox
// gathers no loopback candidate and never pairs one of its own with a
// loopback candidate of the server's, so it does not join: the test skips
// with what Firefox and the server said, and passes if Firefox ever joins.
func TestFirefoxLoopbackServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arena for the browser and runs Firefox")
	}
	path := firefox(t)
	n := newNetns(t)
	display := n.xvfb(t)
	srv, page := serveArena(t, n, "127.0.0.1:0", "127.0.0.1:0")
	fox, logs := openFirefox(t, n, path, display, page+"?name=loopfox")
	explainOnFailure(t, srv, fox, logs)

	var e iceEvidence
	done := waitUntil(3*time.Minute, func() bool {
		if joined(srv, "loopfox") {
			return true
		}
		e = readICE(logs, serverLog(srv))
		return e.iceFailed
	}, srv, fox)
	if joined(srv, "loopfox") {
		t.Logf("Firefox joined a server on the loopback; its ICE:\n%s", readICE(logs, serverLog(srv)))
		return
	}
	if !done {
		t.Fatalf("Firefox neither joined nor gave up its ICE in 3 minutes (server exited: %v, Firefox exited: %v):\n%s",
			srv.exited(), fox.exited(), e)
	}
	if len(e.pairs) == 0 && !strings.Contains(strings.Join(e.gathered, " "), "IP4:127.") {
		t.Skipf("Firefox does not join a server on the loopback with its default settings: it gathers no loopback "+
			"candidate (media.peerconnection.ice.loopback is false) and offers its host candidates behind mDNS names; "+
			"nICEr pairs a loopback candidate only with a loopback one, so with the server's loopback candidates it "+
			"formed no pair, sent no check and failed ICE after its trickle grace period; and the server has no address "+
			"of Firefox's to check (it resolves no .local name).\n%s", e)
	}
	t.Skipf("Firefox does not join a server on the loopback with its default settings; its ICE failed:\n%s", e)
}
