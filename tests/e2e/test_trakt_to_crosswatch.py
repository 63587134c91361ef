"""trakt -> crosswatch (the local tracker), one way: watchlist, history, ratings and
progress reach the local side; every Trakt list is read with page/limit; the second run
plans nothing and, with the account unchanged, costs one /sync/last_activities read per
feature (the indexes come from the plugin's stored copy)."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: trakt-to-local
    source: trakt
    target: local
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
      progress:  { add: true, update: true, remove: true }
"""

LISTS = ("/sync/watchlist", "/sync/history", "/sync/ratings", "/sync/playback")


def local_items(root, feature):
    path = os.path.join(root, feature + ".json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f).get("items", [])


def key(media):
    return json.dumps({k: str(v) for k, v in media["ids"].items() if k in ("imdb", "tmdb")},
                      sort_keys=True)


def test():
    require_plugins("crosswatch", "trakt")
    with Sandbox(["trakt"],
                 generate="movies=40,shows=4,plays=60,ratings=12,watchlist=9,progress=4") as sb:
        state = sb.state("trakt")
        n_watchlist = len(state["watchlist"])
        check(n_watchlist == 9, f"the fake holds 9 watchlist rows, got {n_watchlist}")

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") == n_watchlist,
              f"the first run adds the {n_watchlist} watchlist titles, planned "
              f"{Cw.planned(r1, 'watchlist', 'adds')}")
        check(Cw.planned(r1, "history", "adds") > 0, "the first run adds history")
        check(Cw.planned(r1, "ratings", "adds") > 0, "the first run adds ratings")
        check(Cw.planned(r1, "progress", "adds") > 0, "the first run adds progress")
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: status {e['status']}: {e.get('errors')}")

        # What reached the local side is what Trakt holds.
        wl = {key(r[r["type"]]) for r in state["watchlist"] if r["type"] in ("movie", "show")}
        got = {key(i) for i in local_items(local, "watchlist")}
        check(wl == got, f"the local watchlist equals Trakt's ({len(got)} of {len(wl)})")
        played = {key(r["movie"]) for r in state["history"] if r["type"] == "movie"}
        got_h = {key(i) for i in local_items(local, "history") if i["type"] == "movie"}
        check(played == got_h, f"every movie Trakt has a play of is in the local history "
                               f"({len(got_h)} of {len(played)})")
        rated = {key(r["movie"]): r["rating"] for r in state["ratings"] if r["type"] == "movie"}
        got_r = {key(i): i.get("rating") for i in local_items(local, "ratings")
                 if i["type"] == "movie"}
        check(rated == got_r, f"local movie ratings equal Trakt's: {got_r} vs {rated}")

        # Every list was read page by page, never unpaged (an unpaged read stops at 100).
        for path in LISTS:
            reads = sb.requests("trakt", path="^" + path + "$", method="GET")
            check(reads, f"{path} was read")
            for r in reads:
                check("page=" in r["query"] and "limit=" in r["query"],
                      f"GET {path} was paged: query {r['query']!r}")

        sb.clear_requests("trakt")
        Cw.assert_converged(cw.run())
        reads = [r for r in sb.requests("trakt") if r["path"] != "/users/settings"]
        paths = sorted({r["path"] for r in reads})
        check(paths == ["/sync/last_activities"],
              f"an unchanged account costs only /sync/last_activities, read {paths}")
        check(len(reads) <= 4, f"one activities read per feature, got {len(reads)}")


main(test)
