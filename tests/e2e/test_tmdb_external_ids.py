"""tmdb's own external ids, without an id resolver: the local tracker knows its watchlist by
imdb ids (shows by tvdb ids) only; the tmdb plugin adds imdb/tvdb ids to TMDb's listed
titles from /external_ids, so the two copies of each title match: the two-way pair adds
only the one title TMDb lacks (found with /3/find), nothing is duplicated, the second run
plans nothing, and the ids are kept in the instance's store (a later run asks TMDb for no
external ids)."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-tmdb
    source: local
    target: tmdb
    mode: two-way
    features:
      watchlist: { add: true, remove: true }
"""


def write_store(folder, feature, items):
    with open(os.path.join(folder, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def read_store(folder, feature):
    with open(os.path.join(folder, feature + ".json")) as f:
        return json.load(f)["items"]


def test():
    require_plugins("crosswatch", "tmdb")
    with Sandbox(["tmdb"], generate="movies=30,shows=4,watchlist=6") as sb:
        state = sb.state("tmdb")
        movies = {m["id"]: m for m in state["catalog"]["movies"]}
        tv = {t["id"]: t for t in state["catalog"]["tv"]}
        items = []
        for mid in state["watchlist"]["movies"]:
            imdb = (movies[mid].get("external_ids") or {}).get("imdb_id")
            check(bool(imdb), f"watchlist movie {mid} has an imdb id in the catalog")
            items.append({"type": "movie", "title": movies[mid]["title"], "ids": {"imdb": imdb}})
        for tid in state["watchlist"]["tv"]:
            ext = tv[tid].get("external_ids") or {}
            ids = {"tvdb": str(ext["tvdb_id"])} if ext.get("tvdb_id") else {"imdb": ext.get("imdb_id")}
            check(all(ids.values()), f"watchlist show {tid} has an external id")
            items.append({"type": "show", "title": tv[tid]["name"], "ids": ids})
        n = len(items)
        check(n >= 2, f"TMDb's watchlist holds titles, got {n}")
        extra = next(m for m in state["catalog"]["movies"]
                     if m["id"] not in state["watchlist"]["movies"]
                     and (m.get("external_ids") or {}).get("imdb_id"))
        items.append({"type": "movie", "title": extra["title"],
                      "ids": {"imdb": extra["external_ids"]["imdb_id"]}})

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        write_store(local, "watchlist", items)
        providers = (sb.providers_yaml.rstrip() +
                     f"\n  local:\n    plugin: crosswatch\n    root: {local}\n")
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        adds = Cw.planned(r1, "watchlist", "adds")
        check(adds == 1, f"only the title TMDb lacks is added, planned {adds}")
        s = sb.state("tmdb")
        check(extra["id"] in s["watchlist"]["movies"], "the missing title reached TMDb")
        check(len(s["watchlist"]["movies"]) + len(s["watchlist"]["tv"]) == n + 1,
              "TMDb holds each title once")
        check(len(read_store(local, "watchlist")) == n + 1,
              f"the local list holds each title once, got {len(read_store(local, 'watchlist'))}")
        check(sb.requests("tmdb", path="^/3/find/"), "the missing title was found with /3/find")
        Cw.assert_converged(cw.run())

        # The external ids are kept in the instance's store: a later run asks for none.
        sb.clear_requests("tmdb")
        Cw.assert_converged(cw.run())
        asked = sb.requests("tmdb", path="^/3/(find|movie|tv)/")
        check(not asked, f"stored external ids: no lookups, got {len(asked)}")


main(test)
