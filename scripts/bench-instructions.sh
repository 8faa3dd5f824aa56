#!/usr/bin/env bash
# Instructions per request of `byline serve` in user space, counted by
# valgrind's callgrind (not a test; a figure for docs/PERFORMANCE.md).
#
# Unlike requests/s or CPU time, an instruction count does not move with the
# machine's load, so it compares two builds reliably on a noisy machine. It
# leaves out the kernel (the socket reads and writes): bench-server.sh
# measures the whole cost.
#
# - Generates the bench-server.sh site (examples/gen_bench_feed.rs) and
#   starts `byline serve` under callgrind with instrumentation off, so
#   loading the site runs at near native speed.
# - Waits for the first refresh, warms up with wrk for 2 s, then counts
#   instructions over a 10 s wrk run against /authors/bench-target.atom
#   (identity, or gzip with CODING=gzip) and divides by the requests the
#   server counted (its /metrics).
#
# Usage: scripts/bench-instructions.sh [BINARY...]   (default: the release build)
#        FLOOR=1 also counts examples/hyper_floor.rs serving the same bytes.
# Needs: cargo, valgrind, wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cargo valgrind callgrind_control callgrind_annotate wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is not installed" >&2; exit 1; }
done
coding=${CODING:-identity}
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --bin byline --example gen_bench_feed
[ $# -gt 0 ] || set -- "$target/release/byline"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$target/release/examples/gen_bench_feed" "$work/site" 1000 100000 >/dev/null
path=/authors/bench-target.atom
header=()
[ "$coding" = gzip ] && header=(-H 'Accept-Encoding: gzip')
served() { curl -sf "http://$1/metrics" | awk '/^byline_http_requests_total/ {s += $2} END {print s}'; }
for bin in "$@"; do
  run="$work/run"; rm -rf "$run"; mkdir -p "$run"
  RUST_LOG="info,byline::access=off,byline::read=warn" NO_COLOR=1 BYLINE_STORE="$run/store.db" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$run/cg.out" \
    "$bin" serve --config "$work/site/feeds.toml" --listen 127.0.0.1:0 2>"$run/log" &
  pid=$!
  addr=""
  for _ in $(seq 1 3000); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$run/log" | head -1 | sed 's|listening on http://||') || true
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$run/log" >&2; echo "bench: byline did not start" >&2; exit 1; }
  for _ in $(seq 1 6000); do
    curl -s "http://$addr/healthz" | grep -q '"starting"' || break
    sleep 0.2
  done
  entries=$(curl -sf "http://$addr$path" | grep -c '<entry>' || true)
  # The feed's bytes, for the floor (FLOOR=1) to serve the same.
  curl -sf "http://$addr$path" -o "$work/feed"
  curl -sf -H 'Accept-Encoding: gzip' "http://$addr$path" -o "$work/feed.gz"
  wrk -t1 -c32 -d2s "${header[@]}" "http://$addr$path" >/dev/null
  before=$(served "$addr")
  callgrind_control -i on "$pid" >/dev/null
  wrk -t1 -c32 -d10s "${header[@]}" "http://$addr$path" >"$run/wrk"
  callgrind_control -i off "$pid" >/dev/null
  after=$(served "$addr")
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  dump=$(ls "$run"/cg.out.* | head -1)
  ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
  # The /metrics request between the two counts is the one extra.
  n=$((after - before - 1))
  echo "$bin ($coding, $path: $entries entries): $n requests, $ir instructions, $((ir / n)) per request"
done
# FLOOR=1: the same count for examples/hyper_floor.rs serving those bytes
# (what any hyper server pays), its requests from wrk's own count.
if [ "${FLOOR:-}" = 1 ]; then
  cargo build --release --quiet --example hyper_floor
  run="$work/floor"; mkdir -p "$run"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$run/cg.out" \
    "$target/release/examples/hyper_floor" "$port" "$work/feed" "$work/feed.gz" 2>"$run/log" &
  pid=$!
  url="http://127.0.0.1:$port$path"
  for _ in $(seq 1 300); do curl -sf "$url" -o /dev/null && break; sleep 0.1; done
  wrk -t1 -c32 -d2s "${header[@]}" "$url" >/dev/null
  callgrind_control -i on "$pid" >/dev/null
  wrk -t1 -c32 -d10s "${header[@]}" "$url" >"$run/wrk"
  callgrind_control -i off "$pid" >/dev/null
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  dump=$(ls "$run"/cg.out.* | head -1)
  ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
  n=$(awk '/requests in/ {print $1}' "$run/wrk")
  echo "examples/hyper_floor ($coding, the same bytes): $n requests, $ir instructions, $((ir / n)) per request"
fi
