#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for benchmarks and manual runs.
#
#   scripts/pg-cluster.sh start DIR   # prints postgres://postgres@127.0.0.1:PORT/byline
#   scripts/pg-cluster.sh stop DIR    # stops it and removes DIR
#
# `start` creates DIR (it must not exist or be empty), runs initdb in DIR/data
# (trust auth, superuser `postgres`; as the postgres user when run as root,
# since initdb refuses root), starts the server on a free port of 127.0.0.1
# with its socket in DIR and its log in DIR/log, creates database `byline`,
# and prints the url as its only line of output. Unlike the test harness
# (tests/support/pg.rs) it keeps PostgreSQL's default durability settings
# (fsync, synchronous_commit, full_page_writes), so benchmark numbers mean
# something; only max_connections is raised, to 200. The binaries come from
# BYLINE_PG_BIN, default /usr/lib/postgresql/15/bin (apt-get install postgresql-15).
set -euo pipefail

bin=${BYLINE_PG_BIN:-/usr/lib/postgresql/15/bin}
die() { echo "pg-cluster: $*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# Run a PostgreSQL server binary as the owner the data directory needs.
as_pg() {
  if [ "$(id -u)" != 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  fi
}

for tool in initdb pg_ctl createdb; do
  [ -x "$bin/$tool" ] || die "$bin/$tool not found: apt-get install postgresql-15, or set BYLINE_PG_BIN"
done

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

case $cmd in
  start)
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
      die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # The server's socket is DIR/.s.PGSQL.PORT; Unix socket paths max out at 107 bytes.
    [ ${#dir} -le 90 ] || die "$dir is too long for a socket directory (at most 90 characters)"
    # pg_ctl hands -o to a shell, unquoted.
    case $dir in *[[:space:]\'\"\\\$\`]*) die "$dir: no spaces or quotes, please (pg_ctl -o passes it through a shell)" ;; esac
    if [ "$(id -u)" = 0 ]; then
      id -u postgres >/dev/null 2>&1 || die "running as root and there is no postgres user to run initdb as"
      chown postgres "$dir"
      as_pg test -w "$dir" -a -x "$dir" ||
        die "the postgres user cannot use $dir (every parent directory must be searchable by it)"
    fi
    cd "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2; die "initdb failed"; }
    started=
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >"$dir/pg_ctl.log" 2>&1; then
        started=1
        break
      fi
      grep -q "could not bind" "$dir/log" 2>/dev/null || break
      echo "pg-cluster: port $port was taken, retrying ($attempt)" >&2
    done
    [ -n "$started" ] || { cat "$dir/pg_ctl.log" "$dir/log" >&2 || true; die "pg_ctl start failed"; }
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres byline ||
      die "createdb byline failed (the server is still running: $0 stop $dir)"
    echo "postgres://postgres@127.0.0.1:$port/byline"
    ;;
  stop)
    [ -d "$dir" ] || die "$dir does not exist"
    dir=$(cd "$dir" && pwd)
    # Refuse to remove a directory this script did not make.
    [ -f "$dir/data/PG_VERSION" ] || die "$dir does not look like a cluster from '$0 start' (no data/PG_VERSION); not removing it"
    cd /
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
