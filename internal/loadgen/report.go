package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Report is what a run measured. Message counts, datagram counts and
// round trips cover the steady phase: messages sent after every client
// connected or failed and before Duration ran out. The echo of a message
// that arrives more than Config.EchoWindow's worth of messages (2 s)
// after it was sent counts as late, and the message as lost. Problem says
// in one line why a run measured nothing worth reading (no client
// connected, and why; or the server does not echo).
type Report struct {
	Server  string
	Clients int
	Rate    float64
	Size    int
	// Sockets is how the clients sent and received.
	Sockets Sockets
	// Bare says the run sent plain datagrams to a bare echo (Config.Bare).
	Bare bool

	// Ramp is how long the clients took to connect; Duration is the
	// length of the steady phase.
	Ramp, Duration time.Duration
	// Interrupted is set when the run was stopped early.
	Interrupted bool

	// Connected clients completed the handshake; Failed did not (or could
	// not open a socket: OpenError); Dropped lost their connection after
	// connecting; NotStarted never began (the run was interrupted).
	Connected, Failed, Dropped, NotStarted int
	OpenError                              string
	// Failures says why the Failed clients failed.
	Failures Failures

	// Messages of the steady phase.
	Sent, Echoed, Lost uint64
	// Messages sent during the ramp.
	RampSent, RampEchoed uint64
	// Late echoes (after their message was counted lost), duplicates
	// (echoed twice) and corrupt echoes (not a message that was sent).
	Late, Duplicates, Corrupt uint64
	// Datagrams sent and received during the steady phase.
	DatagramsOut, DatagramsIn uint64
	// Errors sending (a full send queue, a socket error) and receiving.
	SendErrors, ReceiveErrors uint64
	// GeneratorDrops counts datagrams the system dropped on their way to
	// the generator because its socket's receive buffer was full: losses
	// that are the generator's, not the server's (shared sockets on
	// Linux only; 0 otherwise).
	GeneratorDrops uint64

	// RTT is the echo round trip: from the frame that queued a message to
	// the arrival of its echo.
	RTT RTT

	// Attack is what the attack run beside the clients did (nil when the
	// run had none).
	Attack *AttackReport

	keySource        string        // Config.KeySource, for Problem
	handshakeTimeout time.Duration // Config.HandshakeTimeout, for Problem
}

// RTT summarises the round trips of the steady phase.
type RTT struct {
	Count                         uint64
	Min, Mean, P50, P90, P99, Max time.Duration
}

// LossPercent is the share of the steady phase's messages never echoed.
func (r *Report) LossPercent() float64 { return percent(r.Lost, r.Sent) }

func (r *Report) perSecond(n uint64) float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(n) / r.Duration.Seconds()
}

// DatagramsOutPerSec is the rate of datagrams sent in the steady phase.
func (r *Report) DatagramsOutPerSec() float64 { return r.perSecond(r.DatagramsOut) }

// DatagramsInPerSec is the rate of datagrams received in the steady phase.
func (r *Report) DatagramsInPerSec() float64 { return r.perSecond(r.DatagramsIn) }

// SentShare is the steady phase's messages sent as a share (0-1) of what
// the connected clients were asked to send: below 1 when the generator
// could not keep up (its CPU is saturated), so that the server was not
// loaded as asked. It is 0 when nothing was measured.
func (r *Report) SentShare() float64 {
	asked := float64(r.Connected) * r.Rate * r.Duration.Seconds()
	if asked <= 0 {
		return 0
	}
	return float64(r.Sent) / asked
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	bare := ""
	if r.Bare {
		bare = ", bare UDP"
	}
	p("server     %s: %d clients x %g msg/s x %d B (%s sockets%s), measured %.1fs after a %.1fs ramp",
		r.Server, r.Clients, r.Rate, r.Size, r.Sockets, bare, r.Duration.Seconds(), r.Ramp.Seconds())
	if r.Interrupted {
		p(" (interrupted)")
	}
	p("\nclients    %d connected, %d failed", r.Connected, r.Failed)
	if why := r.Failures.breakdown(); why != "" {
		p(" (%s)", why)
	}
	p(", %d dropped", r.Dropped)
	if r.NotStarted > 0 {
		p(", %d not started", r.NotStarted)
	}
	if r.OpenError != "" {
		p(" (%s)", r.OpenError)
	}
	p("\nmessages   %d sent, %d echoed, %d lost (%.3f%%)", r.Sent, r.Echoed, r.Lost, r.LossPercent())
	if r.Late+r.Duplicates+r.Corrupt > 0 {
		p("; %d late, %d duplicate, %d corrupt", r.Late, r.Duplicates, r.Corrupt)
	}
	if share := r.SentShare(); share > 0 && share < 0.95 && r.Dropped == 0 {
		p("\nwarning    the generator sent %.0f%% of the messages asked: it could not keep up, so the server had less load than asked", 100*share)
	}
	p("\ndatagrams  %.0f/s out, %.0f/s in", r.DatagramsOutPerSec(), r.DatagramsInPerSec())
	if r.SendErrors+r.ReceiveErrors > 0 {
		p("; %d send errors, %d receive errors", r.SendErrors, r.ReceiveErrors)
	}
	if r.GeneratorDrops > 0 {
		p("; %d dropped by the generator's full socket buffer", r.GeneratorDrops)
	}
	p("\nround trip p50 %s  p90 %s  p99 %s  max %s  (mean %s over %d echoes)\n",
		ms(r.RTT.P50), ms(r.RTT.P90), ms(r.RTT.P99), ms(r.RTT.Max), ms(r.RTT.Mean), r.RTT.Count)
	if r.Attack != nil {
		p("%s\n", r.Attack.line())
	}
	if problem := r.Problem(); problem != "" {
		p("problem    %s\n", problem)
	}
	return err
}

