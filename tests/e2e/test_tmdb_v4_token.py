"""tmdb with a v4 user access token instead of api_key + session_id: reads and writes go
through v3 routes with the token as Bearer and a v3 session made from it once per run; the
account id is looked up. crosswatch -> tmdb watchlist and ratings converge, and no request
carries an api_key."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-tmdb
    source: local
    target: tmdb
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      ratings: { add: true, update: true }
"""


def write_store(folder, feature, items):
    with open(os.path.join(folder, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def test():
    require_plugins("crosswatch", "tmdb")
    with Sandbox(["tmdb"], generate="movies=20,shows=2,ratings=3,watchlist=3") as sb:
        state = sb.state("tmdb")
        taken = set(state["watchlist"]["movies"]) | {r["id"] for r in state["rated"]["movies"]}
        free = [m for m in state["catalog"]["movies"] if m["id"] not in taken][:4]
        check(len(free) == 4, "the catalog has free movies")
        creds = sb.credentials("tmdb")

        cw = Cw()
        folder = os.path.join(cw.dir, "local")
        os.makedirs(folder)
        write_store(folder, "watchlist", [{"type": "movie", "title": m["title"],
                                           "ids": {"tmdb": str(m["id"])}} for m in free[:2]])
        write_store(folder, "ratings", [{"type": "movie", "title": m["title"], "rating": r,
                                         "rated_at": "2026-01-02T00:00:00Z",
                                         "ids": {"tmdb": str(m["id"])}}
                                        for m, r in zip(free[2:], (9, 4))])
        providers = ("providers:\n  tmdb:\n    plugin: tmdb\n"
                     f"    url: {sb.base_url('tmdb')}\n"
                     f"    access_token: {creds['v4_access_token']}\n"
                     f"  local:\n    plugin: crosswatch\n    root: {folder}\n")
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") == 2, "2 watchlist adds")
        check(Cw.planned(r1, "ratings", "adds") == 2, "2 rating adds")
        s = sb.state("tmdb")
        check(all(m["id"] in s["watchlist"]["movies"] for m in free[:2]), "on TMDb's watchlist")
        got = {r["id"]: r["rating"] for r in s["rated"]["movies"]}
        check(got.get(free[2]["id"]) == 9 and got.get(free[3]["id"]) == 4, f"rated on TMDb: {got}")
        Cw.assert_converged(cw.run())

        reqs = sb.requests("tmdb")
        check(reqs, "requests were logged")
        keyed = [r for r in reqs if "api_key" in json.dumps(r.get("query", {}))]
        check(not keyed, f"no request carries an api_key, got {len(keyed)}")
        converts = sb.requests("tmdb", path="^/3/authentication/session/convert/4")
        check(len(converts) == 2, f"one session per run, got {len(converts)} in two runs")


main(test)
