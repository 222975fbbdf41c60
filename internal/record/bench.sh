#!/usr/bin/env bash
# Measures what the flight recorder (serve --record) costs an arena server,
# as reported in BENCHMARKS.md: for each player count, the server's CPU
# without and with --record, alternated ROUNDS times, and the recording's
# size in MB a minute. The server runs on CPU 0 and the bots (a separate
# process, `mpgameserver bots`) on CPU 1 (PIN=0 lets the system place
# them); the server's CPU is its utime+stime over the measured phase.
#
#   internal/record/bench.sh 8 64 256
#
# Environment: DURATION (20, seconds measured after WARMUP, 8), ROUNDS (2),
# SCENE (battle).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${DURATION:-20}
warmup=${WARMUP:-8}
rounds=${ROUNDS:-2}
scene=${SCENE:-battle}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
keys=internal/vectors/testdata
spin=() bpin=()
if [ "${PIN:-1}" = 1 ]; then spin=(taskset -c 0); bpin=(taskset -c 1); fi
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
size() { du -sb "$1" | awk '{print $1}'; }

echo "| players (joined) | round | server CPU, plain | server CPU, --record | recording cost | recording MB/min |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "$@"; do
	for round in $(seq "$rounds"); do
		declare -A got=()
		for mode in plain record; do
			port=$((16000 + RANDOM % 1000))
			rec=()
			if [ "$mode" = record ]; then rm -rf "$tmp/rec"; rec=(--record "$tmp/rec"); fi
			"${spin[@]}" "$tmp/mpgameserver" serve --listen "127.0.0.1:$port" --key "$keys/server_root.key.pem" \
				--game arena --scene "$scene" --sessions-per-host -1 --log-level warn "${rec[@]}" >"$tmp/server.out" 2>&1 &
			server=$!
			sleep 1
			"${bpin[@]}" "$tmp/mpgameserver" bots --server "127.0.0.1:$port" --count "$n" --give-up 60s >"$tmp/bots.out" 2>&1 &
			bots=$!
			sleep "$warmup"
			c0=$(cpu "$server")
			s0=0
			if [ "$mode" = record ]; then s0=$(size "$tmp/rec"); fi
			sleep "$duration"
			c1=$(cpu "$server")
			joined=$(grep -c '^JOIN ' "$tmp/server.out" || true)
			s1=0
			if [ "$mode" = record ]; then s1=$(size "$tmp/rec"); fi
			kill "$bots" 2>/dev/null || true
			wait "$bots" 2>/dev/null || true
			kill -INT "$server"
			wait "$server" 2>/dev/null || true
			got[$mode]=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v d="$duration" 'BEGIN {printf "%.1f", 100 * c / hz / d}')
			if [ "$mode" = record ]; then
				got[mb]=$(awk -v b="$((s1 - s0))" -v d="$duration" 'BEGIN {printf "%.2f", b / 1e6 * 60 / d}')
			fi
		done
		cost=$(awk -v a="${got[plain]}" -v b="${got[record]}" 'BEGIN {if (a > 0) printf "%+.1f%%", 100 * (b - a) / a; else print "n/a"}')
		echo "| $n ($joined) | $round | ${got[plain]}% | ${got[record]}% | $cost | ${got[mb]} |"
		unset got
	done
done
