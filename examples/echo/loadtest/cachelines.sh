#!/usr/bin/env bash
# Counts, in a simulated cache, what the server's side of one echo costs
# with its connection's state out of the CPU caches: the instructions, and
# the cache lines it reads and writes that are not in a 1 MiB last-level
# cache (internal/session's BenchmarkTick at 4,096 connections; each such
# line is a load from memory on a busy server). Unlike a timing, the count
# does not depend on the machine's load, so two trees can be compared
# exactly.
#
#   examples/echo/loadtest/cachelines.sh            # this tree
#   examples/echo/loadtest/cachelines.sh /other/tree
#
# Needs valgrind (apt-get install valgrind). The run takes about a minute.
set -euo pipefail
tree=${1:-$(cd "$(dirname "$0")/../../.." && pwd)}
command -v valgrind >/dev/null || { echo "cachelines.sh: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tree" && go test -c -o "$tmp/session.test" ./internal/session)
# GOMAXPROCS=1 and no asynchronous preemption: valgrind runs one thread at
# a time and does not take the runtime's preemption signals well.
GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --cache-sim=yes \
	--I1=32768,8,64 --D1=32768,8,64 --LL=1048576,16,64 \
	--toggle-collect='*tickReceive*' --toggle-collect='*tickPoll*' \
	--callgrind-out-file="$tmp/callgrind.out" \
	"$tmp/session.test" -test.run '^$' -test.bench 'Tick/conns=4096$' -test.benchtime 4x >/dev/null 2>&1
# The benchmark runs twice (b.N = 1, then 4), each after 3 ticks that
# warm up: 11 ticks of 4,096 echoes.
callgrind_annotate --show=Ir,DLmr,DLmw "$tmp/callgrind.out" 2>/dev/null |
	awk -v echoes=$((11 * 4096)) '/PROGRAM TOTALS/ {
		gsub(",", "")
		printf "per echo: %.0f instructions, %.1f cache lines read and %.1f written from memory (%.1f in all)\n",
			$1 / echoes, $3 / echoes, $5 / echoes, ($3 + $5) / echoes
	}'
