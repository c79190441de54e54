#!/usr/bin/python3
"""score_topics.py — score the topic rules on a labeled set.

Turns a labeled JSON Lines set (tests/data/dev.jsonl by default) into an RSS
2.0 feed (guid = id, title, description = summary, pubDate), runs

    $FW_BIN classify -c CONFIG --json FEED

and prints precision, recall and F1 per topic, then micro- and macro-F1.
Items missing from the output count as "no topics"; unknown topic names are
ignored (TOPICS.md, "Files and scoring").

The set is split into two fixed halves by the id: an item is in half A when
the first byte of SHA-256(id) is even, else in half B (dev.jsonl: 72 items
in A, 78 in B). Rules are tuned on half A only; half B is the check that
they say what the topic definitions say rather than what the tuned items
say, so --errors lists the wrong labels of half A and never of half B.
Scores are printed for half A, half B and the whole set.

    tests/score_topics.py [--config config/feedwatch.yaml] [--set FILE]
                          [--bin build/daemon/feedwatch] [--errors] [--json]

Standard library only.
"""
import argparse
import email.utils
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import xml.sax.saxutils
from datetime import datetime

TOPICS = ["sma", "drills", "tariffs", "usfk_posture"]


def load_set(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                items.append(json.loads(line))
    return items


def half(item_id):
    """"A" or "B": the fixed half of the set an item belongs to."""
    return "AB"[hashlib.sha256(item_id.encode("utf-8")).digest()[0] & 1]


def rss_date(iso):
    if not iso:
        return None
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return email.utils.format_datetime(dt, usegmt=True)


def write_feed(items, path):
    esc = xml.sax.saxutils.escape
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0"><channel>',
           "<title>feedwatch topic evaluation set</title>",
           "<link>https://example.org/eval</link>",
           "<description>labeled items</description>"]
    for it in items:
        out.append("<item>")
        out.append('<guid isPermaLink="false">%s</guid>' % esc(it["id"]))
        out.append("<title>%s</title>" % esc(it.get("title") or ""))
        out.append("<description>%s</description>" %
                   esc(it.get("summary") or ""))
        d = rss_date(it.get("published"))
        if d:
            out.append("<pubDate>%s</pubDate>" % d)
        out.append("</item>")
    out.append("</channel></rss>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def classify(fw_bin, config, feed):
    p = subprocess.run([fw_bin, "classify", "-c", config, "--json", feed],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    if p.returncode != 0:
        raise RuntimeError("classify failed (exit %d): %s" %
                           (p.returncode, p.stderr.decode(errors="replace")))
    pred = {}
    for line in p.stdout.decode("utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            pred[obj["id"]] = obj
    return pred


def score(items, pred):
    """Returns {topic: (p, r, f1, tp, fp, fn)}, micro-F1, macro-F1."""
    res = {}
    TP = FP = FN = 0
    for t in TOPICS:
        tp = fp = fn = 0
        for it in items:
            gold = t in it.get("topics", [])
            got = t in pred.get(it["id"], {}).get("topics", [])
            tp += gold and got
            fp += got and not gold
            fn += gold and not got
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        res[t] = (p, r, f1, tp, fp, fn)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
    p = TP / (TP + FP) if TP + FP else 0.0
    r = TP / (TP + FN) if TP + FN else 0.0
    micro = 2 * p * r / (p + r) if p + r else 0.0
    macro = sum(res[t][2] for t in TOPICS) / len(TOPICS)
    return res, micro, macro


def main():
    root = os.environ.get("FW_SOURCE_ROOT",
                          os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=os.path.join(root, "config", "feedwatch.yaml"))
    ap.add_argument("--set", default=os.path.join(
        os.environ.get("FW_TEST_DATA", os.path.join(root, "tests", "data")), "dev.jsonl"))
    ap.add_argument("--bin", default=os.environ.get("FW_BIN", "feedwatch"))
    ap.add_argument("--errors", action="store_true", help="list every wrong label")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    a = ap.parse_args()

    items = load_set(a.set)
    with tempfile.TemporaryDirectory() as d:
        feed = os.path.join(d, "set.xml")
        write_feed(items, feed)
        pred = classify(a.bin, a.config, feed)
    parts = [("half A", [it for it in items if half(it["id"]) == "A"]),
             ("half B", [it for it in items if half(it["id"]) == "B"]),
             ("whole set", items)]
    scores = [(name, part, score(part, pred)) for name, part in parts]
    if a.json:
        def as_json(part, res, micro, macro):
            return {"topics": {t: dict(zip(
                ["precision", "recall", "f1", "tp", "fp", "fn"], res[t]))
                for t in TOPICS}, "micro_f1": micro, "macro_f1": macro,
                "precision": micro_pr(res)[0], "recall": micro_pr(res)[1],
                "items": len(part)}
        out = as_json(items, *scores[2][2])
        out["halves"] = {"A": as_json(scores[0][1], *scores[0][2]),
                         "B": as_json(scores[1][1], *scores[1][2])}
        print(json.dumps(out))
        return 0
    for name, part, (res, micro, macro) in scores:
        print("%s (%d items)" % (name, len(part)))
        print("%-14s %9s %9s %9s %4s %4s %4s" % ("topic", "precision", "recall", "F1", "tp", "fp", "fn"))
        for t in TOPICS:
            p, r, f1, tp, fp, fn = res[t]
            print("%-14s %9.3f %9.3f %9.3f %4d %4d %4d" % (t, p, r, f1, tp, fp, fn))
        mp, mr = micro_pr(res)
        print("micro: P %.3f R %.3f F1 %.3f   macro-F1 %.3f\n" % (mp, mr, micro, macro))
    if a.errors:
        print("wrong labels in half A (half B's are not listed: it is not for tuning)")
        for it in scores[0][1]:
            got = set(pred.get(it["id"], {}).get("topics", []))
            gold = set(it.get("topics", []))
            for t in sorted((got ^ gold) & set(TOPICS)):
                kind = "FN" if t in gold else "FP"
                why = pred.get(it["id"], {}).get("matches", {}).get(t, [])
                print("%s %-13s %s  %s  %s" % (kind, t, it["id"], it["title"], why))
    return 0


def micro_pr(res):
    """Micro-averaged precision and recall of a score() result."""
    tp = sum(res[t][3] for t in TOPICS)
    fp = sum(res[t][4] for t in TOPICS)
    fn = sum(res[t][5] for t in TOPICS)
    return (tp / (tp + fp) if tp + fp else 0.0,
            tp / (tp + fn) if tp + fn else 0.0)


if __name__ == "__main__":
    sys.exit(main())
