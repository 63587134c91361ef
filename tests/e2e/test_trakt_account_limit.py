"""crosswatch -> trakt watchlist against a full Trakt watchlist (the account limit, HTTP 420
with an empty body): the titles that do not fit are reported unresolved with reason quota,
nothing is confirmed that Trakt did not take, and the next run reports them again with one
request, never a retry loop. Once room is made on Trakt, they go in."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-trakt
    source: local
    target: trakt
    mode: one-way
    features:
      watchlist: { add: true, remove: false }
"""


def test():
    require_plugins("crosswatch", "trakt")
    with Sandbox(["trakt"], generate="movies=20,shows=0,plays=0,ratings=0,watchlist=3,"
                                     "progress=0") as sb:
        state = sb.state("trakt")
        listed = {json.dumps(r["movie"]["ids"], sort_keys=True) for r in state["watchlist"]}
        fresh = [m for m in state["catalog"]["movies"]
                 if json.dumps(m["ids"], sort_keys=True) not in listed][:4]
        state["settings"]["limits"]["watchlist"]["item_count"] = 4  # 3 listed, room for 1
        sb.seed("trakt", state)

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        items = [{"type": "movie", "title": m["title"], "year": m["year"],
                  "ids": {k: str(v) for k, v in m["ids"].items() if k in ("imdb", "tmdb")}}
                 for m in fresh]
        with open(os.path.join(local, "watchlist.json"), "w") as f:
            json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                       "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                       "items": items}, f)
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        def watchlist_entry(report):
            return [e for e in report["pairs"] if e["feature"] == "watchlist"][0]

        for run in (1, 2):
            sb.clear_requests("trakt")
            r = cw.run(expect_rc=None)
            e = watchlist_entry(r)
            posts = sb.requests("trakt", path="^/sync/watchlist$", method="POST")
            check(len(posts) == 1 and posts[0]["status"] == 420,
                  f"run {run}: one POST, answered 420: {[p['status'] for p in posts]}")
            check(e["outcomes"]["confirmed"] == 0, f"run {run}: nothing confirmed: {e['outcomes']}")
            reasons = {u.get("reason") for u in e.get("unresolved", [])}
            check(e["outcomes"]["unresolved"] == 4 and reasons == {"quota"},
                  f"run {run}: the 4 titles are unresolved for quota: {e['outcomes']} {reasons}")
            check(len(sb.state("trakt")["watchlist"]) == 3, f"run {run}: Trakt took nothing")

        # Room is made on Trakt (VIP): the titles go in and the pair settles.
        state = sb.state("trakt")
        state["settings"]["limits"]["watchlist"]["item_count"] = 5000
        sb.seed("trakt", state)
        r3 = cw.run()
        check(watchlist_entry(r3)["outcomes"]["confirmed"] == 4, "the titles go in")
        check(len(sb.state("trakt")["watchlist"]) == 7, "Trakt holds all 7")
        Cw.assert_converged(cw.run())


main(test)
