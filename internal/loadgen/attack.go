package loadgen

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mpgs/mpgameserver/internal/attack"
)

// AttackInfo describes an attack that Config.Attack can name.
type AttackInfo struct {
	Name, Summary string
	// Rate is its default rate, in Unit ("packets/s" per connected
	// attacker, or "datagrams/s" for a flood from forged addresses).
	Rate float64
	Unit string
	// Flood: it sends from forged addresses, which needs Linux and a
	// server on the IPv4 loopback.
	Flood bool
	// Attackers is its number of connected clients (0 for a flood).
	Attackers int
}

// Attacks lists the attacks a run can carry beside its clients.
func Attacks() []AttackInfo {
	all := attack.Attacks()
	out := make([]AttackInfo, len(all))
	for i, a := range all {
		out[i] = AttackInfo{Name: a.Name, Summary: a.Summary, Rate: a.Rate, Unit: a.Unit(), Flood: a.Flood(), Attackers: a.Clients}
	}
	return out
}

// AttackReport is what the attack run beside the clients did during the
// steady phase.
type AttackReport struct {
	Name string
	// Rate is the rate it ran at, in Unit; 0 when as fast as possible.
	Rate float64
	Unit string
	// Error says why it did not run (it could not start, or the run had
	// no steady phase); the counts are then zero.
	Error string
	// Duration is how long it sent.
	Duration time.Duration
	// Datagrams, bytes and messages sent; Errors counts failed sends.
	Datagrams, Bytes, Messages, Errors uint64
	// Replies counts datagrams the server sent to the attackers.
	Replies uint64
	// Duplicates counts messages of the replay attack echoed twice.
	Duplicates uint64
	// Attackers is the number of connected attackers (0 for a flood);
	// Disconnected of them got a DISCONNECT from the server, and Silent
	// heard nothing from it in the attack's last second.
	Attackers, Disconnected, Silent int
	// Admitted and Refused count the handshakes of an attack that runs
	// with the clients the server admits (sessions; 0 for the others),
	// and Refusal is the most common reason one was refused.
	Admitted, Refused int
	Refusal           string
}

// DatagramsPerSec is the rate the attack's datagrams went out at.
func (a *AttackReport) DatagramsPerSec() float64 {
	if a.Duration <= 0 {
		return 0
	}
	return float64(a.Datagrams) / a.Duration.Seconds()
}

// checkAttack validates the attack fields of a configuration.
func (c *Config) checkAttack() error {
	if c.Attack == "" {
		if c.AttackRate != 0 {
			return fmt.Errorf("loadgen: an attack rate (%g) without an attack", c.AttackRate)
		}
		return nil
	}
	info, err := attack.Lookup(c.Attack)
	if err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	if c.AttackRate < 0 || math.IsNaN(c.AttackRate) {
		return fmt.Errorf("loadgen: attack rate must be positive (0: the attack's default; +Inf: as fast as possible), not %g", c.AttackRate)
	}
	if info.Flood() {
		if err := attack.CheckFlood(c.Server); err != nil {
			return fmt.Errorf("loadgen: attack %s: %w", c.Attack, err)
		}
	}
	return nil
}

// attackRun is the attack of a run, once started.
type attackRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    attack.Result
	err    error
}

// startAttack starts the configured attack, if any, once.
func (r *run) startAttack() {
	if r.cfg.Attack == "" || r.atk != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &attackRun{cancel: cancel, done: make(chan struct{})}
	r.atk = a
	r.cfg.Logger.Info("attack started", "attack", r.cfg.Attack)
	go func() {
		defer close(a.done)
		a.res, a.err = attack.Run(ctx, attack.Config{
			Name: r.cfg.Attack, Server: r.cfg.Server, ServerKey: r.cfg.ServerKey, Rate: r.cfg.AttackRate,
		})
		if a.err != nil {
			r.cfg.Logger.Warn("attack did not run", "attack", r.cfg.Attack, "err", a.err)
		}
	}()
}

// stopAttack tells the attack to stop; attackReport waits for it.
func (r *run) stopAttack() {
	if r.atk != nil {
		r.atk.cancel()
	}
}

