#!/usr/bin/env bash
# What a player costs the server over each carrier: our echo server (serve
# --game echo --web, the browser peers on one UDP port) gets N echo
# players made with the client package, first over UDP, then over WebRTC
# (pion in place of browsers), each sending RATE messages of SIZE bytes a
# second. It prints a Markdown row per carrier: the server's CPU while the
# players play, above the idle server, per player, and the players' echoes
# and round trip. The server runs on CPU 0, the players on CPU 1 (PIN=0:
# anywhere).
#
#   examples/echo/loadtest/carriers.sh 64            # 64 players of each carrier
#   DURATION=30 RATE=60 examples/echo/loadtest/carriers.sh 32 128
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-20}
RATE=${RATE:-30}
SIZE=${SIZE:-64}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/mpgameserver-tools" ./cmd/mpgameserver-tools
keys=internal/vectors/testdata
spin=() ppin=()
if [ "${PIN:-1}" = 1 ]; then spin=(taskset -c 0); ppin=(taskset -c 1); fi
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "| players | carrier | server CPU | above idle | per player | echoed / sent | RTT p50 / p99 |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for n in "$@"; do
	"${spin[@]}" "$tmp/mpgameserver" serve --game echo --listen 127.0.0.1:0 --key "$keys/server_root.key.pem" \
		--web 127.0.0.1:0 --web-ice-port "$(free_port)" --web-peers $((n + 16)) --web-peers-per-ip $((n + 16)) \
		--web-setups-per-ip $((n + 16)) --web-conns-per-ip $((n + 16)) --sessions-per-host $((2 * n + 16)) --log-level warn >"$tmp/server.out" 2>&1 &
	server=$!
	for _ in $(seq 100); do grep -q '^WEB ' "$tmp/server.out" 2>/dev/null && grep -q '^READY ' "$tmp/server.out" && break; sleep 0.1; done
	udp=$(sed -n 's/^READY //p' "$tmp/server.out")
	web=$(sed -n 's/^WEB //p' "$tmp/server.out")
	sleep 2
	c0=$(cpu $server); sleep 10; idle=$(python3 -c "print(($(cpu $server)-$c0)/$hz/10)")
	for carrier in udp webrtc; do
		addr=$udp
		if [ $carrier = webrtc ]; then addr=${web%/}/rtc; fi
		"${ppin[@]}" "$tmp/mpgameserver-tools" players --server "$addr" --pubkey "$keys/server_root.pub.pem" \
			--count "$n" --rate "$RATE" --size "$SIZE" --duration "$((DURATION + 4))s" >"$tmp/players.out" 2>"$tmp/players.err" &
		players=$!
		for _ in $(seq 600); do grep -q '^connected' "$tmp/players.err" 2>/dev/null && break; sleep 0.1; done
		sleep 2
		c0=$(cpu $server); sleep "$DURATION"; c1=$(cpu $server)
		wait $players || { cat "$tmp/players.err" >&2; exit 1; }
		python3 - "$n" "$carrier" "$idle" "$(python3 -c "print(($c1-$c0)/$hz/$DURATION)")" "$(cat "$tmp/players.out")" <<'PY'
import sys
n, carrier, idle, busy, line = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5].split()
f = dict(zip(line[::2], line[1::2]))
above = busy - idle
print(f"| {n} | {carrier} | {100*busy:.1f}% | {100*above:.1f}% | {1000*above/n:.2f} ms/s | {f['echoed']} / {f['sent']} | {line[-3]} / {line[-1]} ms |")
PY
		sleep 6 # the players' sessions time out (they leave without a word)
	done
	kill $server; wait $server 2>/dev/null || true
done
