#!/usr/bin/env bash
# End-to-end check of `byline serve` behind nginx, with real clients.
#
# byline serves the bundled feeds.toml with base_url http://127.0.0.1:NGINX/feeds/;
# nginx proxies /feeds/ to it, stripping the prefix (proxy_pass .../;), and
# answers 404 for anything outside /feeds/. Then, all through nginx:
#   1. crawl every link in every feed, page and OPML file: no 404, and no link
#      to this host outside /feeds/ (a link that bypasses the prefix);
#   2. Python feedparser parses every Atom and RSS feed with bozo == 0 (JSON
#      Feeds: feedparser 6.0 cannot read them, so the spec's required fields
#      and the feed_url are checked);
#   3. every Atom feed validates against tests/fixtures/atom.rnc with jing;
#   4. newsboat, headless (`-x reload`), subscribed to each per-author feed of
#      the OPML in its own profile, loads every item with the feed's titles and
#      the author's name;
#   5. headless chromium's DOM of the index lists every author.
# Every tool must be installed (.ci/run installs them); a missing one fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fail() { echo "e2e-server: FAIL: $*" >&2; exit 1; }
for tool in cargo nginx newsboat jing chromium python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
python3 -c 'import feedparser' 2>/dev/null || fail "python3 feedparser is not installed"

# Ask cargo where it builds (CARGO_TARGET_DIR, config, or ./target).
target=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --quiet --bin byline
bin="$target/release/byline"

