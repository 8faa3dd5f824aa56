#!/usr/bin/env bash
# Benchmark `byline serve` against nginx serving the same bytes as a static
# file (not a test: it prints figures for docs/PERFORMANCE.md).
#
# - Generates a site of AUTHORS authors and ITEMS items (examples/
#   gen_bench_feed.rs: JSON Feed files read by one `feed` source, which
#   `serve` refreshes into a new store at start-up; feeds show max_items).
# - Starts the release binary pinned to CPU 0 (taskset -c 0), access log off.
# - Saves the per-author feed of 50 items it serves, and its gzip bytes as
#   the .gz beside it; two nginx (one worker each, also on CPU 0, access log
#   off, sendfile, tcp_nopush, gzip_static; the second with open_file_cache)
#   serve those files, checked with cmp to be the same bytes; and three
#   floors (examples/hyper_floor.rs: the least a hyper server pays here for
#   the same prebuilt response, sending the body with writev, with
#   sendfile from a memfd, and with sendfile from an unnamed file beside
#   nginx's), to tell byline's own cost from the host's.
# - wrk -t1 -c32 -d10s --latency on CPU 1 against each, identity and then
#   gzip, alternating, ROUNDS times (default 3), each round starting with
#   the next server in turn; the medians are compared.
# - Reports requests/s, the server's CPU time per request (user + system of
#   the process, from /proc/PID/stat, over each round: the figure that does
#   not depend on wrk, which is often the limit; and all non-idle time of
#   CPU 0 per request, which adds the kernel's softirq network work), p99
#   latency, each round's hypervisor steal on both CPUs with the p99 of the
#   rounds under 1 % steal, and byline's resident memory (VmRSS, peak
#   VmHWM) from /proc.
#
# Usage: scripts/bench-server.sh [AUTHORS=1000] [ITEMS=100000] [DURATION=10s]
#        (ROUNDS=N rounds; BYLINE_BIN=PATH measures that byline binary;
#        NICE=-20 runs every server and wrk at that nice level, all alike)
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
# NICE=-20: run the servers and wrk at that nice level, all alike.
prio=()
[ -n "${NICE:-}" ] && prio=(nice -n "$NICE")

# Ask cargo where it builds (CARGO_TARGET_DIR, config, or ./target).
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --bin byline --example gen_bench_feed --example hyper_floor
# BYLINE_BIN: another build to measure (say, the one before a change).
bin="${BYLINE_BIN:-$target/release/byline}"
gen="$target/release/examples/gen_bench_feed"
floor="$target/release/examples/hyper_floor"

