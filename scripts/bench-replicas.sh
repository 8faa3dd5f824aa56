#!/usr/bin/env bash
# Refresh of SOURCES sources x ITEMS stories from a local upstream into one
# PostgreSQL store, by 1 and by 3 `byline serve` replicas, in alternating
# rounds (a fresh database each time). The wall is from starting the
# replicas until every source has a stored successful fetch; it also checks
# that the store holds every story exactly once. Run it alone on the machine.
#
#     bash scripts/bench-replicas.sh            # SOURCES=1000 ITEMS=50 ROUNDS=3
#     SOURCES=100 ROUNDS=1 bash scripts/bench-replicas.sh
#     ONLY=3 bash scripts/bench-replicas.sh     # just that many replicas each round
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCES=${SOURCES:-1000}
ITEMS=${ITEMS:-50}
ROUNDS=${ROUNDS:-3}
BYLINE_BIN=${BYLINE_BIN:-target/release/byline}

cargo build --release --quiet --bin byline --example bench_upstream
work=$(mktemp -d /tmp/bench-replicas.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/bench_upstream "$SOURCES" "$ITEMS" > "$work/upstream.out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^upstream ' "$work/upstream.out" 2>/dev/null && break; sleep 0.1; done
upstream=$(sed -n 's/^upstream //p' "$work/upstream.out")
pg=$(bash scripts/pg-cluster.sh start "$work/pg")
base=${pg%/*}
psql() { command psql -qAtX "$@"; }
echo "upstream $upstream, PostgreSQL $base, $SOURCES sources x $ITEMS items, $ROUNDS rounds"

run() { # run ROUND N: one timed refresh by N replicas into a fresh database
  local round=$1 n=$2 db="bench_${1}_${2}"
  psql "$base/postgres" -c "CREATE DATABASE $db"
  local toml="$work/feeds-$db.toml"
  {
    printf 'base_url = "https://feeds.example.org/"\n'
    printf '[store]\nurl = "%s/%s"\n' "$base" "$db"
    printf '[server]\nrefresh_interval_secs = 3600\n'
    for s in $(seq 0 $((SOURCES - 1))); do
      printf '[[source]]\nname = "s%d"\nkind = "text"\ntimezone = "Asia/Seoul"\ninputs = ["%s/s%d"]\n' "$s" "${upstream%/}" "$s"
    done
  } > "$toml"
  # The schema is made once, before the clock starts.
  "$BYLINE_BIN" status --config "$toml" >/dev/null 2>&1 || true
  local started replicas=()
  started=$(date +%s.%N)
  for r in $(seq "$n"); do
    "$BYLINE_BIN" --log-format json serve --config "$toml" --listen 127.0.0.1:0 2> "$work/$db-$r.log" &
    replicas+=($!)
    pids+=($!)
  done
  local done=0
  for _ in $(seq 12000); do
    done=$(psql "$base/$db" -c "SELECT count(*) FROM fetch_state WHERE last_success IS NOT NULL" || echo 0)
    [ "$done" -ge "$SOURCES" ] && break
    sleep 0.05
  done
  local ended wall
  ended=$(date +%s.%N)
  wall=$(echo "$ended - $started" | bc -l)
  local items stories
  items=$(psql "$base/$db" -c "SELECT count(*) FROM copies")
  stories=$(psql "$base/$db" -c "SELECT count(*) FROM items")
  [ -n "${KEEP_LOGS:-}" ] && mkdir -p "$KEEP_LOGS" && cp "$work/$db"-*.log "$KEEP_LOGS"/
  for p in "${replicas[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${replicas[@]}"; do wait "$p" 2>/dev/null || true; done
  local fetched
  fetched=$(cat "$work/$db"-*.log | grep -c '"message":"refreshed"' || true)
  printf 'round %d, %d replica(s): %.2f s wall, %d sources done, %d copies, %d stories, %d refreshes logged\n' \
    "$round" "$n" "$wall" "$done" "$items" "$stories" "$fetched"
  echo "$n $wall" >> "$work/walls"
  psql "$base/postgres" -c "DROP DATABASE $db"
}

for round in $(seq "$ROUNDS"); do
  [ -n "${ONLY:-}" ] && { run "$round" "$ONLY"; continue; }
  [ -n "${ONLY:-}" ] && { run "$round" "$ONLY"; continue; }
  if [ $((round % 2)) -eq 1 ]; then run "$round" 1; run "$round" 3; else run "$round" 3; run "$round" 1; fi
done
for n in 1 3; do
  printf '%d replica(s): median wall %s s (rounds: %s)\n' "$n" \
    "$(awk -v n="$n" '$1 == n {print $2}' "$work/walls" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')" \
    "$(awk -v n="$n" '$1 == n {printf "%.2f ", $2}' "$work/walls")"
done
