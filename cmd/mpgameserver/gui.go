//go:build !headless

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/mpgs/mpgameserver/gui"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/ops/admin"
)

func runGUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gui", "Runs a game server in a monitor window that plots its health every second, or, with\n"+
		"--attach, opens the same window for a server started elsewhere with `mpgameserver serve --http`,\n"+
		"or, with --replay, for a recording of one (`serve --record DIR`), a timeline bar under it.\n"+
		"Esc, closing the window, SIGINT or SIGTERM close it (a server of its own stops gracefully);\n"+
		"P or SIGUSR1 saves a screenshot. In the window: Enter or a click shows a client up close\n"+
		"(D disconnects it, B blocks its address), N opens the simulated network panel (--netsim).\n"+
		"A replay's timeline: Space plays and pauses, Left/Right step a second (Shift: 10 s), [ ] or - +\n"+
		"change the speed (0.25x to 16x), M and Shift+M go to the next and previous marker of trouble,\n"+
		"a click or a drag on the bar goes there (docs/replay.md).", stderr)
	var f serverFlags
	f.register(fs)
	attach := fs.String("attach", "", "URL of the --http address of a server started elsewhere (http://HOST:PORT) to monitor\n"+
		"instead of running one; --admin-token (or MPGS_ADMIN_TOKEN) is then the server's token, for its clients\n"+
		"and actions (--admin-read-token to watch only). A token goes to another host over https:// only")
	replay := fs.String("replay", "", "a recording (the DIR of `serve --record DIR`, or one of its files) to show in the monitor\n"+
		"instead of running a server, with a timeline to play it, step it and jump between its troubles")
	shots := fs.String("screenshots", gui.DefaultScreenshotDir, "directory for the screenshots of P and SIGUSR1 (made when missing)")
	// Flags given on the command line, before the environment fills the
	// rest: a server flag next to --attach is a mistake, an environment
	// variable meant for serve is not.
	if err := cli.ParseOnly(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if err := parse(fs, fs.Args()); err != nil {
		return err
	}
	if given["replay"] || *replay != "" {
		return runGUIReplay(ctx, *replay, *shots, given, stdout)
	}
	if *attach != "" {
		token := f.adminTok
		if token == "" {
			token = f.readTok
		}
		return runAttached(ctx, *attach, token, *shots, given, stdout)
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	srv, err := f.newServer(stdout, stderr)
	if err != nil {
		return err
	}
	defer srv.close()
	g := gui.NewServerLocal(srv.local)
	g.SetOutput(stdout)
	if err := g.Init(); err != nil {
		srv.Server.Close()
		return err
	}
	g.Monitor().SetScreenshots(*shots, stdout)
	defer screenshotsOnSignal(g.Monitor().SaveScreenshot)()
	if srv.webURL != "" {
		fmt.Fprintf(stdout, "WEB %s\n", srv.webURL)
	}
	fmt.Fprintf(stdout, "READY %s\n", srv.Addr())
	stopBots := f.startBots(ctx, srv.Server, stderr)
	defer stopBots()
	return g.Run(ctx)
}

// runAttached opens the monitor of the server at rawURL. It binds
// nothing: the server flags belong to that server.
func runAttached(ctx context.Context, rawURL, token, shots string, given map[string]bool, stdout io.Writer) error {
	var wrong []string
	for name := range given {
		switch name {
		case "attach", "admin-token", "admin-read-token", "screenshots":
		default:
			wrong = append(wrong, "--"+name)
		}
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		return fmt.Errorf("--attach monitors a server started elsewhere: %s belong to that server (give them to `mpgameserver serve`)",
			strings.Join(wrong, ", "))
	}
	base, err := attachURL(rawURL)
	if err != nil {
		return fmt.Errorf("--attach %q: %w", rawURL, err)
	}
	if err := admin.CheckAttach(base, token); err != nil {
		return fmt.Errorf("--attach %q: %w", rawURL, err)
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	a := gui.NewAttached(admin.Attach(base, token, nil))
	a.SetOutput(stdout)
	if err := a.Init(); err != nil {
		return err
	}
	a.Monitor().SetScreenshots(shots, stdout)
	defer screenshotsOnSignal(a.Monitor().SaveScreenshot)()
	fmt.Fprintf(stdout, "ATTACHING %s\n", base)
	return a.Run(ctx)
}

// runGUIReplay opens the monitor of the recording at path. It binds
// nothing and takes no actions: the server flags belong to a server.
func runGUIReplay(ctx context.Context, path, shots string, given map[string]bool, stdout io.Writer) error {
	if given["attach"] {
		return errors.New("--replay shows a recording and --attach a running server: give one of them")
	}
	var wrong []string
	for name := range given {
		switch name {
		case "replay", "screenshots":
		default:
			wrong = append(wrong, "--"+name)
		}
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		return fmt.Errorf("--replay shows a recording: %s belong to a server (give them to `mpgameserver serve --record DIR`)",
			strings.Join(wrong, ", "))
	}
	if path == "" {
		return errors.New("--replay needs the recording's path: the DIR of `serve --record DIR`, or one of its files")
	}
	r, err := gui.OpenReplay(path)
	if err != nil {
		return fmt.Errorf("--replay %q: %w", path, err)
	}
	defer r.Close()
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	w := gui.NewReplayed(r)
	w.SetOutput(stdout)
	if err := w.Init(); err != nil {
		return err
	}
	w.Monitor().SetScreenshots(shots, stdout)
	defer screenshotsOnSignal(w.Monitor().SaveScreenshot)()
	fmt.Fprintf(stdout, "REPLAYING %s\n", path)
	return w.Run(ctx)
}

// attachURL checks an --attach URL: http or https, a host, no query. A
// bare host:port means http.
func attachURL(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("want http://HOST:PORT, the --http address of `mpgameserver serve`")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("want http://HOST:PORT, the --http address of `mpgameserver serve`")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}