work=$(mktemp -d)
chmod 755 "$work"
byline_pid=""; nginx_pid=""
cleanup() {
  [ -n "$byline_pid" ] && kill "$byline_pid" 2>/dev/null && wait "$byline_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
public="http://127.0.0.1:$nginx_port/feeds/"

# The bundled config, with the public url behind nginx and absolute inputs.
{
  echo "base_url = \"$public\""
  sed -e "s|\"examples/|\"$root/examples/|g" feeds.toml
} >"$work/feeds.toml"
grep -q "^base_url = \"$public\"" "$work/feeds.toml" || fail "could not set base_url in a copy of feeds.toml"

: >"$work/byline.log"
NO_COLOR=1 RUST_LOG=info "$bin" serve --config "$work/feeds.toml" --listen 127.0.0.1:0 2>"$work/byline.log" &
byline_pid=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(grep -o 'listening on http://[0-9.:]*' "$work/byline.log" | head -1 | sed 's|listening on http://||') || true
  [ -n "$addr" ] && break
  kill -0 "$byline_pid" 2>/dev/null || { cat "$work/byline.log" >&2; fail "byline serve exited"; }
  sleep 0.1
done
[ -n "$addr" ] || fail "byline serve did not say where it listens"
# It serves the store at once; wait for the first refresh to end.
for _ in $(seq 1 600); do
  curl -s "http://$addr/healthz" | grep -q '"starting"' || break
  sleep 0.1
done

mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log $work/nginx/logs/access.log;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    # Strips /feeds/: byline sees /authors/x.atom.
    location /feeds/ {
      proxy_pass http://$addr/;
      proxy_http_version 1.1;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
    # Anything else is not byline's: a link landing here bypassed the prefix.
    location / { return 404; }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 100); do curl -sf "$public" -o /dev/null && break; sleep 0.1; done
curl -sf "$public" -o /dev/null || { cat "$work/nginx/logs/error.log" >&2; fail "nginx does not proxy $public"; }

export E2E_PUBLIC="$public" E2E_WORK="$work" E2E_RNC="$root/tests/fixtures/atom.rnc"
python3 - <<'PY'
import collections, html, json, os, re, shutil, sqlite3, subprocess, sys, tempfile
import urllib.error, urllib.parse, urllib.request
import feedparser

public = os.environ["E2E_PUBLIC"]
work = os.environ["E2E_WORK"]
rnc = os.environ["E2E_RNC"]
origin = urllib.parse.urlsplit(public)
fails = collections.Counter()
passes = collections.Counter()

def check(kind, ok, message):
    if ok:
        passes[kind] += 1
    else:
        fails[kind] += 1
        print(f"FAIL {kind}: {message}", flush=True)

def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()

LINK = re.compile(r'(?:href|src|xmlUrl|htmlUrl)\s*=\s*"([^"]+)"'
                  r'|<(?:link|guid|docs|url)(?:\s[^>]*)?>\s*([^<\s][^<]*?)\s*</'
                  r'|"(?:url|feed_url|home_page_url|external_url|image)"\s*:\s*"([^"]+)"')

def links(body):
    text = body.decode("utf-8", "replace")
    for m in LINK.finditer(text):
        raw = next(g for g in m.groups() if g)
        yield html.unescape(raw).strip()

# 1. Crawl everything reachable from the index, through nginx.
seen, queue, docs = set(), [public], {}
while queue:
    url = queue.pop()
    if url in seen:
        continue
    seen.add(url)
    status, ctype, body = fetch(url)
    check("crawl", status == 200, f"{url} -> {status}")
    if status != 200:
        continue
    docs[url] = (ctype, body)
    for link in links(body):
        if not re.match(r"^https?://", link):
            if link.startswith(("urn:", "mailto:", "tag:")):
                continue
            check("links", False, f"{url}: not absolute: {link}")
            continue
        parts = urllib.parse.urlsplit(link)
        if parts.hostname in ("127.0.0.1", "localhost") or parts.netloc == origin.netloc:
            ours = parts.netloc == origin.netloc and parts.path.startswith(origin.path)
            check("links", ours, f"{url}: {link} bypasses {public}")
            if ours:
                queue.append(urllib.parse.urlunsplit(parts._replace(fragment="")))
print(f"crawl: {len(docs)} documents fetched through nginx", flush=True)

feeds = {u: d for u, d in docs.items() if re.search(r"\.(atom|rss|json)$", urllib.parse.urlsplit(u).path)}
check("crawl", len(feeds) >= 6, f"only {len(feeds)} feeds reachable from the index")

# 2. feedparser for Atom and RSS. feedparser 6.0 has no JSON Feed parser (it
# reads JSON as broken XML), so JSON Feeds are checked against the JSON Feed
# 1.1 spec's required fields instead.
parsed = {}
for url, (ctype, body) in sorted(feeds.items()):
    if url.endswith(".json"):
        try:
            doc = json.loads(body)
        except ValueError as e:
            check("jsonfeed", False, f"{url}: not JSON: {e}")
            continue
        problems = [k for k in ("version", "title", "items") if k not in doc]
        if not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/1"):
            problems.append("version")
        for n, item in enumerate(doc.get("items", [])):
            if not isinstance(item.get("id"), str) or not item["id"]:
                problems.append(f"items[{n}].id")
            if "content_text" not in item and "content_html" not in item:
                problems.append(f"items[{n}].content")
        check("jsonfeed", not problems, f"{url}: missing or bad {problems[:5]}")
        check("jsonfeed", doc.get("feed_url") == url, f"{url}: feed_url is {doc.get('feed_url')!r}")
        continue
    f = feedparser.parse(body, response_headers={"content-type": ctype, "content-location": url})
    parsed[url] = f
    check("feedparser", f.bozo == 0, f"{url}: bozo {f.get('bozo_exception')!r}")
    check("feedparser", len(f.entries) > 0 or "/sources/" in url, f"{url}: no entries")

# 3. jing, every Atom feed.
for url, (_, body) in sorted(feeds.items()):
    if not url.endswith(".atom"):
        continue
    path = os.path.join(work, "feed.atom")
    with open(path, "wb") as fh:
        fh.write(body)
    p = subprocess.run(["jing", "-c", rnc, path], capture_output=True, text=True)
    check("jing", p.returncode == 0, f"{url}: {(p.stdout + p.stderr).strip()[:400]}")

# 4. newsboat on each per-author feed listed in the OPML.
opml_url = next((u for u, (ct, _) in docs.items() if "opml" in ct), None)
check("opml", opml_url is not None, "no OPML linked from the index")
author_feeds = []
if opml_url:
    author_feeds = re.findall(r'xmlUrl="([^"]+)"', docs[opml_url][1].decode())
    check("opml", len(author_feeds) > 0, "OPML lists no feeds")
for url in author_feeds:
    url = html.unescape(url)
    expected = parsed.get(url) or feedparser.parse(fetch(url)[2])
    name = expected.feed.get("title", "")
    d = tempfile.mkdtemp(dir=work)
    with open(os.path.join(d, "urls"), "w") as fh:
        fh.write(url + "\n")
    with open(os.path.join(d, "config"), "w") as fh:
        fh.write(f'error-log "{d}/error.log"\nreload-threads 1\ndownload-timeout 20\n')
    env = dict(os.environ, HOME=d, XDG_CONFIG_HOME=d + "/.config", XDG_DATA_HOME=d + "/.local", TERM="dumb")
    p = subprocess.run(["newsboat", "-u", d + "/urls", "-c", d + "/cache.db", "-C", d + "/config", "-x", "reload"],
                       env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if p.returncode != 0 or not os.path.exists(d + "/cache.db"):
        check("newsboat", False, f"{url}: exit {p.returncode} {p.stderr.strip()[:200]}")
        continue
    db = sqlite3.connect(d + "/cache.db")
    rows = db.execute("select title, author from rss_item where feedurl=? and deleted=0", (url,)).fetchall()
    db.close()
    want = sorted(e.title for e in expected.entries)
    got = sorted(r[0] for r in rows)
    check("newsboat", got == want, f"{url}: newsboat has {len(got)} items {got[:3]}, feed has {len(want)} {want[:3]}")
    bad = [r for r in rows if name not in (r[1] or "")]
    check("newsboat", not bad, f"{url}: items without author {name!r}: {bad[:3]}")

# 5. chromium renders the index with every author.
profile = tempfile.mkdtemp(dir=work)
p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--dump-dom", public],
                   capture_output=True, text=True, timeout=120)
dom = p.stdout
check("chromium", p.returncode == 0 and "<body" in dom, f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
names = [parsed[u].feed.get("title", "") for u in map(html.unescape, author_feeds) if u in parsed]
check("chromium", len(names) > 0, "no author names to look for")
for n in names:
    check("chromium", html.escape(n, quote=False) in dom or n in dom, f"index DOM lacks author {n!r}")

summary = ", ".join(f"{k} {passes[k]} ok/{fails[k]} failed" for k in sorted(set(passes) | set(fails)))
print(f"e2e-server: {summary}")
sys.exit(1 if sum(fails.values()) else 0)
PY