// attackReport stops the attack and reports it (nil without one).
func (r *run) attackReport() *AttackReport {
	if r.cfg.Attack == "" {
		return nil
	}
	rep := &AttackReport{Name: r.cfg.Attack}
	if r.atk == nil {
		rep.Error = "not started: the run had no steady phase"
		return rep
	}
	r.atk.cancel()
	<-r.atk.done
	if r.atk.err != nil {
		rep.Error = r.atk.err.Error()
		return rep
	}
	res := &r.atk.res
	rep.Rate, rep.Unit, rep.Duration = res.Rate, res.Unit, res.Duration
	rep.Datagrams, rep.Bytes, rep.Messages, rep.Errors = res.Datagrams, res.Bytes, res.Messages, res.Errors
	rep.Replies, rep.Duplicates = res.Replies, res.Duplicates
	rep.Attackers = len(res.Clients)
	rep.Admitted, rep.Refused, rep.Refusal = res.Admitted, res.Refused, res.Refusal
	for _, c := range res.Clients {
		if c.Disconnected {
			rep.Disconnected++
		}
		if c.Silent {
			rep.Silent++
		}
	}
	return rep
}

// line is the report's attack line.
func (a *AttackReport) line() string {
	if a.Error != "" {
		return fmt.Sprintf("attack     %s: %s", a.Name, a.Error)
	}
	rate := "as fast as possible"
	if a.Rate > 0 {
		rate = fmt.Sprintf("at %g %s", a.Rate, a.Unit)
	}
	s := fmt.Sprintf("attack     %s %s for %.1fs: %d datagrams (%.0f/s), %d messages, %d replies",
		a.Name, rate, a.Duration.Seconds(), a.Datagrams, a.DatagramsPerSec(), a.Messages, a.Replies)
	if a.Errors > 0 {
		s += fmt.Sprintf(", %d send errors", a.Errors)
	}
	if a.Admitted+a.Refused > 0 {
		s += fmt.Sprintf("; handshakes: %d admitted, %d refused", a.Admitted, a.Refused)
		if a.Refusal != "" {
			s += fmt.Sprintf(" (%s)", a.Refusal)
		}
	}
	if a.Attackers > 0 {
		s += fmt.Sprintf("; %d attackers: %d disconnected, %d silent", a.Attackers, a.Disconnected, a.Silent)
	}
	if a.Duplicates > 0 {
		s += fmt.Sprintf("; %d replayed messages echoed", a.Duplicates)
	}
	return s
}

// jsonAttack is the attack's JSON form.
type jsonAttack struct {
	Name            string  `json:"name"`
	Rate            float64 `json:"rate"`
	Unit            string  `json:"unit,omitempty"`
	Error           string  `json:"error,omitempty"`
	DurationSeconds float64 `json:"duration_s"`
	Datagrams       uint64  `json:"datagrams"`
	DatagramsPerSec float64 `json:"datagrams_per_s"`
	Bytes           uint64  `json:"bytes"`
	Messages        uint64  `json:"messages"`
	Errors          uint64  `json:"send_errors"`
	Replies         uint64  `json:"replies"`
	Duplicates      uint64  `json:"duplicates"`
	Attackers       int     `json:"attackers"`
	Disconnected    int     `json:"disconnected"`
	Silent          int     `json:"silent"`
	Admitted        int     `json:"admitted,omitempty"`
	Refused         int     `json:"refused,omitempty"`
	Refusal         string  `json:"refusal,omitempty"`
}

// json returns the JSON form of a (nil for nil).
func (a *AttackReport) json() *jsonAttack {
	if a == nil {
		return nil
	}
	return &jsonAttack{
		Name: a.Name, Rate: a.Rate, Unit: a.Unit, Error: a.Error, DurationSeconds: a.Duration.Seconds(),
		Datagrams: a.Datagrams, DatagramsPerSec: a.DatagramsPerSec(), Bytes: a.Bytes, Messages: a.Messages,
		Errors: a.Errors, Replies: a.Replies, Duplicates: a.Duplicates,
		Attackers: a.Attackers, Disconnected: a.Disconnected, Silent: a.Silent,
		Admitted: a.Admitted, Refused: a.Refused, Refusal: a.Refusal,
	}
}
