#!/usr/bin/python3
"""score_developments.py — score the grouping of items into developments.

Turns a labeled JSON Lines set (tests/data/developments/dev.jsonl by
default; the format of shared/eval/developments/RULES.md) into one RSS 2.0
feed per `source` (guid = id, title, description = summary, link, pubDate),
runs

    $FW_BIN once -c CONFIG
    $FW_BIN developments -c CONFIG --json --since 3650d

with a fresh state file, matches the output items by id (then link, then a
unique title) and prints pairwise precision and recall of "same
development", B-cubed precision and recall, the numbers of predicted and
true developments, the coverage (labeled items present in the output), and
with --errors the wrong and missed merges with their titles.

The configuration has one topic whose terms match every item (any word of
Latin letters or digits, and common Korean and Japanese characters), so the
score does not depend on how well the topic rules find the items; the
coverage says whether it did.

The set is split once and for all into two halves by development label
(--half A or B; a hash of the label, not its wording): tune on A, report B
and the whole set (--half all, the default).

    tests/score_developments.py [--set FILE] [--half A|B|all]
        [--bin build/daemon/feedwatch] [--errors] [--json] [--threshold T]
        [--min-precision P] [--min-recall R]

Exits 1 when a --min-* threshold is not met. Standard library only.
"""
import argparse
import collections
import email.utils
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import xml.sax.saxutils
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
CATCH_ALL = ([c + "*" for c in "abcdefghijklmnopqrstuvwxyz0123456789"] +
             list("이의가에는을를한대미군국일본日本米の年が政府한미") )


