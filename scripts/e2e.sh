#!/usr/bin/env bash
# End-to-end suite: build the bundled config with the release binary and check
# every feed it writes with the strict validators in ../shared/tools (RELAX NG
# for Atom, RSS Board practice, feedparser bozo == 0). Every tool it needs must
# be installed (.ci/run does that); a missing tool is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
validate="$root/../shared/tools/validate-feed"
for tool in jing xmllint python3 "$validate"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || { echo "e2e: FAIL: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
./target/release/byline build --config feeds.toml --out "$work/site" 2>"$work/build.log" || {
  cat "$work/build.log" >&2; echo "e2e: FAIL: byline build" >&2; exit 1; }

pass=0; fail=0
while IFS= read -r feed; do
  if "$validate" "$feed" >"$work/v.log" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "e2e: validate-feed failed for ${feed#"$work/site/"}:"; grep -E '^FAIL' "$work/v.log" | sed 's/^/    /'
  fi
# The status feed (status.atom, .rss) has no entry while no source ever broke,
# which validate-feed counts as a failure; tests/drift.rs checks it with entries.
done < <(find "$work/site" \( -name '*.atom' -o -name '*.rss' \) ! -name 'status.*' | sort)
echo "e2e validate-feed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
