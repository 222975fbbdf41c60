#!/usr/bin/env bash
# Measures the CPU of a server process (headless "serve" or the "gui"
# monitor window) idle or under a swarm of echo clients, and the server's
# ticks per second, as reported in BENCHMARKS.md.
#
#   examples/echo/swarm/measure.sh serve 0      # headless, idle
#   examples/echo/swarm/measure.sh gui 100      # monitor window, 100 clients
#
# The gui mode needs an X display (e.g. Xvfb :99 and DISPLAY=:99).
# Environment: SECONDS_MEASURED (20), RATE (30 msg/s/client), SIZE (64 B).
set -euo pipefail
mode=${1:?serve or gui}
clients=${2:-0}
secs=${SECONDS_MEASURED:-20}
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/swarm" ./examples/echo/swarm
"$tmp/mpgameserver" keygen "$tmp" >/dev/null
"$tmp/mpgameserver" "$mode" --listen 127.0.0.1:14790 --key "$tmp/root.key" --game echo \
	--http 127.0.0.1:14791 --log-level warn >"$tmp/server.out" 2>&1 &
pid=$!
sleep 3
spid=
if [ "$clients" -gt 0 ]; then
	"$tmp/swarm" --server 127.0.0.1:14790 --pubkey "$tmp/root.pub" --clients "$clients" \
		--rate "${RATE:-30}" --size "${SIZE:-64}" >"$tmp/swarm.out" 2>&1 &
	spid=$!
	sleep 5
fi
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
a=$(cpu $pid)
sleep "$secs"
b=$(cpu $pid)
ticks=$(curl -s http://127.0.0.1:14791/ | awk '/^ticks/ {print $2}')
conns=$(curl -s http://127.0.0.1:14791/ | awk '/^connections/ {print $2}')
echo "$mode, $conns clients: server process CPU $(echo "scale=1; 100*($b-$a)/$hz/$secs" | bc)% of a core over ${secs}s, ticks/s $ticks"
[ -n "$spid" ] && kill "$spid" 2>/dev/null
kill -INT $pid
wait $pid 2>/dev/null || true
