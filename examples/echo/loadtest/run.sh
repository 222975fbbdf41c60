#!/usr/bin/env bash
# Measures an echo server under `mpgameserver-tools loadgen`, as reported in
# BENCHMARKS.md: for each client count, one Markdown table row with the
# server's ticks/s, the datagrams/s each way, the loss, the echo round
# trip, the server's CPU and memory, and the generator's CPU. Process CPU
# (utime+stime) leaves out the kernel's network work done in softirq
# context, so the busy share of each pinned core is shown beside it, and
# the time the hypervisor stole from the VM, which makes a run unfair.
#
#   examples/echo/loadtest/run.sh ours 256 1024 2560       # our headless server
#   examples/echo/loadtest/run.sh bare 256 2560            # bare UDP echo, the baseline
#   examples/echo/loadtest/run.sh bare-c 256 2560          # the same in C, a second baseline
#   PY_REFERENCE=/path/to/mpgameserver examples/echo/loadtest/run.sh python 256 512
#
# By default the server runs on CPU 0 and the generator on CPU 1 (taskset),
# the setup of the Python original's published figures; PIN=0 lets the
# system place them. `bare` runs `mpgameserver-tools bare-echo` (every datagram
# sent back, no protocol, no encryption) under `loadgen --bare`: what the
# kernel allows on this machine, to compare our cost per echo with (no
# ticks: n/a; no heap). `bare-c` runs bare_echo.c, the same echo written
# in C apart from our code (needs a C compiler, cc; no socket drop count),
# which checks that the Go baseline is not itself slow. Environment: DURATION (20s, the measured phase),
# RATE (30 messages/s per client), SIZE (64 bytes), CONNECT_RATE (500
# handshakes/s; the Python server takes fewer), PYTHON (python3), SCRAPE
# (1: scrape our server's /metrics every second, as Prometheus would).
set -euo pipefail
kind=${1:?ours, bare, bare-c or python}
shift
duration=${DURATION:-20s}
secs=${duration%s}
rate=${RATE:-30}
size=${SIZE:-64}
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/mpgameserver-tools" ./cmd/mpgameserver-tools
if [ "$kind" = bare-c ]; then
	cc -O2 -o "$tmp/bare_echo" examples/echo/loadtest/bare_echo.c
fi
keys=internal/vectors/testdata
spin=() lpin=()
if [ "${PIN:-1}" = 1 ]; then spin=(taskset -c 0); lpin=(taskset -c 1); fi
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# heap prints our server's live heap after a collection (0 for Python).
heap() {
	if [ "$kind" = ours ]; then
		curl -s "http://127.0.0.1:$((port + 1000))/debug/pprof/heap?gc=1" >/dev/null
		curl -s "http://127.0.0.1:$((port + 1000))/" | awk '/^memory/ {print $3}'
	else
		echo 0
	fi
}

