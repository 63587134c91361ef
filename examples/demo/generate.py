#!/usr/bin/env python3
"""Generates the demo library: a crosswatch (local tracker) folder with ~150 movies and
~150 episodes of 15 shows, spread over watchlist, history (with rewatches), ratings and
progress. Titles and ids are invented but shaped like the real ones (imdb tt + 7 digits,
tmdb and tvdb numbers). The output is deterministic: the same seed gives the same bytes.

usage: generate.py [OUT_DIR]   (default: the library/ folder next to this script)
"""
import datetime
import json
import os
import random
import sys

SEED = 20261124
UPDATED_AT = "2026-01-01T00:00:00.000Z"

ADJECTIVES = ["Silent", "Crimson", "Hidden", "Broken", "Golden", "Last", "Distant", "Frozen",
              "Electric", "Hollow", "Iron", "Midnight", "Paper", "Quiet", "Restless", "Scarlet",
              "Secret", "Shattered", "Velvet", "Wild", "Lonely", "Burning", "Northern", "Lost"]
NOUNS = ["Harbor", "Garden", "Empire", "Signal", "Orchard", "Voyage", "Kingdom", "Mirror",
         "Frontier", "Station", "Island", "Symphony", "Circuit", "Letter", "River", "Machine",
         "Horizon", "Lantern", "Winter", "Compass", "Citadel", "Echo", "Meridian", "Canyon"]
SHOW_WORDS = ["Chronicles", "Files", "Diaries", "Protocol", "Society", "Department", "Saga",
              "Academy", "Affair", "Legacy"]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_catalogue(rng):
    used = set()

    def unique(fn):
        while True:
            v = fn()
            if v not in used:
                used.add(v)
                return v

    def title():
        return unique(lambda: "The %s %s" % (rng.choice(ADJECTIVES), rng.choice(NOUNS)))

    def imdb():
        return unique(lambda: "tt%07d" % rng.randint(100000, 9999999))

    def number(lo, hi):
        return unique(lambda: rng.randint(lo, hi))

    movies = []
    for _ in range(150):
        movies.append({"type": "movie", "title": title(), "year": rng.randint(1972, 2025),
                       "ids": {"imdb": imdb(), "tmdb": number(1000, 999999)}})
    shows = []
    for _ in range(15):
        name = unique(lambda: "%s %s" % (rng.choice(NOUNS), rng.choice(SHOW_WORDS)))
        shows.append({"type": "show", "title": name, "year": rng.randint(1995, 2024),
                      "ids": {"imdb": imdb(), "tmdb": number(1000, 299999),
                              "tvdb": number(70000, 450000)}})
    episodes = []
    for show in shows:
        seasons = rng.randint(1, 3)
        per_season = 10 // seasons + 1
        for s in range(1, seasons + 1):
            for e in range(1, per_season + 1):
                episodes.append({
                    "type": "episode",
                    "title": "%s %s" % (rng.choice(ADJECTIVES), rng.choice(NOUNS)),
                    "year": show["year"] + s - 1,
                    "ids": {"tvdb": number(1000000, 9999999), "tmdb": number(100000, 4999999)},
                    "show": {"title": show["title"], "year": show["year"], "ids": dict(show["ids"])},
                    "season": s,
                    "episode": e,
                })
    return movies, shows, episodes


def random_time(rng, start=datetime.datetime(2023, 1, 1), days=1000):
    return start + datetime.timedelta(seconds=rng.randint(0, days * 86400))


def build(rng):
    movies, shows, episodes = make_catalogue(rng)
    watched_movies = movies[:100]
    unwatched_movies = movies[100:]
    watched_episodes = rng.sample(episodes, k=min(120, len(episodes)))

    watchlist = [dict(m) for m in unwatched_movies]
    watchlist += [dict(s) for s in rng.sample(shows, k=8)]

    history = []
    for item in watched_movies + watched_episodes:
        first = random_time(rng)
        history.append(dict(item, watched_at=iso(first)))
        # About one in eight titles was watched again later: a rewatch is its own play.
        if rng.random() < 0.125:
            again = first + datetime.timedelta(days=rng.randint(20, 300), minutes=rng.randint(0, 600))
            history.append(dict(item, watched_at=iso(again)))
    history.sort(key=lambda h: h["watched_at"])

    ratings = []
    for item in rng.sample(watched_movies, k=80) + rng.sample(shows, k=10) + \
            rng.sample(watched_episodes, k=20):
        ratings.append(dict(item, rating=rng.randint(1, 10), rated_at=iso(random_time(rng))))

    progress = []
    for item in rng.sample(unwatched_movies, k=12) + rng.sample(episodes, k=15):
        duration = (rng.randint(85, 170) if item["type"] == "movie" else rng.randint(22, 60)) * 60000
        progress.append(dict(item, progress_ms=rng.randint(5, 90) * duration // 100,
                             duration_ms=duration, progress_at=iso(random_time(rng))))

    return {"watchlist": watchlist, "history": history, "ratings": ratings, "progress": progress}


def serialise(feature, items):
    # The plugin's own layout: a header, then one item per line (see the plugin README).
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    head = '{"format":"cw-crosswatch","version":1,"feature":%s,"updated_at":%s,"count":%d,"items":[' % (
        dump(feature), dump(UPDATED_AT), len(items))
    return head + ",".join("\n" + dump(i) for i in items) + "\n]}\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "library")
    os.makedirs(out, exist_ok=True)
    features = build(random.Random(SEED))
    for feature, items in features.items():
        with open(os.path.join(out, feature + ".json"), "w", encoding="utf-8") as f:
            f.write(serialise(feature, items))
        print("%-9s %4d items" % (feature, len(items)))


if __name__ == "__main__":
    main()
