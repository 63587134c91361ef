"""crosswatch -> tmdb, one-way watchlist and ratings: the local titles reach the TMDb
account (ratings as given, on TMDb's half-point grid), the second run plans nothing, a
changed local rating is updated on TMDb and a title removed locally leaves the TMDb
watchlist, and it converges again."""

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
      ratings: { add: true, remove: true, update: true }
"""


def write_store(folder, feature, items):
    with open(os.path.join(folder, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def year(date):
    return int(date[:4]) if date and len(date) >= 4 else None


def local_item(kind, row, **extra):
    """A local item for a TMDb catalog row: tmdb id (and imdb for movies when known)."""
    ids = {"tmdb": str(row["id"])}
    imdb = (row.get("external_ids") or {}).get("imdb_id")
    if imdb:
        ids["imdb"] = imdb
    item = {"type": kind, "title": row.get("title") or row.get("name") or "",
            "ids": ids}
    y = year(row.get("release_date") or row.get("first_air_date"))
    if y:
        item["year"] = y
    item.update(extra)
    return item


def test():
    require_plugins("crosswatch", "tmdb")
    with Sandbox(["tmdb"], generate="movies=30,shows=4,ratings=6,watchlist=5") as sb:
        state = sb.state("tmdb")
        listed = set(state["watchlist"]["movies"])
        rated = {r["id"] for r in state["rated"]["movies"]}
        free = [m for m in state["catalog"]["movies"]
                if m["id"] not in listed and m["id"] not in rated]
        check(len(free) >= 7, f"the catalog has titles off both lists, got {len(free)}")
        shows = [t for t in state["catalog"]["tv"] if t["id"] not in state["watchlist"]["tv"]]
        check(len(shows) >= 1, "the catalog has shows off the watchlist")
        before_wl = len(state["watchlist"]["movies"]) + len(state["watchlist"]["tv"])
        before_rated = len(state["rated"]["movies"]) + len(state["rated"]["tv"])

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        watch = [local_item("movie", m) for m in free[:3]] + [local_item("show", shows[0])]
        rates = [local_item("movie", m, rating=r, rated_at="2026-01-02T03:04:05Z")
                 for m, r in zip(free[3:7], (10, 7, 3, 1))]
        write_store(local, "watchlist", watch)
        write_store(local, "ratings", rates)
        providers = (sb.providers_yaml.rstrip() +
                     f"\n  local:\n    plugin: crosswatch\n    root: {local}\n")
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") == 4,
              f"4 watchlist adds, planned {Cw.planned(r1, 'watchlist', 'adds')}")
        check(Cw.planned(r1, "ratings", "adds") == 4,
              f"4 rating adds, planned {Cw.planned(r1, 'ratings', 'adds')}")
        s = sb.state("tmdb")
        check(len(s["watchlist"]["movies"]) + len(s["watchlist"]["tv"]) == before_wl + 4,
              "TMDb's watchlist gained the 4 titles")
        check(shows[0]["id"] in s["watchlist"]["tv"], "the show went to the tv watchlist")
        got = {r["id"]: r["rating"] for r in s["rated"]["movies"]}
        for m, r in zip(free[3:7], (10, 7, 3, 1)):
            check(got.get(m["id"]) == r, f"movie {m['id']} rated {r} on TMDb, got {got.get(m['id'])}")
        check(len(s["rated"]["movies"]) + len(s["rated"]["tv"]) == before_rated + 4,
              "TMDb holds 4 more ratings")
        Cw.assert_converged(cw.run())

        # Change one rating and drop one watchlist title locally.
        rates[1]["rating"] = 8
        rates[1]["rated_at"] = "2026-02-01T00:00:00Z"
        write_store(local, "ratings", rates)
        write_store(local, "watchlist", watch[1:])
        r3 = cw.run()
        check(Cw.planned(r3, "ratings", "updates") == 1,
              f"one rating update, planned {Cw.planned(r3, 'ratings', 'updates')}")
        check(Cw.planned(r3, "watchlist", "removes") == 1,
              f"one watchlist removal, planned {Cw.planned(r3, 'watchlist', 'removes')}")
        s = sb.state("tmdb")
        got = {r["id"]: r["rating"] for r in s["rated"]["movies"]}
        check(got.get(free[4]["id"]) == 8, f"the rating is 8 on TMDb now, got {got.get(free[4]['id'])}")
        check(free[0]["id"] not in s["watchlist"]["movies"], "the removed title left TMDb")
        Cw.assert_converged(cw.run())


main(test)
