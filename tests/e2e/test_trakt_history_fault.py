"""crosswatch -> trakt history: 130 plays go in two POST /sync/history chunks; the second
chunk meets a 502 (Trakt did not apply it). Whatever the first run then does (the host
re-reads Trakt's history before sending a play again), after a second run every play is on
Trakt exactly once: no duplicate play, and the third run plans nothing."""

import collections
import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-trakt
    source: local
    target: trakt
    mode: one-way
    features:
      history: { add: true, remove: true }
"""

N = 130


def test():
    require_plugins("crosswatch", "trakt")
    with Sandbox(["trakt"], generate=f"movies={N + 5},shows=0,plays=0,ratings=0,watchlist=0,"
                                     "progress=0") as sb:
        movies = sb.state("trakt")["catalog"]["movies"][:N]
        check(len(movies) == N, f"the catalog has {N} movies")
        check(not sb.state("trakt")["history"], "Trakt's history starts empty")

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        items = [{"type": "movie", "title": m["title"], "year": m["year"],
                  "ids": {k: str(v) for k, v in m["ids"].items() if k in ("imdb", "tmdb")},
                  "watched_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T20:{i % 60:02d}:17Z"}
                 for i, m in enumerate(movies)]
        with open(os.path.join(local, "history.json"), "w") as f:
            json.dump({"format": "cw-crosswatch", "version": 1, "feature": "history",
                       "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                       "items": items}, f)
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        # The first POST passes (it takes the only token), the second is answered 502 and
        # not applied; then the fault is spent.
        sb.fault("trakt", {"endpoint": "^/sync/history$", "method": "POST", "status": 502,
                           "rate_per_s": 0.001, "burst": 1, "count": 1})
        r1 = cw.run(expect_rc=None)
        posts = sb.requests("trakt", path="^/sync/history$", method="POST")
        check(len(posts) >= 2, f"the plays went in more than one request, got {len(posts)}")
        check(any(p["status"] == 502 for p in posts), "one POST /sync/history met the 502")
        check(Cw.planned(r1, "history", "adds") == N, f"the first run plans {N} plays")
        first = [e for e in r1["pairs"] if e["feature"] == "history"][0]
        print("first run:", first["status"], first["outcomes"],
              [p["status"] for p in posts])

        cw.run()
        plays = collections.Counter(
            (json.dumps(h["movie"]["ids"], sort_keys=True), h["watched_at"])
            for h in sb.state("trakt")["history"])
        dupes = [k for k, n in plays.items() if n > 1]
        check(not dupes, f"no play is on Trakt twice: {dupes[:3]}")
        check(sum(plays.values()) == N, f"Trakt holds all {N} plays, has {sum(plays.values())}")
        Cw.assert_converged(cw.run())


main(test)
