#!/usr/bin/env bash
# Check contrib/byline.service with `systemd-analyze verify` (Debian package
# systemd). verify exits 0 on unknown keys and bad values, printing them, so
# any output at all fails the check. ExecStart points at the installed path,
# which CI does not have: a copy of the unit points at the binary cargo built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v systemd-analyze >/dev/null || { echo "check-unit: systemd-analyze is not installed (Debian package systemd)" >&2; exit 1; }
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --quiet --bin byline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/local/bin/byline|$target/debug/byline|" contrib/byline.service >"$work/byline.service"
out=$(systemd-analyze verify "$work/byline.service" 2>&1) || { echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then
  echo "check-unit: systemd-analyze verify complained:" >&2
  echo "$out" >&2
  exit 1
fi
exposure=$(systemd-analyze security --offline=yes "$work/byline.service" 2>/dev/null | tail -1)
echo "check-unit: contrib/byline.service verified; $exposure"
