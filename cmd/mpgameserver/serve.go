package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/web"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/ops/agones"
	"github.com/mpgs/mpgameserver/ops/endpoint"
	"github.com/mpgs/mpgameserver/server"
)

// games are the built-in event handlers, by name. Each gets the command's
// standard output for the lines it prints.
func games() map[string]func(out io.Writer) server.EventHandler {
	return map[string]func(out io.Writer) server.EventHandler{
		"echo":  func(out io.Writer) server.EventHandler { return echo.NewHandler(out) },
		"arena": func(out io.Writer) server.EventHandler { return arena.NewHandler(out, uint64(time.Now().UnixNano())) },
	}
}

// arenaOptions are the arena's options from the flags (check has run).
func (f *serverFlags) arenaOptions() arena.Options {
	sc, _ := sim.SceneByName(f.scene)
	return arena.Options{Seed: uint64(time.Now().UnixNano()), Scene: sc, Full: f.repl == "full", Budget: f.budget,
		MaxRewind: f.rewind, NoLagComp: f.rewind < 0}
}

func sceneNames() string {
	var names []string
	for _, sc := range sim.Scenes() {
		names = append(names, sc.Name)
	}
	return strings.Join(names, ", ")
}

func gameNames() string {
	var names []string
	for n := range games() {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// serverFlags are the flags shared by the commands that run a server.
type serverFlags struct {
	listen    string
	key       string
	game      string
	interval  time.Duration
	accessLog string
	httpAddr  string
	pprof     bool
	logLevel  string
	logFormat string
	bots      int
	netsim    bool
	adminTok  string
	readTok   string
	httpHosts string
	perHost   int
	web       string
	webCert   string
	webKey    string
	icePort   int
	setups    int
	webPeers  int
	webPerIP  int
	webConns  int
	webAssets string
	publicIPs string
	public    []netip.Addr     // from --web-public-ip, once check ran
	tls       *tls.Config      // from --web-cert and --web-key, once check ran
	root      *conn.PrivateKey // the key in use, once newServer ran
	loaded    *conn.PrivateKey // the --key file's key, once check ran
	assets    web.Assets       // the arena for the browser, once check ran (empty: built without)
	level     slog.Level       // --log-level, once check ran
	scene     string
	repl      string
	budget    int
	rewind    time.Duration
	record    string // --record: the recording's directory
	recAddrs  bool   // --record-addrs: keep clients' addresses in it
}

// check validates every flag, and loads the --key file, before anything
// is bound, opened or printed.
func (f *serverFlags) check() error {
	if _, ok := games()[f.game]; !ok {
		return fmt.Errorf("--game %q: want one of %s", f.game, gameNames())
	}
	if f.bots < 0 {
		return fmt.Errorf("--bots %d: want 0 or more", f.bots)
	}
	if f.bots > 0 && f.game != "arena" {
		return fmt.Errorf("--bots %d: bots play the arena game only; add --game arena", f.bots)
	}
	if _, ok := sim.SceneByName(f.scene); !ok {
		return fmt.Errorf("--scene %q: want one of %s", f.scene, sceneNames())
	}
	if f.repl != "delta" && f.repl != "full" {
		return fmt.Errorf("--replication %q: want delta or full", f.repl)
	}
	if f.budget < 0 {
		return fmt.Errorf("--budget %d: want 0 (the default) or more", f.budget)
	}
	if f.recAddrs && f.record == "" {
		return fmt.Errorf("--record-addrs needs --record")
	}
	if f.rewind > 10*time.Second {
		return fmt.Errorf("--max-rewind %v: want at most 10s", f.rewind)
	}
	if f.game != "arena" && (f.scene != "classic" || f.repl != "delta" || f.budget != 0 || f.rewind != arena.DefaultMaxRewind) {
		return fmt.Errorf("--scene, --replication, --budget and --max-rewind are the arena's; add --game arena")
	}
	level, err := cli.LogLevel(f.logLevel)
	if err != nil {
		return err
	}
	f.level = level
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", f.logFormat)
	}
	if f.interval <= 0 {
		return fmt.Errorf("--interval %v: want a positive duration", f.interval)
	}
	if err := checkHostPort(f.listen); err != nil {
		return fmt.Errorf("--listen %q: %w", f.listen, err)
	}
	if f.httpAddr != "" {
		if err := checkHostPort(f.httpAddr); err != nil {
			return fmt.Errorf("--http %q: %w", f.httpAddr, err)
		}
	}
	if f.pprof && f.httpAddr == "" {
		return errors.New("--pprof needs --http")
	}
	if err := f.adminConfig(nil).Validate(); err != nil {
		return fmt.Errorf("--admin-token, --admin-read-token, --http-host: %w", err)
	}
	if f.perHost == 0 || f.perHost < -1 {
		return fmt.Errorf("--sessions-per-host %d: want 1 or more, or -1 for no bound", f.perHost)
	}
	if f.webPeers < 1 {
		return fmt.Errorf("--web-peers %d: want 1 or more", f.webPeers)
	}
	if f.webPerIP == 0 || f.webPerIP < -1 {
		return fmt.Errorf("--web-peers-per-ip %d: want 1 or more, or -1 for no bound", f.webPerIP)
	}
	if f.webConns == 0 || f.webConns < -1 {
		return fmt.Errorf("--web-conns-per-ip %d: want 1 or more, or -1 for no bound", f.webConns)
	}
	if f.web != "" {
		if err := checkHostPort(f.web); err != nil {
			return fmt.Errorf("--web %q: %w", f.web, err)
		}
	}
	if f.setups == 0 || f.setups < -1 {
		return fmt.Errorf("--web-setups-per-ip %d: want 1 or more, or -1 for no bound", f.setups)
	}
	if f.icePort < 0 || f.icePort > 65535 {
		return fmt.Errorf("--web-ice-port %d: want a port from 1 to 65535, or 0 for a port the system picks", f.icePort)
	}
	if (f.icePort != 0 || f.publicIPs != "") && f.web == "" {
		return errors.New("--web-ice-port and --web-public-ip need --web")
	}
	f.public = nil
	for _, ip := range strings.Split(f.publicIPs, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			continue
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("--web-public-ip %q: want IP addresses, comma-separated", f.publicIPs)
		}
		f.public = append(f.public, a)
	}
	if (f.webCert != "") != (f.webKey != "") {
		return errors.New("--web-cert and --web-key go together: give both for HTTPS, or neither")
	}
	if f.webCert != "" {
		if f.web == "" {
			return errors.New("--web-cert needs --web")
		}
		cert, err := tls.LoadX509KeyPair(f.webCert, f.webKey)
		if err != nil {
			return fmt.Errorf("--web-cert, --web-key: %w", err)
		}
		f.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if f.webAssets != "" && (f.web == "" || f.game != "arena") {
		return errors.New("--web-assets is the arena's page: it needs --web and --game arena")
	}
	if f.web != "" && f.game == "arena" {
		if f.webAssets != "" {
			a, err := web.FromDir(f.webAssets)
			if err != nil {
				return fmt.Errorf("--web-assets: %w", err)
			}
			f.assets = a
		} else {
			f.assets, _ = web.Embedded()
		}
	}
	if f.key != "" {
		k, err := conn.LoadPrivateKey(f.key)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		f.loaded = k
	}
	return nil
}

// adminConfig is the --http admin API's configuration, for local.
func (f *serverFlags) adminConfig(log *slog.Logger) admin.HandlerConfig {
	var hosts []string
	for _, h := range strings.Split(f.httpHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return admin.HandlerConfig{Token: f.adminTok, ReadToken: f.readTok, Hosts: hosts, Profiles: f.pprof, Logger: log}
}

func (f *serverFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	IntVar(*int, string, int, string)
}) {
	fs.StringVar(&f.listen, "listen", ":1474", "UDP address to listen on, host:port ([::]:1474 for IPv6)")
	fs.StringVar(&f.key, "key", "", "PEM file of the server's root private key (empty: generate one and print its public key)")
	fs.StringVar(&f.game, "game", "echo", "built-in game to host: "+gameNames())
	fs.DurationVar(&f.interval, "interval", server.DefaultInterval, "tick period")
	fs.StringVar(&f.accessLog, "access-log", "", "file for the log lines that carry client IP addresses")
	fs.StringVar(&f.httpAddr, "http", "", "also serve a status page over HTTP on this TCP address")
	fs.BoolVar(&f.pprof, "pprof", false, "also serve Go's profiles under /debug/pprof/ on the --http address")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log lines as text (key=value) or json (one object a line)")
	fs.IntVar(&f.bots, "bots", 0, "computer players to run in this process (arena only)")
	fs.StringVar(&f.scene, "scene", "classic", "the arena's world: "+sceneNames()+" (battle: 16 screens, 1,200 asteroids)")
	fs.StringVar(&f.repl, "replication", "delta", "how the arena sends its world: delta (what each player sees, as changes against what it\n"+
		"acknowledged, within --budget) or full (the whole world in every snapshot, to compare with)")
	fs.IntVar(&f.budget, "budget", 0, "each arena player's downstream budget for the world, in bits a second (0: 64,000)")
	fs.DurationVar(&f.rewind, "max-rewind", arena.DefaultMaxRewind, "how far back the arena judges a laser shot, at most: at the time the shooter's screen\n"+
		"showed (lag compensation); a negative value judges shots at the present")
	fs.StringVar(&f.record, "record", "", "record what the game is given (connects, messages, ticks, the world's checksum) into this\n"+
		"directory: the last 30 minutes, at most 1 GiB, compressed, clients' addresses hashed")
	fs.BoolVar(&f.recAddrs, "record-addrs", false, "keep clients' addresses in the --record recording instead of hashes")
	fs.BoolVar(&f.netsim, "netsim", false, "run the socket behind a simulated network whose loss, latency, jitter, duplication and\n"+
		"reordering a monitor can change, for all clients or one (a development tool: perfect until changed)")
	fs.StringVar(&f.adminTok, "admin-token", "", "bearer token (16 bytes or more) that the --http admin API needs for its actions (disconnect,\n"+
		"block, network conditions), the clients' addresses and tokens and the log's tail, and for --pprof\n"+
		"from another host; without one actions are refused and reads are redacted. Prefer\n"+
		"MPGS_ADMIN_TOKEN to a flag other users can see")
	fs.StringVar(&f.readTok, "admin-read-token", "", "a second token (16 bytes or more) that reads what --admin-token reads but takes no\n"+
		"action: for a monitor that only watches (MPGS_ADMIN_READ_TOKEN)")
	fs.StringVar(&f.httpHosts, "http-host", "", "host names (comma-separated) the --http admin API may be reached by, besides localhost and\n"+
		"IP addresses (a request to another name is refused, which stops DNS rebinding)")
	fs.IntVar(&f.perHost, "sessions-per-host", server.DefaultMaxSessionsPerHost, "sessions (and as many handshakes) one host may hold: an IPv4 address or an IPv6 /64.\n"+
		"Players behind one NAT share it; -1 for no bound. --bots adds its players")
	fs.StringVar(&f.web, "web", "", "also accept browser players (WebRTC data channels) with their signaling on this TCP address;\n"+
		"with --game arena it serves the arena for the browser at / (?name= sets the player's name)")
	fs.StringVar(&f.webCert, "web-cert", "", "PEM certificate chain for serving --web over HTTPS (with --web-key)")
	fs.StringVar(&f.webKey, "web-key", "", "PEM private key of --web-cert")
	fs.IntVar(&f.icePort, "web-ice-port", 0, "one UDP port, on the --listen host, for every browser peer's datagrams (a port to open in a\n"+
		"firewall or a container); 0 lets the system pick the port")
	fs.IntVar(&f.setups, "web-setups-per-ip", rtc.DefaultMaxSetupsPerIP, "browser peers setting up at a time (offer answered, channel not open) from one IP\n"+
		"address; more get 429. Behind a proxy every request comes from the proxy: raise it, or -1 for no bound")
	fs.IntVar(&f.webPeers, "web-peers", rtc.DefaultMaxPeers, "browser peers at a time (setting up or open); more get 503. Each holds up to ~350 KiB")
	fs.IntVar(&f.webPerIP, "web-peers-per-ip", rtc.DefaultMaxPeersPerIP, "browser peers (setting up or open) from one IP address (an IPv6 /64); more get 429.\n"+
		"Behind a proxy every request comes from the proxy: raise it, or -1 for no bound")
	fs.IntVar(&f.webConns, "web-conns-per-ip", endpoint.DefaultPerHost, "TCP connections to --web from one IP address (an IPv6 /64); more are closed at once.\n"+
		"Behind a proxy every connection comes from the proxy: raise it, or -1 for no bound")
	fs.StringVar(&f.webAssets, "web-assets", "", "directory of the arena for the browser (arena.wasm.gz, wasm_exec.js, as go run\n"+
		"./internal/arena/web/internal/gen -o DIR writes them), for a binary built without go generate")
	fs.StringVar(&f.publicIPs, "web-public-ip", "", "IP addresses (comma-separated) browsers reach this machine at, offered instead of its own:\n"+
		"for a server behind a one-to-one NAT, such as a cloud VM's public address")
}

// hosted is a server built from the flags with what the command runs
// beside it: the access log's file, the HTTP status page.
type hosted struct {
	*server.Server
	log    *slog.Logger
	local  *admin.Local // what a monitor reads and does, in this process or over --http
	access *os.File
	rec    *flightRecorder               // --record's, closed after the server
	https  []*served                     // the --http and --web listeners
	webURL string                        // the --web page's URL, once it listens
	mu     sync.Mutex                    // guards guards: the status page reads it while --web starts
	guards map[string]*endpoint.Listener // the --http and --web listeners' connection counts, by name
}

// guard returns the listener called name, or nil.
func (h *hosted) guard(name string) *endpoint.Listener {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.guards[name]
}

// served is an HTTP server running on its own goroutine.
type served struct {
	srv  *http.Server
	done chan struct{}
}

// serveHTTP serves h on ln (over TLS when cfg is not nil) until close,
// with at most lim connections (per host and in all) and the timeouts t;
// what its clients cause (TLS handshakes that fail, say) is logged at
// debug level only. name ("http", "web") names it on the status page.
func (h *hosted) serveHTTP(name string, ln net.Listener, handler http.Handler, cfg *tls.Config, lim endpoint.Limits, t endpoint.Timeouts) {
	g := endpoint.Listen(ln, lim)
	h.mu.Lock()
	if h.guards == nil {
		h.guards = map[string]*endpoint.Listener{}
	}
	h.guards[name] = g
	h.mu.Unlock()
	srv := endpoint.NewServer(handler, t, h.log)
	srv.TLSConfig = cfg
	s := &served{srv: srv, done: make(chan struct{})}
	h.https = append(h.https, s)
	go func() {
		defer close(s.done)
		var err error
		if cfg != nil {
			err = s.srv.ServeTLS(g, "", "")
		} else {
			err = s.srv.Serve(g)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("http server", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// close stops the HTTP server and closes the access log, after the server
// stopped.
func (h *hosted) close() {
	for _, s := range h.https {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		cancel()
		<-s.done
	}
	if h.access != nil {
		h.access.Close()
	}
	if h.rec != nil {
		if err := h.rec.Close(); err != nil {
			h.log.Warn("--record: the recording's end was not written", "err", err)
		}
		st := h.rec.Stats()
		h.log.Info("recording closed", "records", st.Records, "dropped", st.RecordsDropped)
	}
}

// abort releases everything of a server that will not run.
func (h *hosted) abort() {
	h.Server.Close()
	h.close()
}

// newServer builds the server the flags describe (check has run), with
// its HTTP status page and its --web page listening already (they serve
// once the server runs). It writes the public key to stdout when it
// generated the root key.
func (f *serverFlags) newServer(stdout, stderr io.Writer) (*hosted, error) {
	newGame := games()[f.game]
	game := rerun.Game{Game: f.game}
	if f.game == "arena" {
		opts := f.arenaOptions()
		game.Arena = rerun.ArenaOf(opts)
		newGame = func(out io.Writer) server.EventHandler { return arena.New(out, opts) }
	}
	tail := admin.NewLogTail(f.logHandler(stderr, f.level), 50, slog.LevelWarn)
	log := slog.New(tail)
	root := f.loaded
	h := &hosted{log: log}
	if f.key != "" && runtime.GOOS != "windows" {
		if st, err := os.Stat(f.key); err == nil && st.Mode().Perm()&0o077 != 0 {
			log.Warn("--key: the root key file can be read by other users; anyone who reads it can pose as this server",
				"file", f.key, "mode", st.Mode().Perm().String(), "hint", "chmod 600 "+f.key)
		}
	}
	cfg := server.Config{Handler: newGame(stdout), RootKey: root, Interval: f.interval, Logger: log, MaxSessionsPerHost: f.perHost}
	if f.game == "arena" {
		cfg.KeepAliveInterval = arena.KeepAlive
	}
	if f.bots > 0 && f.perHost > 0 {
		cfg.MaxSessionsPerHost += f.bots // the bots all come from this machine
	}
	if f.record != "" {
		w, err := record.NewWriter(f.record, record.Config{KeepAddrs: f.recAddrs, Logger: log}, time.Now())
		if err != nil {
			return nil, fmt.Errorf("--record: %w", err)
		}
		h.rec = newFlightRecorder(w, f.recAddrs, cfg.Handler)
		cfg.Recorder = h.rec
		w.Game(time.Now(), game.Encode())
		log.Info("recording what the game is given", "dir", f.record, "addresses", map[bool]string{true: "kept", false: "hashed"}[f.recAddrs])
	}
	if f.accessLog != "" {
		file, err := os.OpenFile(f.accessLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("--access-log: %w", err)
		}
		h.access = file
		cfg.AccessLog = slog.New(f.logHandler(file, slog.LevelInfo))
	}
	if f.web != "" && f.game == "arena" && f.assets.Empty() {
		log.Warn("--web: " + web.Missing + "; the page says so, and browsers cannot play")
	}
	var sim *netsim.Conn
	var browsers *rtc.Listener
	var srv *server.Server
	var err error
	if f.netsim || f.web != "" {
		sim, browsers, srv, err = f.carriers(cfg)
	} else if srv, err = server.New(cfg, f.listen); err != nil {
		err = fmt.Errorf("--listen: %w", err)
	}
	if err != nil {
		h.close()
		return nil, err
	}
	h.Server = srv
	h.local = admin.NewLocal(srv, tail, sim)
	if h.rec != nil {
		h.rec.local = h.local
	}
	if sim != nil {
		log.Warn("--netsim: the socket is behind a simulated network; a monitor may make it lossy")
	}
	f.root = srv.RootKey()
	if root == nil {
		log.Warn("no --key given: using a new root key; clients must pin the public key below (mpgameserver keygen makes a lasting one)")
		fmt.Fprintf(stdout, "%s", f.root.Public().MarshalPEM())
	}
	if f.httpAddr != "" {
		mux, err := endpoint.Handler(srv, endpoint.Config{Admin: f.adminConfig(log), Local: h.local, Logger: log, StatusLines: h.connLines})
		if err != nil {
			h.abort()
			return nil, err // check refused it already
		}
		ln, err := net.Listen("tcp", f.httpAddr)
		if err != nil {
			h.abort()
			return nil, fmt.Errorf("--http: %w", err)
		}
		log.Info("listening", "http", ln.Addr().String())
		h.serveHTTP("http", ln, mux, nil, endpoint.Limits{}, endpoint.AdminTimeouts())
	}
	if f.web != "" {
		ln, err := net.Listen("tcp", f.web)
		if err != nil {
			h.abort()
			return nil, fmt.Errorf("--web: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/rtc", browsers.Handler())
		if f.game == "arena" {
			mux.Handle("/", web.Handler(web.Config{Assets: f.assets, Key: f.root.Public(), Signal: "rtc"}))
		} else {
			mux.Handle("/", noPage(f.game))
		}
		h.webURL = pageURL(ln.Addr(), f.tls != nil)
		log.Info("listening", "web", ln.Addr().String(), "page", h.webURL, "ice_port", f.icePort, "public", f.public)
		h.serveHTTP("web", ln, mux, f.tls, endpoint.Limits{PerHost: f.webConns}, endpoint.PublicTimeouts())
	}
	return h, nil
}

// carriers opens the --listen socket, behind a simulated network with
// --netsim (perfect until a monitor changes it), and beside it the
// browser carrier with --web, and returns the server on them.
func (f *serverFlags) carriers(cfg server.Config) (*netsim.Conn, *rtc.Listener, *server.Server, error) {
	c, err := transport.Listen(f.listen, transport.Config{Buffer: server.DefaultSocketBuffer})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--listen: %w", err)
	}
	var sim *netsim.Conn
	if f.netsim {
		sim = netsim.Wrap(c, netsim.Profile{}, netsim.Profile{}, uint64(time.Now().UnixNano()))
		c = sim
	}
	var browsers *rtc.Listener
	if f.web != "" {
		// Browsers are offered the --listen host's address, or every
		// interface's when it listens on all.
		ice := rtc.Options{Host: c.LocalAddr().Addr(), Public: f.public, Port: uint16(f.icePort)}
		browsers, err = rtc.Listen(rtc.Config{Logger: cfg.Logger, ICE: ice, MaxPeers: f.webPeers, MaxPeersPerIP: f.webPerIP,
			MaxSetupsPerIP: f.setups}, c.LocalAddr())
		if err != nil {
			c.Close()
			return nil, nil, nil, fmt.Errorf("--web-ice-port: %w", err)
		}
		c = rtc.Merge(c, browsers)
	}
	srv, err := server.NewWithConn(cfg, c)
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return sim, browsers, srv, nil
}

// pageURL is the URL to open for the --web page listening on addr: a
// host that listens on every address is reached through the loopback.
func pageURL(addr net.Addr, tls bool) string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return ""
	}
	host := ap.Addr().Unmap()
	if host.IsUnspecified() {
		host = netip.MustParseAddr("127.0.0.1")
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + netip.AddrPortFrom(host, ap.Port()).String() + "/"
}

// noPage answers at / of --web for a game that has no page of its own.
func noPage(game string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "mpgameserver: the %s game has no page for the browser; its browser clients connect through rtc beside this page\n", game)
	})
}

// logHandler returns the --log-format handler writing to w.
func (f *serverFlags) logHandler(w io.Writer, level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if f.logFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// connLines writes the status page's lines of the HTTP listeners'
// connections.
func (h *hosted) connLines(w io.Writer) {
	for _, name := range []string{"http", "web"} {
		if g := h.guard(name); g != nil {
			endpoint.ConnLine(w, name, g)
		}
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Runs a headless game server. It prints READY <host>:<port> once clients\n"+
		"can connect, and stops gracefully on SIGINT or SIGTERM.", stderr)
	var f serverFlags
	f.register(fs)
	useAgones := fs.Bool("agones", false, "run as an Agones game server: Ready, Health from the tick loop, the \"players\" Counter, Shutdown\n"+
		"(on by itself where "+agones.EnvPort+" is set, as in an Agones pod)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	acfg, inPod := agones.FromEnv(os.Getenv)
	var sdk *agones.SDK
	if *useAgones || inPod {
		var err error
		if sdk, err = agones.New(acfg); err != nil {
			return fmt.Errorf("agones: %w", err)
		}
	}
	if sdk != nil && f.web != "" {
		if err := f.webFromAgones(ctx, sdk); err != nil {
			return err
		}
	}
	srv, err := f.newServer(stdout, stderr)
	if err != nil {
		return err
	}
	if srv.webURL != "" {
		fmt.Fprintf(stdout, "WEB %s\n", srv.webURL)
	}
	fmt.Fprintf(stdout, "READY %s\n", srv.Addr())
	stopBots := f.startBots(ctx, srv.Server, stderr)
	stopAgones := srv.runAgones(ctx, sdk)
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx)
		stopBots()
		stopAgones()
		srv.close()
		done <- err
	}()
	return waitStopped(ctx, done)
}

// agonesICEPort names the GameServer port (UDP, portPolicy Passthrough)
// that browser peers reach an Agones game server on.
const agonesICEPort = "web-ice"

// webFromAgones sets --web-ice-port to the GameServer's port named
// agonesICEPort, and --web-public-ip to its address, where the flags leave
// them open (0 and empty): browsers reach the pod at the node's address,
// on a port Agones chose and the container binds as it is (Passthrough).
func (f *serverFlags) webFromAgones(ctx context.Context, sdk *agones.SDK) error {
	if f.icePort != 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	gs, err := sdk.GameServer(ctx)
	if err != nil {
		return fmt.Errorf("--web: the GameServer's %s port: %w", agonesICEPort, err)
	}
	for _, p := range gs.Ports {
		if p.Name != agonesICEPort {
			continue
		}
		if p.Port <= 0 || p.Port > 65535 {
			return fmt.Errorf("--web: the GameServer's %s port is %d", agonesICEPort, p.Port)
		}
		f.icePort = p.Port
		if a, err := netip.ParseAddr(gs.Address); err == nil && len(f.public) == 0 {
			f.public = []netip.Addr{a}
		}
	}
	return nil
}

// runAgones keeps the server's Agones GameServer right (see agones.Run)
// when sdk is not nil, and returns a function that waits, once the server
// stopped, until Shutdown was sent.
func (h *hosted) runAgones(ctx context.Context, sdk *agones.SDK) func() {
	if sdk == nil {
		return func() {}
	}
	h.log.Info("agones: talking to the SDK sidecar", "url", sdk.BaseURL())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A signal stops the server, whose end sends Shutdown: the
		// binding outlives ctx by design.
		err := agones.Run(context.WithoutCancel(ctx), h.Server, sdk, agones.Options{
			OnAllocated: func(gs *agones.GameServer) {
				h.log.Info("agones: allocated", "gameserver", gs.Name, "labels", gs.Labels)
			},
		})
		if err != nil {
			h.log.Error("agones", "err", err)
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(agones.DefaultShutdownTimeout):
			h.log.Error("agones: Shutdown was not sent in time", "waited", agones.DefaultShutdownTimeout)
		}
	}
}