work=$(mktemp -d)
chmod 755 "$work"
byline_pid=""; nginx_pids=(); floor_pids=()
cleanup() {
  # A server killed by the signal makes `wait` fail: keep going, stop every one.
  for p in $byline_pid "${nginx_pids[@]}" "${floor_pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$gen" "$work/site" "$authors" "$items"

# --- byline ---------------------------------------------------------------
started=$(date +%s.%N)
: >"$work/byline.log"
RUST_LOG="info,byline::access=off,byline::read=warn" NO_COLOR=1 \
  "${prio[@]}" taskset -c 0 "$bin" serve --config "$work/site/feeds.toml" --listen 127.0.0.1:0 \
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
published=$(grep -o 'published items=.*' "$work/byline.log" | tail -1 || true)

# --- nginx, same bytes ----------------------------------------------------
# gzip_static serves a .gz beside the file: the same bytes byline sends for gzip.
curl -sf -H 'Accept-Encoding: gzip' "http://$addr$path" -o "$work/static$path.gz"
gz_size=$(stat -c %s "$work/static$path.gz")
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
# start_nginx NAME EXTRA: an nginx in $work/NAME serving $work/static, with
# EXTRA http directives; sets NAME_url and NAME_worker (the worker's pid,
# whose CPU time is nginx's: the master only waits).
start_nginx() {
  local name=$1 extra=$2 dir="$work/$1" port
  mkdir -p "$dir/logs" "$dir/tmp"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  gzip_static on;
  $extra
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port;
    root $work/static;
  }
}
EOF
  "${prio[@]}" taskset -c 0 nginx -p "$dir" -c "$dir/nginx.conf" &
  nginx_pids+=("$!")
  local url="http://127.0.0.1:$port$path" worker=""
  for _ in $(seq 1 100); do curl -sf "$url" -o /dev/null && break; sleep 0.05; done
  cmp <(curl -sf "$url") <(curl -sf "http://$addr$path") \
    || { echo "bench: $name and byline serve different bytes" >&2; exit 1; }
  cmp <(curl -sf -H 'Accept-Encoding: gzip' "$url") <(curl -sf -H 'Accept-Encoding: gzip' "http://$addr$path") \
    || { echo "bench: $name and byline serve different gzip bytes" >&2; exit 1; }
  curl -sfI -H 'Accept-Encoding: gzip' "$url" | grep -qi '^content-encoding: gzip' \
    || { echo "bench: $name does not serve the .gz (gzip_static)" >&2; exit 1; }
  for _ in $(seq 1 50); do
    worker=$(pgrep -P "${nginx_pids[-1]}" | head -1 || true)
    [ -n "$worker" ] && break
    sleep 0.05
  done
  [ -n "$worker" ] || { echo "bench: no $name worker" >&2; exit 1; }
  printf -v "${name}_url" '%s' "$url"
  printf -v "${name}_worker" '%s' "$worker"
}
# nginx as the issue measured it (a static server's usual set-up), and with
# open_file_cache, which saves it the open/fstat/close of every request.
start_nginx nginx ""
start_nginx nginx_ofc "open_file_cache max=100 inactive=60s;"
# start_floor NAME [--sendfile[=DIR]]: examples/hyper_floor.rs, the least a hyper
# server pays here for the same response (prebuilt, no routing or cache).
start_floor() {
  local name=$1 port url
  shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${prio[@]}" taskset -c 0 "$floor" "$port" "$work/static$path" "$work/static$path.gz" "$@" &
  floor_pids+=("$!")
  url="http://127.0.0.1:$port$path"
  for _ in $(seq 1 100); do curl -sf "$url" -o /dev/null && break; sleep 0.05; done
  cmp <(curl -sf "$url") <(curl -sf "http://$addr$path") \
    || { echo "bench: $name and byline serve different bytes" >&2; exit 1; }
  cmp <(curl -sf -H 'Accept-Encoding: gzip' "$url") <(curl -sf -H 'Accept-Encoding: gzip' "http://$addr$path") \
    || { echo "bench: $name and byline serve different gzip bytes" >&2; exit 1; }
  printf -v "${name}_url" '%s' "$url"
  printf -v "${name}_worker" '%s' "${floor_pids[-1]}"
}
start_floor floor
start_floor floor_sendfile --sendfile
start_floor floor_file "--sendfile=$work"
servers=(byline nginx nginx_ofc floor floor_sendfile floor_file)
byline_url="http://$addr$path"
byline_worker=$byline_pid

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }  # user, system
# Everything CPU 0 (the servers' core) did but idle: the process's time plus
# the kernel's network work on its behalf (softirq), and anything else there.
core_ticks() { awk '$1 == "cpu0" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# Steal: time the hypervisor ran something else on this (virtual) CPU. Every
# server's p99 rises with it, so each round says how much there was.
steal_ticks() { awk -v c="cpu$1" '$1 == c {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
steal_pct() { python3 -c "a, b = '$1'.split(), '$2'.split(); t = int(b[1]) - int(a[1]); print(f'{100 * (int(b[0]) - int(a[0])) / t:.1f}' if t else '0.0')"; }
run() { # server pid url coding round
  local header=()
  [ "$4" = gzip ] && header=(-H 'Accept-Encoding: gzip')
  local before after core_before core_after
  local steal0 steal1
  before=$(cpu_ticks "$2"); core_before=$(core_ticks)
  steal0=$(steal_ticks 0); steal1=$(steal_ticks "$client_cpu")
  "${prio[@]}" taskset -c "$client_cpu" wrk -t1 -c32 -d"$duration" --latency "${header[@]}" "$3" >"$work/$1.$4.$5.wrk" 2>&1
  after=$(cpu_ticks "$2"); core_after=$(core_ticks)
  steal0=$(steal_pct "$steal0" "$(steal_ticks 0)"); steal1=$(steal_pct "$steal1" "$(steal_ticks "$client_cpu")")
  local rps p99 n us core
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$1.$4.$5.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.$4.$5.wrk")
  n=$(awk '/requests in/ {print $1}' "$work/$1.$4.$5.wrk")
  local split
  read -r us split < <(python3 -c "
(u0, s0), (u1, s1) = '$before'.split(), '$after'.split()
f = 1e6 / $ticks / $n
print(f'{(int(u1) - int(u0) + int(s1) - int(s0)) * f:.2f} {(int(u1) - int(u0)) * f:.2f} + {(int(s1) - int(s0)) * f:.2f}')")
  core=$(python3 -c "print(f'{($core_after - $core_before) / $ticks / $n * 1e6:.2f}')")
  echo "| $5 | $4 | $1 | $rps | $us | $split | $core | $p99 | $steal0 / $steal1 |" >>"$work/rounds.md"
  echo "$rps" >>"$work/$1.$4.rps"
  echo "$us" >>"$work/$1.$4.cpu"
  echo "$core" >>"$work/$1.$4.core"
  python3 -c "
v = '$p99'
print(float(v[:-2]) / 1000 if v.endswith('us') else float(v[:-2]) if v.endswith('ms') else float(v[:-1]) * 1000)" >>"$work/$1.$4.p99"
  # The p99 of rounds the hypervisor left alone (under 1 % steal on both CPUs).
  if python3 -c "import sys; sys.exit(0 if max($steal0, $steal1) < 1 else 1)"; then
    tail -1 "$work/$1.$4.p99" >>"$work/$1.$4.quiet"
  fi
}
median() { sort -g "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm both (connection setup, page cache), then alternate rounds so that
# load from other processes on the machine hits both alike.
url_of() { local v="${1}_url"; echo "${!v}"; }
pid_of() { local v="${1}_worker"; echo "${!v}"; }
for server in "${servers[@]}"; do
  "${prio[@]}" taskset -c "$client_cpu" wrk -t1 -c32 -d2s "$(url_of "$server")" >/dev/null 2>&1
done
# Each round starts with the next server, so none is always measured first.
for round in $(seq 1 "$rounds"); do
  for coding in identity gzip; do
    for i in "${!servers[@]}"; do
      server=${servers[$(( (i + round - 1) % ${#servers[@]} ))]}
      run "$server" "$(pid_of "$server")" "$(url_of "$server")" "$coding" "$round"
    done
  done
done
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$byline_pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$byline_pid/status")

echo
echo "site: $items items, $authors authors; $path: $entries entries, $size bytes identity, $gz_size bytes gzip"
echo "byline ready after $(python3 -c "print(f'{$ready - $started:.1f}')") s (read, merge, publish): $published"
echo "load average before the run: $load"
echo "nginx: one worker, sendfile, tcp_nopush, gzip_static; nginx_ofc: the same with open_file_cache"
echo "floor: examples/hyper_floor.rs (hyper 1, current-thread runtime, one prebuilt response, writev);"
echo "  floor_sendfile: the same sending the body with sendfile from a memfd (zero-copy, as nginx does);"
echo "  floor_file: sendfile from an unnamed file (O_TMPFILE) in the work folder, as nginx's file: $(stat -f -c %T "$work")"
echo "cpu: servers on CPU 0, wrk on CPU $client_cpu; wrk -t1 -c32 -d$duration --latency; $rounds alternating rounds"
echo "cpu per request: the server process's user + system time over the round (/proc/PID/stat) / requests;"
echo "  CPU 0: all non-idle time of the servers' core (/proc/stat: user, nice, system, irq, softirq, steal) / requests"
echo "steal: % of the round the hypervisor gave the servers' CPU 0 / the client's CPU $client_cpu to others (/proc/stat)"
echo
echo "| round | coding | server | requests/s | process CPU us/request | of which user + system | CPU 0 us/request | p99 latency | steal % |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$work/rounds.md"
echo
echo "| coding | median of | byline | nginx | byline / nginx | nginx_ofc | byline / nginx_ofc | floor | floor / nginx | floor_sendfile | floor_sendfile / nginx | floor_file | floor_file / nginx |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for coding in identity gzip; do
  for m in rps cpu core p99; do
    b=$(median "$work/byline.$coding.$m"); n=$(median "$work/nginx.$coding.$m"); o=$(median "$work/nginx_ofc.$coding.$m")
    f=$(median "$work/floor.$coding.$m"); s=$(median "$work/floor_sendfile.$coding.$m"); t=$(median "$work/floor_file.$coding.$m")
    case $m in rps) label="requests/s";; cpu) label="process CPU us/request";; core) label="CPU 0 us/request";; p99) label="p99 ms";; esac
    echo "| $coding | $label | $b | $n | $(ratio "$b" "$n")x | $o | $(ratio "$b" "$o")x | $f | $(ratio "$f" "$n")x | $s | $(ratio "$s" "$n")x | $t | $(ratio "$t" "$n")x |"
  done
done
echo
for coding in identity gzip; do
  line="p99 median of the rounds with under 1 % steal on both CPUs, $coding:"
  for server in "${servers[@]}"; do
    if [ -s "$work/$server.$coding.quiet" ]; then
      line="$line $server $(median "$work/$server.$coding.quiet") ms ($(wc -l <"$work/$server.$coding.quiet") rounds)"
    else
      line="$line $server none"
    fi
  done
  echo "$line"
done
echo
echo "byline resident memory: $((rss_loaded / 1024)) MiB after load, $((rss_after / 1024)) MiB after the run, peak $((hwm / 1024)) MiB"
# Time in byline's handler (routing to a ready response; no network), which
# the machine's load hardly touches, from its own histogram.
curl -sf "http://$addr/metrics" | python3 -c '
import re, sys
b = {m[0]: int(m[1]) for m in re.findall(r"request_duration_seconds_bucket\{le=\"([^\"]+)\"\} (\d+)", sys.stdin.read())}
total = b.get("+Inf", 0) or 1
print("byline handler time: " + ", ".join(f"<= {float(k)*1e6:g} us: {100*v/total:.2f}%" for k, v in b.items() if k != "+Inf"))
'
