#!/usr/bin/env bash
# Counts, in a simulated cache, what one echo costs with its connection's
# state out of the CPU caches: the instructions, and the cache lines read
# and written that are not in a 1 MiB last-level cache (each such line is
# a load from memory on a busy server). Unlike a timing, the count does not
# depend on the machine's load, so two trees can be compared exactly.
#
#   examples/echo/loadtest/cachelines.sh [session|server] [TREE]
#
# session (the default) counts the connection's state machine alone:
# internal/session's BenchmarkTick at 4,096 connections. server counts the
# server's whole tick: server's BenchmarkServerTick at 4,096 clients (the
# datagrams' routing, the game's handler, the batching, the connections),
# each of the last four ticks on its own.
#
# Needs valgrind (apt-get install valgrind). A run takes one to three
# minutes.
set -euo pipefail
kind=session
case ${1:-} in session | server) kind=$1; shift ;; esac
tree=${1:-$(cd "$(dirname "$0")/../../.." && pwd)}
command -v valgrind >/dev/null || { echo "cachelines.sh: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# GOMAXPROCS=1 and no asynchronous preemption: valgrind runs one thread at
# a time and does not take the runtime's preemption signals well.
cachesim=(--tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=1048576,16,64)
if [ "$kind" = session ]; then
	(cd "$tree" && go test -c -o "$tmp/t.test" ./internal/session)
	GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind "${cachesim[@]}" \
		--toggle-collect='*tickReceive*' --toggle-collect='*tickPoll*' \
		--callgrind-out-file="$tmp/callgrind.out" \
		"$tmp/t.test" -test.run '^$' -test.bench 'Tick/conns=4096$' -test.benchtime 4x >/dev/null 2>&1
	# The benchmark runs twice (b.N = 1, then 4), each after 3 ticks that
	# warm up: 11 ticks of 4,096 echoes.
	callgrind_annotate --show=Ir,DLmr,DLmw "$tmp/callgrind.out" 2>/dev/null |
		awk -v echoes=$((11 * 4096)) '/PROGRAM TOTALS/ {
			gsub(",", "")
			printf "per echo: %.0f instructions, %.1f cache lines read and %.1f written from memory (%.1f in all)\n",
				$1 / echoes, $3 / echoes, $5 / echoes, ($3 + $5) / echoes
		}'
	exit
fi
(cd "$tree" && go test -c -o "$tmp/t.test" ./server)
# The counts are zeroed as each measured tick starts and written out as the
# clients take its echoes: one file a tick (the handshakes' ticks too).
(cd "$tree/server" && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind "${cachesim[@]}" \
	--zero-before='*measuredTick*' --dump-before='*clientsReceive*' \
	--callgrind-out-file="$tmp/cg.out" \
	"$tmp/t.test" -test.run '^$' -test.bench 'ServerTick/clients=4096$' -test.benchtime 4x >/dev/null 2>&1)
for f in $(cd "$tmp" && ls -v cg.out.* | tail -4); do
	callgrind_annotate --show=Ir,DLmr,DLmw "$tmp/$f" 2>/dev/null |
		awk -v echoes=4096 '/PROGRAM TOTALS/ {
			gsub(",", "")
			printf "per echo: %.0f instructions, %.1f cache lines read and %.1f written from memory (%.1f in all)\n",
				$1 / echoes, $3 / echoes, $5 / echoes, ($3 + $5) / echoes
		}'
done