// jsonReport is the report's JSON form: durations in milliseconds or
// seconds, named with their unit.
type jsonReport struct {
	Server             string  `json:"server"`
	Clients            int     `json:"clients"`
	Rate               float64 `json:"rate"`
	Size               int     `json:"size"`
	Sockets            string  `json:"sockets"`
	RampSeconds        float64 `json:"ramp_s"`
	DurationSeconds    float64 `json:"duration_s"`
	Interrupted        bool    `json:"interrupted"`
	Connected          int     `json:"connected"`
	Failed             int     `json:"failed"`
	Dropped            int     `json:"dropped"`
	NotStarted         int     `json:"not_started"`
	OpenError          string  `json:"open_error,omitempty"`
	Sent               uint64  `json:"sent"`
	Echoed             uint64  `json:"echoed"`
	Lost               uint64  `json:"lost"`
	LossPercent        float64 `json:"loss_percent"`
	RampSent           uint64  `json:"ramp_sent"`
	RampEchoed         uint64  `json:"ramp_echoed"`
	Late               uint64  `json:"late"`
	Duplicates         uint64  `json:"duplicates"`
	Corrupt            uint64  `json:"corrupt"`
	DatagramsOut       uint64  `json:"datagrams_out"`
	DatagramsIn        uint64  `json:"datagrams_in"`
	DatagramsOutPerSec float64 `json:"datagrams_out_per_s"`
	DatagramsInPerSec  float64 `json:"datagrams_in_per_s"`
	SendErrors         uint64  `json:"send_errors"`
	ReceiveErrors      uint64  `json:"receive_errors"`
	GeneratorDrops     uint64  `json:"generator_drops"`
	SentShare          float64 `json:"sent_share"`
	RTTCount           uint64  `json:"rtt_count"`
	RTTMin             float64 `json:"rtt_min_ms"`
	RTTMean            float64 `json:"rtt_mean_ms"`
	RTTP50             float64 `json:"rtt_p50_ms"`
	RTTP90             float64 `json:"rtt_p90_ms"`
	RTTP99             float64 `json:"rtt_p99_ms"`
	RTTMax             float64 `json:"rtt_max_ms"`
	// Added later: scripts that read the keys above are unaffected.
	Failures jsonFailures `json:"failures"`
	Problem  string       `json:"problem,omitempty"`
	Bare     bool         `json:"bare,omitempty"`
}

// jsonFailures is Failures' JSON form.
type jsonFailures struct {
	NoAnswer     int `json:"no_answer"`
	Refused      int `json:"refused"`
	BadSignature int `json:"bad_signature"`
	Rejected     int `json:"rejected"`
	Socket       int `json:"socket"`
}

// MarshalJSON writes the report as one flat JSON object, with the attack
// (if any) as an object under "attack".
func (r *Report) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	type withAttack struct {
		jsonReport
		Attack *jsonAttack `json:"attack,omitempty"`
	}
	return json.Marshal(withAttack{jsonReport{
		Server: r.Server, Clients: r.Clients, Rate: r.Rate, Size: r.Size, Sockets: r.Sockets.String(), Bare: r.Bare,
		RampSeconds: r.Ramp.Seconds(), DurationSeconds: r.Duration.Seconds(), Interrupted: r.Interrupted,
		Connected: r.Connected, Failed: r.Failed, Dropped: r.Dropped, NotStarted: r.NotStarted, OpenError: r.OpenError,
		Sent: r.Sent, Echoed: r.Echoed, Lost: r.Lost, LossPercent: r.LossPercent(),
		RampSent: r.RampSent, RampEchoed: r.RampEchoed,
		Late: r.Late, Duplicates: r.Duplicates, Corrupt: r.Corrupt,
		DatagramsOut: r.DatagramsOut, DatagramsIn: r.DatagramsIn,
		DatagramsOutPerSec: r.DatagramsOutPerSec(), DatagramsInPerSec: r.DatagramsInPerSec(),
		SendErrors: r.SendErrors, ReceiveErrors: r.ReceiveErrors, GeneratorDrops: r.GeneratorDrops,
		SentShare: r.SentShare(),
		RTTCount:  r.RTT.Count, RTTMin: ms(r.RTT.Min), RTTMean: ms(r.RTT.Mean),
		RTTP50: ms(r.RTT.P50), RTTP90: ms(r.RTT.P90), RTTP99: ms(r.RTT.P99), RTTMax: ms(r.RTT.Max),
		Failures: jsonFailures{NoAnswer: r.Failures.NoAnswer, Refused: r.Failures.Refused, BadSignature: r.Failures.BadSignature,
			Rejected: r.Failures.Rejected, Socket: r.Failures.Socket},
		Problem: r.Problem(),
	}, r.Attack.json()})
}
