package gui

import (
	"context"
	"fmt"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/server"
)

// noActions is what the monitor says when the source refuses actions: an
// attached server started without --admin-token, or a window without one.
const noActions = "actions need --admin-token (the server's, given to this window too)"

// refusal is what the monitor says when its source takes no actions.
func (m *Monitor) refusal() string {
	if m.rp != nil {
		return ErrReplay.Error()
	}
	return noActions
}

// confirmation is an action waiting for Y or N.
type confirmation struct {
	question string // asked in the box
	done     string // said when it worked
	act      func(ctx context.Context) error
}

// actionKeys handles D (disconnect) and B (block) for client p: each
// asks for confirmation first.
func (m *Monitor) actionKeys(now time.Time, p *server.PeerSnapshot) {
	disconnect, block := m.in.pressed(ebiten.KeyD), m.in.pressed(ebiten.KeyB)
	if !disconnect && !block {
		return
	}
	if !m.actions {
		m.say(now, m.refusal(), true)
		return
	}
	src, tok, addr := m.src, p.Token, addrOf(p)
	if disconnect {
		m.confirm = &confirmation{
			question: fmt.Sprintf("Disconnect client %d at %s?", tok, p.Addr),
			done:     fmt.Sprintf("disconnected client %d", tok),
			act:      func(ctx context.Context) error { return src.Disconnect(ctx, tok) },
		}
	} else {
		m.confirm = &confirmation{
			question: fmt.Sprintf("Block %s? Its clients are disconnected and it cannot connect again until the server restarts.", addr),
			done:     fmt.Sprintf("blocked %s", addr),
			act:      func(ctx context.Context) error { return src.Block(ctx, addr) },
		}
	}
	m.dirty = true
}

// confirmInput answers the confirmation: Y runs the action, N or Esc
// drops it.
func (m *Monitor) confirmInput(time.Time) {
	switch {
	case m.in.pressed(ebiten.KeyY):
		c := m.confirm
		m.confirm = nil
		m.run(c.done, c.act)
	case m.in.pressed(ebiten.KeyN), m.in.pressed(ebiten.KeyEscape):
		m.confirm = nil
		m.dirty = true
	}
}
