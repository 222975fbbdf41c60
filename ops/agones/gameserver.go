package agones

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The states of a GameServer (GameServer.State) a game server sees.
const (
	StateScheduled    = "Scheduled"
	StateRequestReady = "RequestReady"
	StateReady        = "Ready"
	StateReserved     = "Reserved"
	StateAllocated    = "Allocated"
	StateShutdown     = "Shutdown"
	StateUnhealthy    = "Unhealthy"
	StateError        = "Error"
)

// GameServer is the game server's GameServer resource, as the sidecar
// reports it: its metadata, health settings and status.
type GameServer struct {
	Name, Namespace, UID string
	ResourceVersion      string
	Generation           int64
	// Created and Deleted are the resource's creation and deletion times
	// (zero when not set; Deleted is set once the pod is being deleted).
	Created, Deleted time.Time
	// Labels and Annotations are the resource's metadata: an allocation
	// may set some (GameServerAllocation's metadata), SetLabel and
	// SetAnnotation add keys prefixed with "agones.dev/sdk-".
	Labels, Annotations map[string]string

	// Health is the GameServer's health checking.
	Health Health

	// State is the GameServer's state: StateReady, StateAllocated, ...
	State string
	// Address is the address players connect to, and Addresses the
	// node's addresses by type.
	Address   string
	Addresses []Address
	// Ports are the ports players connect to.
	Ports []Port
	// Players is the player tracking status (alpha; nil when absent).
	Players *Players
	// Counters and Lists are the status's counters and lists (beta), by
	// name.
	Counters map[string]Counter
	Lists    map[string]List
}

// Health is a GameServer's health checking: Agones marks it Unhealthy
// when no Health arrived for Period, FailureThreshold times in a row,
// after InitialDelay.
type Health struct {
	Disabled         bool
	Period           time.Duration
	FailureThreshold int
	InitialDelay     time.Duration
}

// Address is one of the node's addresses.
type Address struct {
	Type, Address string
}

// Port is a port players connect to.
type Port struct {
	Name string
	Port int
}

// Players is the alpha player tracking status.
type Players struct {
	Count, Capacity int64
	IDs             []string
}

// Counter is a counter of the GameServer's status.
type Counter struct {
	Name            string
	Count, Capacity int64
}

// List is a list of the GameServer's status.
type List struct {
	Capacity int64
	Values   []string
}

// PortNamed returns the port called name, if any.
func (gs *GameServer) PortNamed(name string) (Port, bool) {
	for _, p := range gs.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// The wire types decode the JSON of the REST gateway: proto3's JSON
// mapping, with snake_case keys (the gateway's setting) or camelCase ones
// (proto3's default), and int64 values as strings or numbers. Keys of
// one word are the same in both; the others have a field for each form.

// jsonInt is an integer given as a JSON number or string.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = jsonInt(v)
		return nil
	}
	// proto3 also allows an exponent ("1e3") for an integral value.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return fmt.Errorf("agones: %.40q is not an integer", s)
	}
	*n = jsonInt(f)
	return nil
}

// either returns a, or b when a is zero.
func either[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

func unixTime(sec jsonInt) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0)
}

type wireGameServer struct {
	Meta   *wireMeta   `json:"object_meta"`
	MetaCC *wireMeta   `json:"objectMeta"`
	Spec   *wireSpec   `json:"spec"`
	Status *wireStatus `json:"status"`
}

type wireMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	UID         string            `json:"uid"`
	RV          string            `json:"resource_version"`
	RVCC        string            `json:"resourceVersion"`
	Generation  jsonInt           `json:"generation"`
	Created     jsonInt           `json:"creation_timestamp"`
	CreatedCC   jsonInt           `json:"creationTimestamp"`
	Deleted     jsonInt           `json:"deletion_timestamp"`
	DeletedCC   jsonInt           `json:"deletionTimestamp"`
	Annotations map[string]string `json:"annotations"`
	Labels      map[string]string `json:"labels"`
}

type wireSpec struct {
	Health *wireHealth `json:"health"`
}

type wireHealth struct {
	Disabled       bool    `json:"disabled"`
	Period         jsonInt `json:"period_seconds"`
	PeriodCC       jsonInt `json:"periodSeconds"`
	Failure        jsonInt `json:"failure_threshold"`
	FailureCC      jsonInt `json:"failureThreshold"`
	InitialDelay   jsonInt `json:"initial_delay_seconds"`
	InitialDelayCC jsonInt `json:"initialDelaySeconds"`
}

