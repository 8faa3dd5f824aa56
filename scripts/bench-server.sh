#!/usr/bin/env bash
# Benchmark `byline serve` against nginx serving the same bytes as a static
# file (not a test: it prints figures for docs/PERFORMANCE.md).
#
# - Generates a site of AUTHORS authors and ITEMS items (examples/
#   gen_bench_feed.rs: JSON Feed files read by one `feed` source, which
#   `serve` refreshes into a new store at start-up; feeds show max_items).
# - Starts the release binary pinned to CPU 0 (taskset -c 0), access log off.
# - Saves the per-author feed of 50 items it serves; nginx (one worker, also
#   on CPU 0, access log off, sendfile) serves that file.
# - wrk -t1 -c32 -d10s --latency on CPU 1 against each, alternating, ROUNDS
#   times (default 3); the medians are compared.
# - Reports requests/s, p99 latency, and byline's resident memory (VmRSS,
#   peak VmHWM) from /proc.
#
# Usage: scripts/bench-server.sh [AUTHORS=1000] [ITEMS=100000] [DURATION=10s]
# Needs: cargo, nginx, wrk, taskset, curl. A missing tool is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
authors=${1:-1000}
items=${2:-100000}
duration=${3:-10s}
rounds=${ROUNDS:-3}
for tool in cargo nginx wrk taskset curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is not installed" >&2; exit 1; }
done
cores=$(nproc)
[ "$cores" -ge 2 ] || echo "bench: warning: one CPU only; wrk and the servers share it" >&2
client_cpu=$(( cores > 1 ? 1 : 0 ))

# Ask cargo where it builds (CARGO_TARGET_DIR, config, or ./target).
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --bin byline --example gen_bench_feed
bin="$target/release/byline"
gen="$target/release/examples/gen_bench_feed"

work=$(mktemp -d)
chmod 755 "$work"
byline_pid=""; nginx_pid=""
cleanup() {
  [ -n "$byline_pid" ] && kill "$byline_pid" 2>/dev/null && wait "$byline_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$gen" "$work/site" "$authors" "$items"

# --- byline ---------------------------------------------------------------
started=$(date +%s.%N)
: >"$work/byline.log"
RUST_LOG="info,byline::access=off,byline::read=warn" NO_COLOR=1 \
  taskset -c 0 "$bin" serve --config "$work/site/feeds.toml" --listen 127.0.0.1:0 \
  2>"$work/byline.log" &
byline_pid=$!
addr=""
for _ in $(seq 1 1200); do
  addr=$(grep -o 'listening on http://[0-9.:]*' "$work/byline.log" | head -1 | sed 's|listening on http://||') || true
  [ -n "$addr" ] && break
  kill -0 "$byline_pid" 2>/dev/null || { cat "$work/byline.log" >&2; echo "bench: byline exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "bench: byline did not start" >&2; exit 1; }
# It serves the store at once; wait for the first refresh to end.
for _ in $(seq 1 6000); do
  curl -s "http://$addr/healthz" | grep -q '"starting"' || break
  sleep 0.1
done
ready=$(date +%s.%N)
path=/authors/bench-target.atom
mkdir -p "$work/static/authors"
curl -sf "http://$addr$path" -o "$work/static$path"
entries=$(grep -c '<entry>' "$work/static$path" || true)
size=$(stat -c %s "$work/static$path")
rss_loaded=$(awk '/VmRSS/ {print $2}' "/proc/$byline_pid/status")
published=$(grep -o 'published items=.*' "$work/byline.log" | head -1 || true)

# --- nginx, same bytes ----------------------------------------------------
mkdir -p "$work/nginx/logs"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/static;
  }
}
EOF
taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$nginx_port$path" -o /dev/null && break; sleep 0.05; done
cmp <(curl -sf "http://127.0.0.1:$nginx_port$path") <(curl -sf "http://$addr$path") \
  || { echo "bench: nginx and byline serve different bytes" >&2; exit 1; }

run() { # name url round
  taskset -c "$client_cpu" wrk -t1 -c32 -d"$duration" --latency "$2" >"$work/$1.$3.wrk" 2>&1
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$1.$3.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.$3.wrk")
  echo "| $3 | $1 | $rps | $p99 |" >>"$work/rounds.md"
  echo "$rps" >>"$work/$1.rps"
}
median() { sort -g "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm both (connection setup, page cache), then alternate rounds so that
# load from other processes on the machine hits both alike.
taskset -c "$client_cpu" wrk -t1 -c32 -d2s "http://$addr$path" >/dev/null 2>&1
taskset -c "$client_cpu" wrk -t1 -c32 -d2s "http://127.0.0.1:$nginx_port$path" >/dev/null 2>&1
for round in $(seq 1 "$rounds"); do
  run byline "http://$addr$path" "$round"
  run nginx "http://127.0.0.1:$nginx_port$path" "$round"
done
b_rps=$(median "$work/byline.rps")
n_rps=$(median "$work/nginx.rps")
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$byline_pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$byline_pid/status")
ratio=$(python3 -c "print(f'{$b_rps / $n_rps:.2f}')")

echo
echo "site: $items items, $authors authors; $path: $entries entries, $size bytes (identity)"
echo "byline ready after $(python3 -c "print(f'{$ready - $started:.1f}')") s (read, merge, publish): $published"
echo "load average before the run: $load"
echo "cpu: server on CPU 0, wrk on CPU $client_cpu; wrk -t1 -c32 -d$duration --latency"
echo
echo "| round | server | requests/s | p99 latency |"
echo "|---|---|---|---|"
cat "$work/rounds.md"
echo
echo "median requests/s: byline $b_rps, nginx $n_rps: byline / nginx = ${ratio}x"
echo "byline resident memory: $((rss_loaded / 1024)) MiB after load, $((rss_after / 1024)) MiB after the run, peak $((hwm / 1024)) MiB"
# Time in byline's handler (routing to a ready response; no network), which
# the machine's load hardly touches, from its own histogram.
curl -sf "http://$addr/metrics" | python3 -c '
import re, sys
b = {m[0]: int(m[1]) for m in re.findall(r"request_duration_seconds_bucket\{le=\"([^\"]+)\"\} (\d+)", sys.stdin.read())}
total = b.get("+Inf", 0) or 1
print("byline handler time: " + ", ".join(f"<= {float(k)*1e6:g} us: {100*v/total:.2f}%" for k, v in b.items() if k != "+Inf"))
'
for f in "$work"/*.1.wrk; do
  echo "--- $(basename "$f")"; cat "$f"
done
