#!/usr/bin/env python3
"""Writes a large crosswatch (local tracker) library for end-to-end benchmarks.

usage: make_library.py N OUT_DIR [--seed S] [--feature F]

N items in total, half movies and half episodes (100 per show: 10 seasons of 10), spread
evenly over watchlist, history, ratings and progress, or all N in one feature with
--feature. Ids are unique per item and look like real ones
(imdb tt + 7+ digits, tmdb and tvdb numbers). The output is deterministic for a given N and
seed, so two folders made with the same arguments are identical: a `cw run` between them
has nothing to do, which is the "no changes" benchmark.
"""
import argparse
import json
import os
import random

FEATURES = ["watchlist", "history", "ratings", "progress"]
UPDATED_AT = "2026-01-01T00:00:00.000Z"
BASE_TIME = 1672531200  # 2023-01-01T00:00:00Z


def iso(ts):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def items_for(feature, start, count, rng):
    """`count` items numbered from `start`; even numbers are movies, odd ones episodes."""
    out = []
    for n in range(start, start + count):
        if n % 2 == 0:
            item = {"type": "movie", "title": "Bench Movie %d" % n, "year": 1950 + n % 75,
                    "ids": {"imdb": "tt%07d" % (1000000 + n), "tmdb": 100000 + n}}
        else:
            show = n // 200  # 100 episodes per show: 10 seasons of 10
            ep = (n // 2) % 100
            item = {"type": "episode", "title": "Bench Episode %d" % n, "year": 1990 + show % 35,
                    "ids": {"tvdb": 10000000 + n, "tmdb": 20000000 + n},
                    "show": {"title": "Bench Show %d" % show, "year": 1990 + show % 35,
                             "ids": {"imdb": "tt%07d" % (9000000 + show), "tmdb": 500000 + show,
                                     "tvdb": 300000 + show}},
                    "season": ep // 10 + 1, "episode": ep % 10 + 1}
        if feature == "history":
            item["watched_at"] = iso(BASE_TIME + rng.randint(0, 3 * 365 * 86400))
        elif feature == "ratings":
            item["rating"] = rng.randint(1, 10)
            item["rated_at"] = iso(BASE_TIME + rng.randint(0, 3 * 365 * 86400))
        elif feature == "progress":
            duration = rng.randint(20, 180) * 60000
            item["progress_ms"] = rng.randint(1, 95) * duration // 100
            item["duration_ms"] = duration
            item["progress_at"] = iso(BASE_TIME + rng.randint(0, 3 * 365 * 86400))
        out.append(item)
    return out


def serialise(feature, items):
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    head = '{"format":"cw-crosswatch","version":1,"feature":%s,"updated_at":%s,"count":%d,"items":[' % (
        dump(feature), dump(UPDATED_AT), len(items))
    return head + ",".join("\n" + dump(i) for i in items) + "\n]}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="total number of items")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--feature", choices=FEATURES, help="put all items in this feature")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")
    rng = random.Random(args.seed)
    features = [args.feature] if args.feature else FEATURES
    os.makedirs(args.out_dir, exist_ok=True)
    start = 0
    for i, feature in enumerate(features):
        count = args.n // len(features) + (1 if i < args.n % len(features) else 0)
        items = items_for(feature, start, count, rng)
        start += count
        tmp = os.path.join(args.out_dir, "." + feature + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(serialise(feature, items))
        os.replace(tmp, os.path.join(args.out_dir, feature + ".json"))
        print("%-9s %7d items" % (feature, count))


if __name__ == "__main__":
    main()
