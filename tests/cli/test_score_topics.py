#!/usr/bin/python3
"""CLI test: the default topic rules on the development set.

Runs tests/score_topics.py with config/feedwatch.yaml over tests/data/dev.jsonl
and checks the scores of half B (the half the rules were not tuned on) and
of the whole set against floors set a little below what they reach:
half B micro-F1 >= 0.95 and every topic's F1 >= 0.90; the whole set
micro-F1 >= 0.97, micro precision >= 0.97 and every topic's F1 >= 0.93.
Also checks that config/demo.yaml carries exactly the same lists and topics
blocks as config/feedwatch.yaml, as both files promise, and that
`classify --stored` runs the rules over what `once` stored from the demo
samples. Standard library only; env: FW_BIN, FW_SOURCE_ROOT, FW_TEST_DATA.
Under FW_TEST_STATE=postgresql only the classify --stored part runs (the
rest keeps no state), over the demo with its state in PostgreSQL.
"""
import os
import subprocess
import sys

from fwtest import PG, state_exists, state_path

# (part, micro-F1 floor, micro precision floor, per-topic F1 floor)
FLOORS = [("B", 0.95, 0.97, 0.90), (None, 0.97, 0.97, 0.93)]


def top_block(path, key):
    """The text from the 'KEY:' line to the next top-level key."""
    lines = open(path, encoding="utf-8").read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(key + ":"))
    end = len(lines)
    for i in range(start + 1, len(lines)):
        l = lines[i]
        if l and not l[0].isspace() and not l.startswith("#"):
            end = i
            break
    block = lines[start:end]
    while block and (not block[-1].strip() or block[-1].startswith("#")):
        block.pop()
    return "\n".join(block)


def check_stored(root):
    """classify --stored over the state `once` leaves from the demo."""
    import json
    import tempfile
    import shutil
    fw = os.environ["FW_BIN"]
    fails = []
    with tempfile.TemporaryDirectory() as d:
        # The demo's paths are relative to its directory: run a copy.
        shutil.copytree(os.path.join(root, "config"), os.path.join(d, "config"))
        demo = os.path.join(d, "config", "demo.yaml")
        state = os.path.join(d, "demo-state.db")
        if PG:
            state = state_path(d)
            with open(demo) as f:
                text = f.read()
            with open(demo, "w") as f:
                f.write(text.replace("state: ../demo-state.db", "state: " + state))
        r = subprocess.run([fw, "classify", "--stored", "-c", demo], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode == 0 or state_exists(state):
            fails.append("classify --stored without a state must fail "
                         "and create nothing")
        r = subprocess.run([fw, "once", "-c", demo], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            return fails + ["once -c config/demo.yaml failed: " + r.stderr.decode()]
        r = subprocess.run([fw, "classify", "--stored", "-c", demo, "--since", "1h",
                            "--json"], cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            return fails + ["classify --stored failed: " + r.stderr.decode()]
        lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        by_id = {l["id"]: l for l in lines}
        if len(lines) < 20 or not all("feed" in l for l in lines):
            fails.append("classify --stored printed %d lines" % len(lines))
        want = {"sample-yonhap-en-0001": ["sma"],
                "sample-yonhap-en-0005": [],
                "sample-yonhap-ko-1002": ["drills"]}
        for k, v in want.items():
            if by_id.get(k, {}).get("topics") != v:
                fails.append("classify --stored: %s has topics %s, want %s" %
                             (k, by_id.get(k, {}).get("topics"), v))
        r = subprocess.run([fw, "classify", "--stored", "-c", demo], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0 or "with a topic" not in r.stdout.decode():
            fails.append("classify --stored without --json is not a listing")
    return fails


def main():
    root = os.environ["FW_SOURCE_ROOT"]
    fails = []
    if PG:
        fails = check_stored(root)
        for f in fails:
            print("FAIL: " + f)
        return 1 if fails else 0

    for key in ("lists", "topics"):
        real = top_block(os.path.join(root, "config", "feedwatch.yaml"), key)
        demo = top_block(os.path.join(root, "config", "demo.yaml"), key)
        if real != demo:
            fails.append("config/demo.yaml's %s block differs from "
                         "config/feedwatch.yaml's; copy it over" % key)

    sys.path.insert(0, os.path.join(root, "tests"))
    import score_topics
    p = subprocess.run([sys.executable, os.path.join(root, "tests", "score_topics.py"),
                        "--errors"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sys.stdout.write(p.stdout.decode())
    sys.stderr.write(p.stderr.decode())
    if p.returncode != 0:
        fails.append("score_topics.py failed with exit status %d" % p.returncode)
    else:
        import tempfile
        items = score_topics.load_set(os.path.join(os.environ["FW_TEST_DATA"], "dev.jsonl"))
        with tempfile.TemporaryDirectory() as d:
            feed = os.path.join(d, "set.xml")
            score_topics.write_feed(items, feed)
            pred = score_topics.classify(os.environ["FW_BIN"],
                                         os.path.join(root, "config", "feedwatch.yaml"), feed)
        for part, micro_floor, p_floor, topic_floor in FLOORS:
            sub = [it for it in items
                   if part is None or score_topics.half(it["id"]) == part]
            name = "half " + part if part else "the whole set"
            res, micro, _ = score_topics.score(sub, pred)
            precision = score_topics.micro_pr(res)[0]
            if micro < micro_floor:
                fails.append("%s: micro-F1 %.3f is below %.2f" % (name, micro, micro_floor))
            if precision < p_floor:
                fails.append("%s: micro precision %.3f is below %.2f" %
                             (name, precision, p_floor))
            for t, v in res.items():
                if v[2] < topic_floor:
                    fails.append("%s: topic %s: F1 %.3f is below %.2f" %
                                 (name, t, v[2], topic_floor))
        if len(pred) != len(items):
            fails.append("classify printed %d items for %d in the set" % (len(pred), len(items)))
    fails += check_stored(root)
    for f in fails:
        print("FAIL: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
