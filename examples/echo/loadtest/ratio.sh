#!/usr/bin/env bash
# Measures what issue 27 asks of our server: its core time per echo
# against both bare baselines, at each client count. One round runs
# run.sh bare, bare-c and ours in turn; each round's ratios compare the
# runs of that round (the machine's speed drifts over minutes, more
# between rounds than within one), and the medians over the rounds are
# the result. Every run's row is kept in the output.
#
#   ROUNDS=5 DURATION=15s examples/echo/loadtest/ratio.sh 2560 4096
#
# ROUNDS (3) rounds; DURATION and the rest go to run.sh. A round at two
# client counts takes about three minutes. Needs a C compiler (bare-c).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: ratio.sh CLIENTS..." >&2; exit 2; }
rounds=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
	for kind in bare bare-c ours; do
		# the server's core busy share: column 7, "12% (34%)"
		"$here/run.sh" "$kind" "$@" | grep '^| [0-9]' | while IFS='|' read -r _ n ticks _ _ _ cpu _; do
			busy=${cpu##*(}
			echo "$r $kind $(echo $n) ${busy%%%*} $(echo $ticks)"
		done | tee -a "$out"
	done
done
python3 - "$out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r, kind, n, busy, ticks = line.split()
    runs[(int(r), kind, int(n))] = (float(busy), ticks)
print()
print("| clients | bare (Go): core busy | bare (C): core busy | ours: core busy, ticks/s min–mean | ours / Go bare (median) | ours / C bare (median) |")
print("|---:|---:|---:|---:|---:|---:|")
for n in sorted({k[2] for k in runs}):
    rs = sorted({k[0] for k in runs if k[2] == n})
    go = [runs[(r, "bare", n)][0] for r in rs]
    c = [runs[(r, "bare-c", n)][0] for r in rs]
    ours = [runs[(r, "ours", n)][0] for r in rs]
    ticks = [runs[(r, "ours", n)][1] for r in rs]
    rg = [o / b for o, b in zip(ours, go)]
    rc = [o / b for o, b in zip(ours, c)]
    pct = lambda xs: ", ".join(f"{x:.0f}%" for x in xs)
    rat = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    print(f"| {n:,} | {pct(go)} | {pct(c)} | {pct(ours)}; {', '.join(ticks)} | "
          f"**{statistics.median(rg):.2f}×** ({rat(rg)}) | **{statistics.median(rc):.2f}×** ({rat(rc)}) |")
PY