echo "| clients | ticks/s min–mean | datagrams/s in / out (server) | loss | RTT p50 / p99 | server CPU (its core busy) | server memory (RSS, live heap) | generator CPU (its core busy) | socket drops server / generator | steal |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "$@"; do
	port=$((15000 + RANDOM % 1000))
	if [ "$kind" = ours ]; then
		"${spin[@]}" "$tmp/mpgameserver" serve --listen "127.0.0.1:$port" --key "$keys/server_root.key.pem" \
			--game echo --http "127.0.0.1:$((port + 1000))" --pprof --log-level warn >"$tmp/server.out" 2>&1 &
		connect=${CONNECT_RATE:-500}
	elif [ "$kind" = bare-c ]; then
		"${spin[@]}" "$tmp/bare_echo" 127.0.0.1 "$port" >"$tmp/server.out" 2>&1 &
		connect=${CONNECT_RATE:-500}
	elif [ "$kind" = bare ]; then
		"${spin[@]}" "$tmp/mpgameserver-tools" bare-echo --listen "127.0.0.1:$port" --http "127.0.0.1:$((port + 1000))" \
			>"$tmp/server.out" 2>&1 &
		connect=${CONNECT_RATE:-500}
	else
		PYTHONPATH=${PY_REFERENCE:?set PY_REFERENCE to the Python mpgameserver checkout} "${spin[@]}" "${PYTHON:-python3}" \
			examples/echo/interop/py_echo_server.py 127.0.0.1 "$port" "$keys/server_root.key.pem" >"$tmp/server.out" 2>&1 &
		connect=${CONNECT_RATE:-100}
	fi
	spid=$!
	for _ in $(seq 50); do grep -q READY "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
	sleep 1
	heap0=$(heap)
	target=(--pubkey "$keys/server_root.pub.pem")
	if [ "$kind" = bare ] || [ "$kind" = bare-c ]; then target=(--bare); fi
	"${lpin[@]}" "$tmp/mpgameserver-tools" loadgen --server "127.0.0.1:$port" "${target[@]}" \
		--clients "$n" --rate "$rate" --size "$size" --duration "$duration" --connect-rate "$connect" \
		--json --quiet >"$tmp/report.json" 2>"$tmp/loadgen.err" &
	lpid=$!
	if [ "$kind" = ours ] && [ "${SCRAPE:-0}" = 1 ]; then
		(while kill -0 $lpid 2>/dev/null; do curl -s -o /dev/null "http://127.0.0.1:$((port + 1000))/metrics"; sleep 1; done) &
	fi
	# The measured phase starts once every client connected.
	ramp=$(awk -v n="$n" -v c="$connect" 'BEGIN {printf "%d", n / c + 3}')
	sleep "$ramp"
	s0=$(cpu $spid) l0=$(cpu $lpid) t0=$(date +%s.%N)
	grep '^cpu' /proc/stat >"$tmp/stat0"
	ticks=()
	window=$((secs - 4))
	for _ in $(seq $((window / 2))); do
		sleep 2
		if [ "$kind" = ours ]; then
			ticks+=("$(curl -s "http://127.0.0.1:$((port + 1000))/" | awk '/^ticks/ {print $2}')")
		fi
	done
	s1=$(cpu $spid) l1=$(cpu $lpid) t1=$(date +%s.%N)
	grep '^cpu' /proc/stat >"$tmp/stat1"
	mem=$(rss $spid)
	heap1=$(heap)
	sdrops=n/a
	if [ "$kind" = ours ] || [ "$kind" = bare ]; then
		sdrops=$(curl -s "http://127.0.0.1:$((port + 1000))/" | awk '/^socket/ {print $7}')
	fi
	wait $lpid || true
	kill -INT $spid 2>/dev/null || true
	wait $spid 2>/dev/null || true
	python3 - "$tmp/report.json" "$n" "$s0" "$s1" "$l0" "$l1" "$t0" "$t1" "$hz" "$mem" "$heap0" "$heap1" "${ticks[*]:-}" "$tmp/stat0" "$tmp/stat1" "${PIN:-1}" "$sdrops" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
n, s0, s1, l0, l1, t0, t1, hz, mem, heap0, heap1 = sys.argv[2:13]
ticks = [int(x) for x in sys.argv[13].split()] if sys.argv[13].strip() else []
def stat(path):
    return {l.split()[0]: [int(x) for x in l.split()[1:]] for l in open(path)}
a, b = stat(sys.argv[14]), stat(sys.argv[15])
def busy(cpu):  # share of the CPU not idle, softirq and steal included
    d = [y - x for x, y in zip(a[cpu], b[cpu])]
    return 100 * (sum(d) - d[3] - d[4]) / sum(d), 100 * d[7] / sum(d)
pinned = sys.argv[16] == "1"
drops = f"{sys.argv[17]} / {rep.get('generator_drops', 0)}"
share = rep.get("sent_share", 1)
short = f" (generator sent {100 * share:.0f}% of the load asked)" if 0 < share < 0.95 else ""
wall = float(t1) - float(t0)
scpu = 100 * (int(s1) - int(s0)) / int(hz) / wall
lcpu = 100 * (int(l1) - int(l0)) / int(hz) / wall
t = f"{min(ticks)}–{sum(ticks) / len(ticks):.0f}" if ticks else "n/a"
per = (int(heap1) - int(heap0)) / max(rep["connected"], 1)
heapnote = f", heap {per / 1024:.1f} KiB/client" if int(heap1) else ""
failed = f" ({rep['failed']} failed)" if rep["failed"] else ""
if pinned:
    (c0, st0), (c1, st1) = busy("cpu0"), busy("cpu1")
    scol, lcol, steal = f"{scpu:.0f}% ({c0:.0f}%)", f"{lcpu:.0f}% ({c1:.0f}%)", max(st0, st1)
else:
    all_, steal = busy("cpu")
    scol, lcol = f"{scpu:.0f}%", f"{lcpu:.0f}% (machine {all_:.0f}%)"
print(f"| {n}{failed} | {t} | {rep['datagrams_out_per_s']:,.0f} / {rep['datagrams_in_per_s']:,.0f} | {rep['loss_percent']:.3f}%{short} | "
      f"{rep['rtt_p50_ms']:.1f} / {rep['rtt_p99_ms']:.1f} ms | {scol} | {int(mem) / 1024:.1f} MiB{heapnote} | {lcol} | {drops} | {steal:.1f}% |")
PY
done
