#!/usr/bin/env python3
"""Side by side: byline's article extractor and trafilatura on the article
pages under tests/fixtures/articles/ (the NK News pages and templates/).

For each page: main-text token F1 against the expected content_text,
whether any listed boilerplate string stayed in the text, and whether the
published time is exact (the same instant; the same day for a date-only
expectation). Run from the repository root:

    python3 -m venv /tmp/trafvenv && /tmp/trafvenv/bin/pip install trafilatura
    cargo build --release --example extract_article
    /tmp/trafvenv/bin/python scripts/compare_trafilatura.py [--bin target/release/examples/extract_article]
"""
import argparse
import collections
import datetime as dt
import json
import pathlib
import re
import subprocess
import sys

import trafilatura

ROOT = pathlib.Path(__file__).resolve().parent.parent
SETS = [ROOT / "tests/fixtures/articles", ROOT / "tests/fixtures/articles/templates"]


def tokens(text):
    return re.findall(r"\w+", (text or "").lower())


def f1(got, want):
    g, w = collections.Counter(tokens(got)), collections.Counter(tokens(want))
    common = sum((g & w).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def instant(s):
    if not s:
        return None
    s = s.strip().replace("Z", "+00:00")
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    return t


def date_hit(got, want):
    """Exact: the same instant (a date-only expectation: the same day)."""
    w = instant(want)
    g = instant(got)
    if w is None or g is None:
        return False
    if len(want) == 10:
        return g.date() == w.date()
    if g.tzinfo is None or w.tzinfo is None:
        return False
    return g == w


def pages():
    for base in SETS:
        for html in sorted((base / "html").glob("*.html")):
            exp = json.loads((base / "expected" / (html.stem + ".json")).read_text())
            yield html, exp


def run_byline(binary, items):
    args = [binary]
    for html, exp in items:
        args += [exp["url"], str(html)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def run_trafilatura(html, exp):
    text = html.read_text(encoding="utf-8", errors="replace")
    got = trafilatura.extract(
        text,
        url=exp["url"],
        output_format="json",
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": True, "original_date": True,
                                "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    if not got:
        return {"text": "", "date": None}
    return json.loads(got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/examples/extract_article"))
    args = ap.parse_args()
    items = list(pages())
    ours = run_byline(args.bin, items)
    rows = []
    for (html, exp), b in zip(items, ours):
        t = run_trafilatura(html, exp)
        bad = exp.get("content_must_not_contain", [])
        b_text, t_text = b.get("content_text") or "", t.get("text") or ""
        b_pub = (b.get("published") or {}).get("value")
        # trafilatura's %z is +0900; make it ISO.
        t_pub = t.get("date")
        if t_pub and re.search(r"[+-]\d{4}$", t_pub):
            t_pub = t_pub[:-2] + ":" + t_pub[-2:]
        rows.append((
            html.stem[:44],
            f1(b_text, exp["content_text"]), any(s in b_text for s in bad), date_hit(b_pub, exp["published"]),
            f1(t_text, exp["content_text"]), any(s in t_text for s in bad), date_hit(t_pub, exp["published"]),
        ))
    head = f"{'page':44}  {'byline F1':>9} {'boiler':>6} {'date':>5}   {'trafil. F1':>10} {'boiler':>6} {'date':>5}"
    print(head)
    print("-" * len(head))
    yn = lambda v: "yes" if v else "no"
    for r in rows:
        print(f"{r[0]:44}  {r[1]:9.3f} {yn(r[2]):>6} {yn(r[3]):>5}   {r[4]:10.3f} {yn(r[5]):>6} {yn(r[6]):>5}")
    n = len(rows)
    mean = lambda i: sum(r[i] for r in rows) / n
    count = lambda i: sum(1 for r in rows if r[i])
    print("-" * len(head))
    print(f"{'mean F1 / pages with boilerplate / exact date':44}  {mean(1):9.3f} {count(2):>4}/{n} {count(3):>3}/{n}   "
          f"{mean(4):10.3f} {count(5):>4}/{n} {count(6):>3}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
