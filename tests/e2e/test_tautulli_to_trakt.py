"""tautulli -> trakt history: 130 plays of Tautulli's history (every row at the watched
threshold) go to Trakt in two POST /sync/history chunks; the second chunk meets a 502 (Trakt
did not apply it). After a rerun every play is on Trakt exactly once, and the run after that
plans nothing. Then movies and episodes together: every play reaches Trakt (episodes by their
show's ids, season and number) and the second run plans nothing."""

import collections
import json

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: tautulli-to-trakt
    source: tautulli
    target: trakt
    mode: one-way
    features:
      history: { add: true, remove: false, rewatches: true }
"""

N = 130


def test():
    require_plugins("tautulli", "trakt")
    with Sandbox(["tautulli", "trakt"],
                 generate=f"movies=60,shows=0,plays={N},ratings=0,watchlist=0,progress=0") as sb:
        rows = sb.state("tautulli")["history"]
        check(len(rows) == N, f"Tautulli's history has the {N} generated plays, has {len(rows)}")
        # Trakt starts without the plays: they are Tautulli's to bring.
        trakt = sb.state("trakt")
        trakt["history"] = []
        sb.seed("trakt", trakt)
        check(not sb.state("trakt")["history"], "Trakt's history starts empty")

        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        # The first POST passes (it takes the only token), the second is answered 502 and not
        # applied; then the fault is spent.
        sb.fault("trakt", {"endpoint": "^/sync/history$", "method": "POST", "status": 502,
                           "rate_per_s": 0.001, "burst": 1, "count": 1})
        r1 = cw.run(expect_rc=None)
        posts = sb.requests("trakt", path="^/sync/history$", method="POST")
        check(len(posts) >= 2, f"the plays went in more than one request, got {len(posts)}")
        check(any(p["status"] == 502 for p in posts), "one POST /sync/history met the 502")
        check(Cw.planned(r1, "history", "adds") == N, f"the first run plans {N} plays, "
              f"planned {Cw.planned(r1, 'history', 'adds')}")

        cw.run()
        plays = collections.Counter(
            (json.dumps(h["movie"]["ids"], sort_keys=True), h["watched_at"])
            for h in sb.state("trakt")["history"])
        dupes = [k for k, n in plays.items() if n > 1]
        check(not dupes, f"no play is on Trakt twice: {dupes[:3]}")
        check(sum(plays.values()) == N, f"Trakt holds all {N} plays, has {sum(plays.values())}")
        Cw.assert_converged(cw.run())

    with Sandbox(["tautulli", "trakt"],
                 generate="movies=30,shows=4,plays=80,ratings=0,watchlist=0,progress=0") as sb:
        rows = sb.state("tautulli")["history"]
        episodes = sum(1 for r in rows if r["media_type"] == "episode")
        check(episodes > 0 and len(rows) == 80, f"80 plays with episodes, {len(rows)}/{episodes}")
        trakt = sb.state("trakt")
        trakt["history"] = []
        sb.seed("trakt", trakt)
        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        check(Cw.planned(r1, "history", "adds") == 80, "the first run adds the 80 plays")
        history = sb.state("trakt")["history"]
        check(len(history) == 80, f"Trakt holds the 80 plays, has {len(history)}")
        check(sum(1 for h in history if h.get("type") == "episode") == episodes,
              f"Trakt holds the {episodes} episode plays")
        Cw.assert_converged(cw.run())


main(test)
