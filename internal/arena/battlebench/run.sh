#!/usr/bin/env bash
# Measures the arena's battle scene under computer players, as reported in
# BENCHMARKS.md ("State replication"): for each count of bots, one Markdown
# table row with the server's ticks/s, its CPU (its core's share), its
# memory, and the downstream each player gets (UDP payload, our header
# included: the server's bytes out divided by the players and the time).
#
#   internal/arena/battlebench/run.sh 64 256                    # replication as served
#   REPLICATION=full internal/arena/battlebench/run.sh 64       # the whole world every snapshot
#   SCENE=calm internal/arena/battlebench/run.sh 64             # nothing drifting
#
# The server (headless, the production build) runs on CPU 0 and the bots
# (`mpgameserver bots`, one process, each bot its own UDP socket) on CPU 1
# (taskset; PIN=0 lets the system place them). Environment: DURATION (20s,
# the measured phase, after WARM 10s), SCENE (battle), REPLICATION (delta).
set -euo pipefail
cd "$(dirname "$0")/../../.."
duration=${DURATION:-20s}
secs=${duration%s}
warm=${WARM:-10}
scene=${SCENE:-battle}
repl=${REPLICATION:-delta}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/mpgameserver-full" ./cmd/mpgameserver
keys=internal/vectors/testdata
spin=() bpin=()
if [ "${PIN:-1}" = 1 ]; then spin=(taskset -c 0); bpin=(taskset -c 1); fi
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
busy() { awk -v c="cpu$1" '$1==c {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
status() { curl -s "http://127.0.0.1:$((port + 1000))/"; }

echo "| scene | replication | bots | ticks/s min–mean | server CPU (its core busy) | server RSS | downstream a player |"
echo "|---|---|---:|---:|---:|---:|---:|"
for n in "$@"; do
	port=$((16000 + RANDOM % 1000))
	"${spin[@]}" "$tmp/mpgameserver" serve --listen "127.0.0.1:$port" --key "$keys/server_root.key.pem" --game arena \
		--scene "$scene" --replication "$repl" --sessions-per-host -1 --http "127.0.0.1:$((port + 1000))" \
		--log-level warn >"$tmp/server.out" 2>&1 &
	spid=$!
	for _ in $(seq 100); do status >/dev/null 2>&1 && break; sleep 0.1; done
	"${bpin[@]}" "$tmp/mpgameserver-full" bots --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" --count "$n" \
		>"$tmp/bots.out" 2>&1 &
	bpid=$!
	sleep "$warm"
	c0=$(cpu $spid) b0=($(busy 0))
	bytes0=$(status | awk '/^bytes in/ {print $5}')
	min=1000 sum=0
	for _ in $(seq "$secs"); do
		sleep 1
		t=$(status | awk '/^ticks\/s/ {print $2}')
		sum=$((sum + t))
		[ "$t" -lt "$min" ] && min=$t
	done
	c1=$(cpu $spid) b1=($(busy 0))
	bytes1=$(status | awk '/^bytes in/ {print $5}')
	conns=$(status | awk '/^connections/ {print $2}')
	mem=$(rss $spid)
	kill $bpid $spid 2>/dev/null || true
	wait $bpid $spid 2>/dev/null || true
	servercpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.0f%%", 100*(b-a)/hz/s}')
	corebusy=$(awk -v a="${b0[0]}" -v b="${b1[0]}" -v ta="${b0[1]}" -v tb="${b1[1]}" 'BEGIN {printf "%.0f%%", 100*(b-a)/(tb-ta)}')
	down=$(awk -v a="$bytes0" -v b="$bytes1" -v n="$conns" -v s="$secs" 'BEGIN {if (n>0) printf "%.1f kbps", (b-a)*8/1000/s/n; else print "n/a"}')
	echo "| $scene | $repl | $n ($conns in) | $min–$((sum / secs)) | $servercpu ($corebusy) | $((mem / 1024)) MiB | $down |"
done
