#!/usr/bin/env bash
# Latency and CPU of a browser player against a UDP player, on the
# loopback: an arena server (serve --web) gets one player at a time for
# DURATION seconds, first a headless Chromium on its page (WebRTC), then a
# native bot (UDP). It prints the server's CPU, the player's CPU and the
# round trip the server measures for the player, once a second, as the
# median and the 90th percentile.
#
#   internal/arena/browser/bench.sh            # 30 s each
#   DURATION=60 internal/arena/browser/bench.sh
#   WINDOW=320,200 internal/arena/browser/bench.sh   # a smaller page to draw
#   PIN=1 internal/arena/browser/bench.sh    # the server on CPU 0, the player on CPU 1
#   PROFILE=DIR internal/arena/browser/bench.sh   # a CPU profile of the server for each player, in DIR
#   ICE_PORT=40000 internal/arena/browser/bench.sh  # the browser peers on one UDP port (--web-ice-port)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-30}
CHROMIUM=${CHROMIUM:-chromium}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/mpgameserver" ./cmd/mpgameserver
go run ./internal/arena/web/internal/gen -o "$work/web" # the arena for the browser
"$work/mpgameserver" keygen "$work" >/dev/null
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') # the clients' rows need a token
spin=() ppin=() prof=()
if [ "${PIN:-0}" = 1 ]; then spin=(taskset -c 0); ppin=(taskset -c 1); fi
if [ -n "${PROFILE:-}" ]; then mkdir -p "$PROFILE"; prof=(--pprof); fi
"${spin[@]}" "$work/mpgameserver" serve "${prof[@]}" --game arena --listen 127.0.0.1:0 --web 127.0.0.1:0 --web-assets "$work/web" ${ICE_PORT:+--web-ice-port $ICE_PORT} --http 127.0.0.1:0 \
  --admin-read-token "$token" --key "$work/root.key" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 1200); do grep -q '^READY' "$work/out" && break; sleep 0.1; done
udp=$(sed -n 's/^READY //p' "$work/out")
page=$(sed -n 's/^WEB //p' "$work/out")
http=$(sed -n 's/.*listening http=\([^ ]*\).*/\1/p' "$work/err")
hz=$(getconf CLK_TCK)

# ticks PID...: the CPU time of the processes, in clock ticks.
ticks() {
  local sum=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $sum
}

# players: how many clients the server has.
players() {
  curl -sf -H "Authorization: Bearer $token" "http://$http/api/v1/snapshot" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["snapshot"]["Peers"] or []))'
}

# measure LABEL PIDFUNC: waits for the player to connect, then samples for
# DURATION seconds.
measure() {
  local label=$1 pids=$2
  for _ in $(seq 600); do
    [ "$(players)" = 1 ] && break
    sleep 0.1
  done
  sleep 3 # past the join and the page's start
  local s0 p0 lat=() profiler=
  if [ -n "${PROFILE:-}" ]; then
    curl -sf -H "Authorization: Bearer $token" -o "$PROFILE/$3.pprof" "http://$http/debug/pprof/profile?seconds=$DURATION" &
    profiler=$!
  fi
  s0=$(ticks $server); p0=$(ticks $($pids))
  for _ in $(seq "$DURATION"); do
    sleep 1
    lat+=("$(curl -sf -H "Authorization: Bearer $token" "http://$http/api/v1/snapshot" | python3 -c '
import json,sys
p=json.load(sys.stdin)["snapshot"]["Peers"] or []
print(p[0]["Latency"]/1e6 if p else "")')")
  done
  local s1 p1
  s1=$(ticks $server); p1=$(ticks $($pids))
  if [ -n "$profiler" ]; then wait $profiler || true; fi
  printf '%s\n' "${lat[@]}" | python3 -c "
import sys,statistics
v=sorted(float(x) for x in sys.stdin if x.strip())
q=statistics.quantiles(v,n=10) if len(v)>1 else v*9
rtt=('%.1f ms' % statistics.median(v), '%.1f ms' % q[8]) if v else ('-', '-')
print('| $label | %s | %s | %.1f%% | %.1f%% |' % (rtt + (100*($s1-$s0)/$hz/$DURATION, 100*($p1-$p0)/$hz/$DURATION)))"
}


echo "| player | round trip, median | 90th percentile | server CPU | player CPU |"
echo "|---|---:|---:|---:|---:|"
measure0() { # the server alone
  local s0 s1
  s0=$(ticks $server); sleep "$DURATION"; s1=$(ticks $server)
  python3 -c "print('| none (the server alone) | - | - | %.1f%% | - |' % (100*($s1-$s0)/$hz/$DURATION))"
}
measure0

"${ppin[@]}" "$CHROMIUM" --headless --no-sandbox --no-first-run --user-data-dir="$work/chromium" --remote-debugging-port=0 \
  --use-angle=swiftshader --enable-unsafe-swiftshader --window-size=${WINDOW:-1280,800} \
  --disable-features=WebRtcHideLocalIpsWithMdns --allow-loopback-in-peer-connection \
  --disable-background-timer-throttling --disable-renderer-backgrounding \
  "${page}?name=browser" >"$work/chromium.log" 2>&1 &
chromium=$!
chromiumPids() { pgrep -f "user-data-dir=$work/chromium" | tr '\n' ' '; }
measure "browser (Chromium, WebRTC)" chromiumPids browser
kill $chromium; wait $chromium 2>/dev/null || true
for _ in $(seq 600); do
  [ "$(players)" = 0 ] && break
  sleep 0.1
done

"${ppin[@]}" "$work/mpgameserver" bots --server "$udp" --pubkey "$work/root.pub" --count 1 >/dev/null 2>&1 &
bots=$!
botPids() { echo $bots; }
measure "native bot (UDP)" botPids bot
