#!/usr/bin/env bash
# Peak memory of one big first read: `byline build` on the bench-server.sh
# site (examples/gen_bench_feed.rs: one source of 100,000 items in 10 pages)
# into a fresh store each time. The peak (the kernel's maximum resident set
# size of the process) is what a machine needs free for a source that size;
# what `serve` holds afterwards is far lower (bench-memory.sh).
#
#   bash scripts/bench-peak.sh [BINARY...]   (default: the release build)
#
# ROUNDS (default 2) rounds; the binaries alternate within each, the first
# one first in odd rounds and last in even ones. Run it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-2}
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --bin byline --example gen_bench_feed
[ $# -gt 0 ] || set -- "$target/release/byline"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target/release/examples/gen_bench_feed" "$work/site" 1000 100000 >/dev/null
# The maximum RSS of one command, in MiB, and its wall time.
peak() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
took = time.monotonic() - started
if done.returncode != 0:
    sys.exit(f"bench: {sys.argv[1]} exited with {done.returncode}")
print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB in {took:.1f} s")
EOF
}
echo "| round | binary | peak RSS | wall |"
echo "|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  bins=("$@")
  if [ $((round % 2)) = 0 ]; then
    mapfile -t bins < <(printf '%s\n' "$@" | tac)
  fi
  for bin in "${bins[@]}"; do
    rm -rf "$work/site/byline.db"* "$work/out"
    read -r mib _ _ secs _ < <(peak "$bin" build --config "$work/site/feeds.toml" --out "$work/out")
    echo "| $round | $bin | $mib MiB | $secs s |"
  done
done