def load_set(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def half_of(label):
    return "A" if hashlib.sha256(label.encode()).digest()[0] % 2 == 0 else "B"


def rss_date(iso):
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return email.utils.format_datetime(dt, usegmt=True)


def write_feed(source, items, path):
    esc = xml.sax.saxutils.escape
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0"><channel>',
           "<title>%s</title>" % esc(source),
           "<link>https://example.org/%s</link>" % esc(source),
           "<description>labeled items</description>"]
    for it in items:
        out.append("<item>")
        out.append('<guid isPermaLink="false">%s</guid>' % esc(it["id"]))
        out.append("<title>%s</title>" % esc(it.get("title") or ""))
        if it.get("link"):
            out.append("<link>%s</link>" % esc(it["link"]))
        out.append("<description>%s</description>" % esc(it.get("summary") or ""))
        if it.get("published"):
            out.append("<pubDate>%s</pubDate>" % rss_date(it["published"]))
        out.append("</item>")
    out.append("</channel></rss>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def write_config(tmp, sources, threshold=None, state=None):
    lines = ["state: \"%s\"" % (state or os.path.join(tmp, "state.db")), "feeds:"]
    for s in sources:
        lines += ["  - name: %s" % s, "    url: file://%s/%s.xml" % (tmp, s)]
    lines += ["topics:", "  - name: all", "    terms:"]
    lines += ["      - '%s'" % t for t in CATCH_ALL]
    if threshold is not None:
        lines += ["developments:", "  threshold: %g" % threshold]
    path = os.path.join(tmp, "config.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_feedwatch(fw_bin, items, threshold=None, state=None):
    with tempfile.TemporaryDirectory(prefix="fw-devscore-") as tmp:
        by_source = collections.defaultdict(list)
        for it in items:
            by_source[it["source"]].append(it)
        for s, v in by_source.items():
            write_feed(s, v, os.path.join(tmp, s + ".xml"))
        conf = write_config(tmp, sorted(by_source), threshold, state)
        p = subprocess.run([fw_bin, "once", "-c", conf, "--log-level", "warning"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("once failed (exit %d): %s" %
                               (p.returncode, p.stderr.decode(errors="replace")))
        p = subprocess.run([fw_bin, "developments", "-c", conf, "--json", "--since", "3650d"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("developments failed (exit %d): %s" %
                               (p.returncode, p.stderr.decode(errors="replace")))
        return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]


def predicted_labels(items, devs):
    """Item id -> predicted development, matched by id, then link, then a
    unique title."""
    by_id = {it["id"]: it for it in items}
    by_link = {it["link"]: it["id"] for it in items if it.get("link")}
    titles = collections.Counter(it["title"] for it in items)
    by_title = {it["title"]: it["id"] for it in items if titles[it["title"]] == 1}
    pred = {}
    for d in devs:
        for out in d["items"]:
            iid = out.get("id")
            if iid not in by_id:
                iid = by_link.get(out.get("link")) or by_title.get(out.get("title"))
            if iid is not None and iid not in pred:
                pred[iid] = d["id"]
    return pred


def score(items, pred):
    scored = [it for it in items if it["id"] in pred]
    truth = {it["id"]: it["development"] for it in scored}
    tp = fp = fn = 0
    wrong, missed = [], []
    for a, b in itertools.combinations(scored, 2):
        same = truth[a["id"]] == truth[b["id"]]
        together = pred[a["id"]] == pred[b["id"]]
        if same and together:
            tp += 1
        elif together:
            fp += 1
            wrong.append((a, b))
        elif same:
            fn += 1
            missed.append((a, b))
    true_c = collections.defaultdict(set)
    pred_c = collections.defaultdict(set)
    for it in scored:
        true_c[truth[it["id"]]].add(it["id"])
        pred_c[pred[it["id"]]].add(it["id"])
    bp = br = 0.0
    for it in scored:
        t = true_c[truth[it["id"]]]
        p = pred_c[pred[it["id"]]]
        bp += len(t & p) / len(p)
        br += len(t & p) / len(t)
    n = len(scored) or 1
    return {
        "items": len(items), "covered": len(scored),
        "coverage": len(scored) / (len(items) or 1),
        "pairwise_precision": tp / (tp + fp) if tp + fp else 1.0,
        "pairwise_recall": tp / (tp + fn) if tp + fn else 1.0,
        "bcubed_precision": bp / n, "bcubed_recall": br / n,
        "true_developments": len(true_c), "predicted_developments": len(pred_c),
        "wrong_merges": fp, "missed_merges": fn,
    }, wrong, missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default=os.path.join(HERE, "data", "developments", "dev.jsonl"))
    ap.add_argument("--half", choices=["A", "B", "all"], default="all")
    ap.add_argument("--bin", default=os.environ.get("FW_BIN", "build/daemon/feedwatch"))
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--threshold", type=float, help="developments: threshold (tuning)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--min-precision", type=float, default=0.0)
    ap.add_argument("--min-recall", type=float, default=0.0)
    ap.add_argument("--state", help="the state: of an empty state instead of a file in a "
                    "temporary folder (a PostgreSQL database)")
    a = ap.parse_args()
    # Under tests/pg/pgserver.py, the suite's PostgreSQL runs (meson's
    # postgresql suite) score on the empty database it made.
    if a.state is None and os.environ.get("FW_TEST_STATE") == "postgresql":
        a.state = os.environ["FW_TEST_PG"]
    items = load_set(a.set)
    if a.half != "all":
        items = [it for it in items if half_of(it["development"]) == a.half]
    devs = run_feedwatch(a.bin, items, a.threshold, a.state)
    res, wrong, missed = score(items, predicted_labels(items, devs))
    res["half"] = a.half
    if a.json:
        print(json.dumps(res))
    else:
        print("half %s: %d items, %d covered (%.2f)" % (a.half, res["items"], res["covered"],
                                                       res["coverage"]))
        print("pairwise precision %.3f recall %.3f" % (res["pairwise_precision"],
                                                       res["pairwise_recall"]))
        print("B-cubed precision %.3f recall %.3f" % (res["bcubed_precision"],
                                                      res["bcubed_recall"]))
        print("developments: %d predicted, %d true; wrong merges %d, missed merges %d" % (
            res["predicted_developments"], res["true_developments"],
            res["wrong_merges"], res["missed_merges"]))
    if a.errors:
        for x, y in wrong:
            print("WRONG  %s | %s" % (x["title"], y["title"]))
        for x, y in missed:
            print("MISSED %s | %s" % (x["title"], y["title"]))
    ok = (res["pairwise_precision"] >= a.min_precision and
          res["pairwise_recall"] >= a.min_recall)
    if not ok:
        print("FAIL: pairwise precision %.3f (min %.2f), recall %.3f (min %.2f)" % (
            res["pairwise_precision"], a.min_precision, res["pairwise_recall"],
            a.min_recall), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
