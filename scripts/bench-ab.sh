#!/usr/bin/env bash
# Two byline builds side by side (not a test: figures for docs/PERFORMANCE.md):
# both serve the same generated site at once, each pinned to CPU 0, and wrk
# on CPU 1 alternates between them, ROUNDS rounds of DURATION each. Per round
# it prints requests/s, the server process's CPU time per request
# (/proc/PID/stat) and p99, so a change is measured against the build before
# it under the same machine load.
#
# Usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY   (ROUNDS=5 DURATION=5s CODING=identity|gzip)
# Needs: cargo, wrk, taskset, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY" >&2; exit 1; }
for tool in cargo wrk taskset curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is not installed" >&2; exit 1; }
done
rounds=${ROUNDS:-5}; duration=${DURATION:-5s}; coding=${CODING:-identity}
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --example gen_bench_feed
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
"$target/release/examples/gen_bench_feed" "$work/site" 1000 100000 >/dev/null
path=/authors/bench-target.atom
header=()
[ "$coding" = gzip ] && header=(-H 'Accept-Encoding: gzip')
addrs=()
for n in 0 1; do
  bin=$([ "$n" = 0 ] && echo "$1" || echo "$2")
  RUST_LOG="info,byline::access=off,byline::read=warn" NO_COLOR=1 BYLINE_STORE="$work/store-$n.db" \
    taskset -c 0 "$bin" serve --config "$work/site/feeds.toml" --listen 127.0.0.1:0 2>"$work/log-$n" &
  pids+=("$!")
  addr=""
  for _ in $(seq 1 1200); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$work/log-$n" | head -1 | sed 's|listening on http://||') || true
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$work/log-$n" >&2; echo "bench: $bin did not start" >&2; exit 1; }
  for _ in $(seq 1 6000); do
    curl -s "http://$addr/healthz" | grep -q '"starting"' || break
    sleep 0.1
  done
  addrs+=("$addr")
done
for addr in "${addrs[@]}"; do
  taskset -c 1 wrk -t1 -c32 -d2s "${header[@]}" "http://$addr$path" >/dev/null
done
echo "| round | build | requests/s | CPU µs/request | p99 |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for n in 0 1; do
    pid=${pids[$n]}
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    out=$(taskset -c 1 wrk -t1 -c32 -d"$duration" --latency "${header[@]}" "http://${addrs[$n]}$path")
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    us=$(python3 -c "print(f'{($after - $before) / $(getconf CLK_TCK) / $requests * 1e6:.2f}')")
    echo "| $round | $([ "$n" = 0 ] && echo old || echo new) | $rps | $us | $p99 |"
  done
done
