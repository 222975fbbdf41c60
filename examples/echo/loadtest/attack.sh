#!/usr/bin/env bash
# Measures our echo server under each attack of the hostile-input table
# beside 500 well-behaved clients (30 messages of 64 bytes a second each),
# one Markdown table row per attack ("none" is the baseline):
#
#   examples/echo/loadtest/attack.sh                      # every attack
#   examples/echo/loadtest/attack.sh none junk hello-flood
#
# The server runs on CPU 0; the measured clients and the attacker (each
# its own `mpgameserver-tools loadgen` process) on CPU 1. Five seconds into the
# measured phase, 20 new clients try to connect (a third loadgen). While
# the attack still runs, the server gets SIGTERM and the time it takes to
# exit is measured. Columns: the attack and what it sent, the measured
# clients' loss, duplicates and echo round trip, the server's ticks/s
# (min–mean over 2-second samples), how many of the 20 new clients
# connected, the server's peak RSS, what it dropped, and the exit time.
#
# Environment: CLIENTS (500), RATE (30), DURATION (20s), PIN (1).
set -euo pipefail
cd "$(dirname "$0")/../../.."
clients=${CLIENTS:-500}
rate=${RATE:-30}
duration=${DURATION:-20s}
secs=${duration%s}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/mpgameserver-tools" ./cmd/mpgameserver-tools
bin=$tmp/mpgameserver
tools=$tmp/mpgameserver-tools
keys=internal/vectors/testdata
spin=() lpin=()
if [ "${PIN:-1}" = 1 ]; then spin=(taskset -c 0); lpin=(taskset -c 1); fi
attacks=("$@")
if [ ${#attacks[@]} = 0 ]; then
	attacks=(none fragments empty-flood replay big-fragments hello-badcrc hello-flood hello-flood-marked junk stats-pack sessions)
fi
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
status() { curl -s "http://127.0.0.1:$hport/"; }

echo "| attack (sent) | loss | duplicates | RTT p50 / p99 | ticks/s min–mean | new clients | server RSS peak | server dropped | exit after SIGTERM |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---:|"
for name in "${attacks[@]}"; do
	port=$((16000 + RANDOM % 1000)) hport=$((port + 1000))
	"${spin[@]}" "$bin" serve --listen "127.0.0.1:$port" --key "$keys/server_root.key.pem" --game echo \
		--http "127.0.0.1:$hport" --log-level error >"$tmp/server.out" 2>"$tmp/server.err" &
	spid=$!
	for _ in $(seq 50); do grep -q READY "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
	"${lpin[@]}" "$tools" loadgen --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" \
		--clients "$clients" --rate "$rate" --size 64 --duration "$duration" --json --quiet >"$tmp/measured.json" 2>"$tmp/measured.err" &
	lpid=$!
	sleep $((clients / 500 + 3)) # the ramp
	apid=
	if [ "$name" != none ]; then
		"${lpin[@]}" "$tools" loadgen --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" \
			--clients 1 --rate 1 --size 64 --duration $((secs + 10))s --attack "$name" --json --quiet \
			>"$tmp/attack.json" 2>"$tmp/attack.err" &
		apid=$!
	fi
	ticks=() peak=0
	for i in $(seq $((secs / 2 - 1))); do
		sleep 2
		ticks+=("$(status | awk '/^ticks\/s/ {print $2}')")
		r=$(rss $spid)
		[ "$r" -gt "$peak" ] && peak=$r
		if [ "$i" = 2 ]; then
			"$tools" loadgen --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" \
				--clients 20 --rate 1 --size 64 --duration 2s --connect-rate 100 --json --quiet >"$tmp/probe.json" 2>/dev/null &
		fi
	done
	wait $lpid || true
	drops=$(status | awk '/^drops/ {printf "junk %s throttled %s bad-hello %s refused-hello %s", $5, $13, $15, $17}
		/^clients/ {printf ", over-budget %s out-of-window %s", $7, $9}
		/^handshakes/ {printf ", cookies %s evicted %s", $5, $7}')
	r=$(rss $spid)
	[ "$r" -gt "$peak" ] && peak=$r
	t0=$(date +%s%N)
	kill -TERM $spid
	while kill -0 $spid 2>/dev/null; do sleep 0.01; done
	exit_ms=$((($(date +%s%N) - t0) / 1000000))
	wait $spid 2>/dev/null || true
	[ -n "$apid" ] && { kill -INT $apid 2>/dev/null || true; wait $apid 2>/dev/null || true; }
	wait 2>/dev/null || true
	python3 - "$tmp" "$name" "$peak" "$exit_ms" "$drops" "${ticks[*]:-}" <<'PY'
import json, os, sys
tmp, name, peak, exit_ms, drops, ticks = sys.argv[1:7]
m = json.load(open(f"{tmp}/measured.json"))
probe = json.load(open(f"{tmp}/probe.json")) if os.path.exists(f"{tmp}/probe.json") else {}
sent = ""
if name != "none":
    try:
        a = json.load(open(f"{tmp}/attack.json")).get("attack", {})
        sent = f" ({a.get('datagrams_per_s', 0):,.0f} datagrams/s"
        if a.get("duplicates"):
            sent += f"; {a['duplicates']} echoed twice"
        if a.get("admitted") or a.get("refused"):
            sent += f"; {a.get('admitted', 0):,} sessions admitted, {a.get('refused', 0):,} refused"
        if a.get("error"):
            sent += f"; {a['error']}"
        sent += ")"
    except (OSError, ValueError):
        sent = " (no report)"
t = [int(x) for x in ticks.split() if x.isdigit()]
tcol = f"{min(t)}–{sum(t) / len(t):.0f}" if t else "n/a"
print(f"| {name}{sent} | {m['loss_percent']:.3f}% | {m['duplicates']} | {m['rtt_p50_ms']:.1f} / {m['rtt_p99_ms']:.1f} ms | {tcol} | "
      f"{probe.get('connected', 0)}/20 | {int(peak) / 1024:.0f} MiB | {drops} | {exit_ms} ms |")
PY
	rm -f "$tmp/probe.json" "$tmp/attack.json"
done
