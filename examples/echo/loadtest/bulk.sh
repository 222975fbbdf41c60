#!/usr/bin/env bash
# Measures bulk transfers through our echo server, as reported in
# BENCHMARKS.md ("Bulk transfers and ordered delivery"): one client's
# guaranteed echo of 1 MB, of ten 1 MB messages a second, of the largest
# message (8 MiB), on the loopback and through a simulated link of 2% loss
# and 50 ms round trip each way (the server's --netsim, set over its admin
# API); then the round trip of 100 clients' 30 Hz small messages alone and
# beside a client moving 2 MB a second each way.
#
#   examples/echo/loadtest/bulk.sh          # everything
#   examples/echo/loadtest/bulk.sh small    # only the small messages beside a bulk transfer
#
# Each line is loadgen's summary (messages and the echo round trip).
# Environment: DURATION (10s, each measurement).
set -euo pipefail
duration=${DURATION:-10s}
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -tags headless -o "$tmp/mpgameserver" ./cmd/mpgameserver
go build -o "$tmp/mpgameserver-tools" ./cmd/mpgameserver-tools
keys=internal/vectors/testdata
port=$((15000 + RANDOM % 1000))
http=127.0.0.1:$((port + 1000))
"$tmp/mpgameserver" serve --listen "127.0.0.1:$port" --key "$keys/server_root.key.pem" --game echo \
	--http "$http" --netsim --admin-token bulk --log-level warn >"$tmp/server.out" 2>&1 &
for _ in $(seq 50); do grep -q READY "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done

runs=0
load() { # name, loadgen flags...
	local name=$1 out
	shift
	runs=$((runs + 1))
	out=$tmp/run$runs.out
	"$tmp/mpgameserver-tools" loadgen --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" \
		--duration "$duration" --quiet "$@" >"$out" 2>&1 || true
	printf '%-34s %s | %s\n' "$name" "$(grep '^messages' "$out" | sed 's/  */ /g')" \
		"$(grep '^round trip' "$out" | sed 's/  */ /g')"
}
link() { # loss, one-way latency in ms
	curl -sf -X PUT -H "Authorization: Bearer bulk" \
		-d "{\"conditions\":{\"loss\":$1,\"latency\":$(($2 * 1000000))}}" "http://$http/api/v1/conditions" >/dev/null
}

if [ "${1:-}" != small ]; then
echo "loopback"
load "1 MB, one every 2 s" --clients 1 --rate 0.5 --size 1000000 --guaranteed
load "10 x 1 MB a second" --clients 1 --rate 10 --size 1000000 --guaranteed
load "8 MiB, one every 5 s" --clients 1 --rate 0.2 --size 8388608 --guaranteed
echo "2% loss each way, 25 ms each way"
link 0.02 25
load "1 MB, one every 2 s" --clients 1 --rate 0.5 --size 1000000 --guaranteed
load "4 MB, one every 5 s" --clients 1 --rate 0.2 --size 4000000 --guaranteed
link 0 0
fi
echo "small messages beside a bulk transfer (loopback)"
load "100 clients x 30/s, alone" --clients 100 --rate 30 --size 64
"$tmp/mpgameserver-tools" loadgen --server "127.0.0.1:$port" --pubkey "$keys/server_root.pub.pem" \
	--duration 30s --quiet --clients 1 --rate 2 --size 1000000 --guaranteed >"$tmp/bulk.out" 2>&1 &
bulk=$!
sleep 2
load "100 clients x 30/s, beside 2 MB/s" --clients 100 --rate 30 --size 64
kill $bulk 2>/dev/null || true
