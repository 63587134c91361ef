"""crosswatch <-> simkl, two-way watchlist: each side gets what the other has, a removal on
SIMKL reaches the local tracker, every run after that plans nothing, and a run with nothing
new on SIMKL reads only /sync/activities (no library read)."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-simkl
    source: local
    target: simkl
    mode: two-way
    features:
      watchlist: { add: true, remove: true }
"""


def simkl_call(sb, method, path, body):
    """A request to the SIMKL fake as a SIMKL client would send it (another app of the user)."""
    import urllib.request
    creds = sb.credentials("simkl")
    req = urllib.request.Request(sb.base_url("simkl") + path, method=method,
                                 data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("simkl-api-key", creds["client_id"])
    req.add_header("Authorization", "Bearer " + creds["access_token"])
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def plantowatch(state):
    """(bucket, media) of every Plan to Watch title."""
    out = []
    for bucket in ("movies", "shows", "anime"):
        for row in state["library"].get(bucket, []):
            if row.get("status") == "plantowatch":
                out.append(("movies" if bucket == "movies" else "shows",
                            row.get("movie") or row.get("show")))
    return out


def test():
    require_plugins("crosswatch", "simkl")
    with Sandbox(["simkl"], generate="movies=30,shows=4,plays=10,watchlist=6") as sb:
        state = sb.state("simkl")
        on_list = plantowatch(state)
        n = len(on_list)
        check(n >= 2, f"the fake holds Plan to Watch titles, got {n}")
        in_library = {json.dumps(r["movie"]["ids"], sort_keys=True)
                      for r in state["library"].get("movies", [])}
        extra = [m for m in state["catalog"]["movies"]
                 if json.dumps(m["ids"], sort_keys=True) not in in_library][:3]
        check(len(extra) == 3, "the catalog has movies outside the library")

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        items = [{"type": "movie", "title": m["title"], "year": m["year"],
                  "ids": {k: str(v) for k, v in m["ids"].items() if k in ("imdb", "tmdb")}}
                 for m in extra]
        with open(os.path.join(local, "watchlist.json"), "w") as f:
            json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                       "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                       "items": items}, f)
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        adds = Cw.planned(r1, "watchlist", "adds")
        check(adds == n + 3, f"the first run adds {n} titles locally and 3 on SIMKL, planned {adds}")
        check(len(plantowatch(sb.state("simkl"))) == n + 3, f"SIMKL's Plan to Watch holds all {n + 3}")
        Cw.assert_converged(cw.run())

        # Another SIMKL app removes one title: removed_from_list moves, cw reads in full and
        # the removal reaches the local tracker.
        bucket, gone = on_list[0]
        simkl_call(sb, "POST", "/sync/history/remove", {bucket: [{"ids": gone["ids"]}]})
        r3 = cw.run()
        removes = Cw.planned(r3, "watchlist", "removes")
        check(removes == 1, f"the SIMKL removal reaches the local side, planned {removes}")
        check(len(plantowatch(sb.state("simkl"))) == n + 2, "SIMKL keeps the others")

        sb.clear_requests("simkl")
        Cw.assert_converged(cw.run())
        reads = sb.requests("simkl", path="^/sync/all-items")
        check(not reads, f"nothing changed on SIMKL: no library read, got {len(reads)}")

        # A local removal reaches SIMKL (which removes the title from its library).
        with open(os.path.join(local, "watchlist.json")) as f:
            store = json.load(f)
        store["items"] = [i for i in store["items"]
                          if i.get("ids", {}).get("imdb") != str(extra[0]["ids"].get("imdb"))]
        store["count"] = len(store["items"])
        with open(os.path.join(local, "watchlist.json"), "w") as f:
            json.dump(store, f)
        r5 = cw.run()
        removes = Cw.planned(r5, "watchlist", "removes")
        check(removes == 1, f"the local removal reaches SIMKL, planned {removes}")
        check(len(plantowatch(sb.state("simkl"))) == n + 1, "SIMKL lost that title")
        Cw.assert_converged(cw.run())


main(test)