// stopDeadline bounds a graceful stop after SIGINT or SIGTERM: a server
// whose handler is stuck must still let the process end.
const stopDeadline = 1500 * time.Millisecond

// waitStopped returns what done delivers, or, once ctx is done, an error
// when nothing arrives within stopDeadline.
func waitStopped(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stopDeadline):
		return fmt.Errorf("the server did not stop within %v of being asked (is a handler stuck?); exiting anyway", stopDeadline)
	}
}

// startBots runs --bots computer players against srv in this process and
// returns a function that stops them and waits for them to leave.
func (f *serverFlags) startBots(ctx context.Context, srv *server.Server, stderr io.Writer) func() {
	if f.bots == 0 {
		return func() {}
	}
	// Bots reach a server listening on every address through loopback.
	addr := srv.Addr()
	host := addr.Addr().Unmap()
	if host.IsUnspecified() {
		host = netip.MustParseAddr("127.0.0.1")
		if addr.Addr().Is6() && !addr.Addr().Is4In6() {
			host = netip.IPv6Loopback()
		}
	}
	target := netip.AddrPortFrom(host, addr.Port()).String()
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := arena.RunBots(bctx, target, f.root.Public(), f.bots); err != nil {
			fmt.Fprintf(stderr, "bots: %v\n", err)
		}
	}()
	return func() { cancel(); <-done }
}
