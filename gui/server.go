package gui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// Server is a UDP server with a monitor window (the reference's
// GuiServer). The server runs on its own goroutine; the window runs on the
// main goroutine, as Ebitengine requires. Closing the window, pressing Esc
// or the end of Run's context stop the server gracefully: clients get a
// DISCONNECT, the handler gets Disconnect for each and Shutdown last.
type Server struct {
	local  *admin.Local
	mon    *Monitor
	title  string
	out    io.Writer
	inited bool
}

// NewServer opens the UDP socket on addr for a server of cfg; host "::"
// listens on IPv6.
func NewServer(cfg server.Config, addr string) (*Server, error) {
	srv, err := server.New(cfg, addr)
	if err != nil {
		return nil, err
	}
	return NewServerWith(srv), nil
}

// NewServerWith wraps a server that was already created. Its monitor
// shows no log tail and cannot simulate a network: NewServerLocal can.
func NewServerWith(srv *server.Server) *Server {
	return NewServerLocal(admin.NewLocal(srv, nil, nil))
}

// NewServerLocal wraps a server already created and seen through l, with
// the log tail and simulated network l was given (admin.NewLocal).
func NewServerLocal(l *admin.Local) *Server {
	return &Server{local: l, out: os.Stdout, title: "mpgameserver " + l.Server().Addr().String()}
}

// Server returns the UDP server the window hosts.
func (s *Server) Server() *server.Server { return s.local.Server() }

// Monitor returns the window's game, available after Init.
func (s *Server) Monitor() *Monitor { return s.mon }

// SetOutput sets where screenshot paths are printed (standard output by
// default).
func (s *Server) SetOutput(w io.Writer) { s.out = w }

// Init prepares the window: title, size, fonts. Run calls it if needed.
func (s *Server) Init() error {
	if s.inited {
		return nil
	}
	mon, err := newWindow(s.local, s.title, s.out)
	if err != nil {
		return err
	}
	mon.SetDone(s.Server().Done())
	s.mon = mon
	s.inited = true
	return nil
}

// newWindow makes the monitor of src and sets the window up for it.
func newWindow(src Source, title string, out io.Writer) (*Monitor, error) {
	mon, err := NewMonitor(src)
	if err != nil {
		return nil, err
	}
	mon.SetScreenshots(DefaultScreenshotDir, out)
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(Width, Height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	// The monitor redraws only when what it shows changes; an unchanged
	// screen costs next to nothing.
	ebiten.SetScreenClearedEveryFrame(false)
	// Frames only when something happens: input, or the waker scheduling
	// one for a new snapshot, a change of contact or text that went out of
	// date. Together with skipping unchanged draws this takes an idle
	// monitor under Xvfb from ~14% to ~6% of a core. (The mode is
	// deprecated in favour of skip-draw alone, which still presents 60
	// frames a second.)
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum)
	return mon, nil
}

// runWindow runs the monitor's window until it closes or ctx is done,
// with the waker.
func runWindow(ctx context.Context, mon *Monitor) error {
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		select {
		case <-ctx.Done():
			mon.RequestStop()
		case <-quit:
		}
	}()
	go mon.wake(quit)
	return ebiten.RunGame(mon)
}

// Run starts the server, opens the window and blocks until the window
// closes (or ctx is done: give it signal.NotifyContext's to stop on
// SIGINT and SIGTERM) and the server has stopped.
func (s *Server) Run(ctx context.Context) error {
	srv := s.Server()
	if err := s.Init(); err != nil {
		srv.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Run() }()
	err := runWindow(ctx, s.mon)
	srv.Stop()
	if serr := <-served; serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	return nil
}

// Attached is a monitor window of a server started elsewhere with
// `mpgameserver serve --http`, attached over HTTP: it polls the server's
// document once a second, shows when it lost contact, and picks up again
// when the server returns. Closing the window leaves the server running.
type Attached struct {
	remote *admin.Remote
	mon    *Monitor
	out    io.Writer
	inited bool
}

// NewAttached returns the window of the server behind r
// (admin.Attach(url, token, nil)); Run polls it.
func NewAttached(r *admin.Remote) *Attached {
	return &Attached{remote: r, out: os.Stdout}
}

// Monitor returns the window's game, available after Init.
func (a *Attached) Monitor() *Monitor { return a.mon }

// SetOutput sets where screenshot paths and the changes of contact
// ("attached to URL: ...", "lost contact with URL: ...") are printed
// (standard output by default).
func (a *Attached) SetOutput(w io.Writer) { a.out = w }

// Init prepares the window: title, size, fonts. Run calls it if needed.
func (a *Attached) Init() error {
	if a.inited {
		return nil
	}
	mon, err := newWindow(a.remote, "mpgameserver monitor "+a.remote.Contact().URL, a.out)
	if err != nil {
		return err
	}
	a.mon = mon
	a.inited = true
	return nil
}

// Run polls the server and shows it until the window closes or ctx is
// done.
func (a *Attached) Run(ctx context.Context) error {
	if err := a.Init(); err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.remote.Run(pctx, time.Second)
	go reportContact(pctx, a.remote, a.out)
	if err := runWindow(ctx, a.mon); err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	return nil
}

// reportContact prints a line to out each time r's contact changes:
// "attached to URL: server on ADDR" when a document arrives after none
// or after failures, "lost contact with URL: reconnecting (ERR)" when
// polling starts failing. It returns when ctx is done.
func reportContact(ctx context.Context, r *admin.Remote, out io.Writer) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	state := 0 // 0 never, 1 in contact, 2 lost
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c := r.Contact()
		switch {
		case c.Err == nil && !c.Last.IsZero() && state != 1:
			var s server.Snapshot
			r.Snapshot(&s)
			fmt.Fprintf(out, "attached to %s: server on %s\n", c.URL, s.Addr)
			state = 1
		case c.Err != nil && state != 2:
			verb := "lost contact with"
			if state == 0 {
				verb = "cannot reach"
			}
			fmt.Fprintf(out, "%s %s: reconnecting (%v)\n", verb, c.URL, c.Err)
			state = 2
		}
	}
}