type wireStatus struct {
	State     string `json:"state"`
	Address   string `json:"address"`
	Addresses []struct {
		Type    string `json:"type"`
		Address string `json:"address"`
	} `json:"addresses"`
	Ports []struct {
		Name string  `json:"name"`
		Port jsonInt `json:"port"`
	} `json:"ports"`
	Players *struct {
		Count    jsonInt  `json:"count"`
		Capacity jsonInt  `json:"capacity"`
		IDs      []string `json:"ids"`
	} `json:"players"`
	Counters map[string]wireCounter `json:"counters"`
	Lists    map[string]struct {
		Capacity jsonInt  `json:"capacity"`
		Values   []string `json:"values"`
	} `json:"lists"`
}

type wireCounter struct {
	Name     string  `json:"name"`
	Count    jsonInt `json:"count"`
	Capacity jsonInt `json:"capacity"`
}

func (w *wireCounter) counter() Counter {
	return Counter{Name: w.Name, Count: int64(w.Count), Capacity: int64(w.Capacity)}
}

// gameServer converts the wire form.
func (w *wireGameServer) gameServer() *GameServer {
	gs := &GameServer{}
	if m := either(w.Meta, w.MetaCC); m != nil {
		gs.Name, gs.Namespace, gs.UID = m.Name, m.Namespace, m.UID
		gs.ResourceVersion = either(m.RV, m.RVCC)
		gs.Generation = int64(m.Generation)
		gs.Created = unixTime(either(m.Created, m.CreatedCC))
		gs.Deleted = unixTime(either(m.Deleted, m.DeletedCC))
		gs.Labels, gs.Annotations = m.Labels, m.Annotations
	}
	if gs.Labels == nil {
		gs.Labels = map[string]string{}
	}
	if gs.Annotations == nil {
		gs.Annotations = map[string]string{}
	}
	if w.Spec != nil && w.Spec.Health != nil {
		h := w.Spec.Health
		gs.Health = Health{
			Disabled:         h.Disabled,
			Period:           time.Duration(either(h.Period, h.PeriodCC)) * time.Second,
			FailureThreshold: int(either(h.Failure, h.FailureCC)),
			InitialDelay:     time.Duration(either(h.InitialDelay, h.InitialDelayCC)) * time.Second,
		}
	}
	st := w.Status
	if st == nil {
		return gs
	}
	gs.State, gs.Address = st.State, st.Address
	for _, a := range st.Addresses {
		gs.Addresses = append(gs.Addresses, Address{Type: a.Type, Address: a.Address})
	}
	for _, p := range st.Ports {
		gs.Ports = append(gs.Ports, Port{Name: p.Name, Port: int(p.Port)})
	}
	if p := st.Players; p != nil {
		gs.Players = &Players{Count: int64(p.Count), Capacity: int64(p.Capacity), IDs: p.IDs}
	}
	if len(st.Counters) > 0 {
		gs.Counters = make(map[string]Counter, len(st.Counters))
		for name, c := range st.Counters {
			v := c.counter()
			v.Name = name
			gs.Counters[name] = v
		}
	}
	if len(st.Lists) > 0 {
		gs.Lists = make(map[string]List, len(st.Lists))
		for name, l := range st.Lists {
			gs.Lists[name] = List{Capacity: int64(l.Capacity), Values: l.Values}
		}
	}
	return gs
}

// watchEvent is one line of the watch stream.
type watchEvent struct {
	Result *wireGameServer `json:"result"`
	Error  *wireError      `json:"error"`
}

type wireError struct {
	GRPCCode   jsonInt `json:"grpc_code"`
	GRPCCodeCC jsonInt `json:"grpcCode"`
	Code       jsonInt `json:"code"`
	HTTPCode   jsonInt `json:"http_code"`
	HTTPCodeCC jsonInt `json:"httpCode"`
	Message    string  `json:"message"`
}

func (e *wireError) Error() string {
	return fmt.Sprintf("agones: watch stream error: grpc code %d, http code %d: %.200s",
		either(either(e.GRPCCode, e.GRPCCodeCC), e.Code), either(e.HTTPCode, e.HTTPCodeCC), e.Message)
}
