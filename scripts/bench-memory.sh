#!/usr/bin/env bash
# Memory of `byline serve` over a large store: what the server holds is
# bounded by what its feeds show (max_items per view), not by history.
#
#   bash scripts/bench-memory.sh [STORIES] [AUTHORS]     (default 1000000 1000)
#
# - Generates the store once with examples/gen_store.rs (cached under
#   $BENCH_DIR, default /tmp/byline-bench-memory-STORIES).
# - Starts `byline serve` on it and reports resident memory (VmRSS) once it
#   listens and has published, the start-up peak (VmHWM), and VmRSS after a
#   wrk run over per-author feeds (wrk -t1 -c32 -d10s, if wrk is installed).
# Run it alone: no builds or other benchmarks beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
stories=${1:-1000000}
authors=${2:-1000}
dir=${BENCH_DIR:-/tmp/byline-bench-memory-$stories}
cargo build --release --quiet --bin byline --example gen_store
if [ ! -f "$dir/bench.db" ]; then
  ./target/release/examples/gen_store "$dir" "$authors" "$stories"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
started=$(date +%s.%N)
./target/release/byline serve --config "$dir/feeds.toml" --listen "127.0.0.1:$port" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.2; done
# It serves the store at once; the figures are taken after the first refresh.
while curl -s "http://127.0.0.1:$port/healthz" | grep -q '"starting"'; do sleep 0.2; done
ready=$(date +%s.%N)
sleep 1
rss_ready=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "stories: $stories, authors: $authors, store: $(du -m "$dir/bench.db" | cut -f1) MiB"
echo "start-up to first answer: $(python3 -c "print(round($ready - $started, 2))") s"
echo "VmRSS after start-up: $((rss_ready / 1024)) MiB; start-up peak VmHWM: $((hwm / 1024)) MiB"
if command -v wrk >/dev/null; then
  script=$(mktemp)
  cat >"$script" <<LUA
request = function()
  return wrk.format("GET", string.format("/authors/writer-%04d.atom", math.random(0, $authors - 1)))
end
LUA
  wrk -t1 -c32 -d10s -s "$script" "http://127.0.0.1:$port/" | grep -E "Requests/sec|Latency"
  rm -f "$script"
  rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "VmRSS after wrk: $((rss_after / 1024)) MiB; peak VmHWM: $((hwm / 1024)) MiB"
fi
grep -m1 "published" "$log" | sed "s/\x1b\[[0-9;]*m//g" | cut -c1-300 || true
