"""crosswatch -> trakt, one way, into an empty Trakt account: watchlist (movies and shows),
ratings (movies, shows, seasons and episodes, the last two sent inside their show) and
progress (percentages through /scrobble/pause) land on Trakt as sent, every outcome is
confirmed, and the second run plans nothing (ratings read back equal; progress compared as
fractions)."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-trakt
    source: local
    target: trakt
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
      progress:  { add: true, update: true, remove: true }
"""


def ids(obj, kinds=("imdb", "tmdb", "tvdb")):
    return {k: str(v) for k, v in obj["ids"].items() if k in kinds}


def write(local, feature, items):
    with open(os.path.join(local, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def test():
    require_plugins("crosswatch", "trakt")
    with Sandbox(["trakt"], generate="movies=20,shows=3,plays=0,ratings=0,watchlist=0,"
                                     "progress=0") as sb:
        state = sb.state("trakt")
        movies = state["catalog"]["movies"]
        shows = state["catalog"]["shows"]
        check(len(shows) >= 2 and shows[0]["seasons"], "the catalog has shows with seasons")
        show, show2 = shows[0], shows[1]
        season = show["seasons"][-1]
        ep = season["episodes"][0]
        sref = {"title": show["title"], "year": show["year"], "ids": ids(show)}

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        write(local, "watchlist", [
            {"type": "movie", "title": m["title"], "year": m["year"], "ids": ids(m)}
            for m in movies[:3]] + [
            {"type": "show", "title": show2["title"], "year": show2["year"], "ids": ids(show2)}])
        write(local, "ratings", [
            {"type": "movie", "title": movies[3]["title"], "ids": ids(movies[3]), "rating": 7,
             "rated_at": "2025-05-01T10:00:00Z"},
            {"type": "movie", "title": movies[4]["title"], "ids": ids(movies[4]), "rating": 9.5,
             "rated_at": "2025-05-02T10:00:00Z"},
            {"type": "show", "title": show["title"], "ids": ids(show), "rating": 8,
             "rated_at": "2025-05-03T10:00:00Z"},
            {"type": "season", "show": sref, "season": season["number"], "rating": 6,
             "rated_at": "2025-05-04T10:00:00Z"},
            {"type": "episode", "show": sref, "season": ep["season"], "episode": ep["number"],
             "title": ep["title"], "rating": 10, "rated_at": "2025-05-05T10:00:00Z"}])
        write(local, "progress", [
            {"type": "movie", "title": movies[5]["title"], "ids": ids(movies[5]),
             "progress_ms": 1800000, "duration_ms": 6000000, "progress_at": "2025-06-01T10:00:00Z"},
            {"type": "episode", "show": sref, "season": ep["season"], "episode": ep["number"],
             "progress_ms": 600000, "duration_ms": 2400000, "progress_at": "2025-06-02T10:00:00Z"}])
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: status {e['status']}: {e.get('errors')}")
            check(e["outcomes"]["confirmed"] == Cw.planned(r1, e["feature"], "adds")
                  and not e["outcomes"]["unresolved"] and not e["outcomes"]["unknown"],
                  f"{e['feature']}: every add is confirmed: {e['outcomes']} {e.get('unresolved')}")
        check(Cw.planned(r1, "watchlist", "adds") == 4, "4 watchlist adds")
        check(Cw.planned(r1, "ratings", "adds") == 5, "5 rating adds")
        check(Cw.planned(r1, "progress", "adds") == 2, "2 progress adds")

        after = sb.state("trakt")
        check(sorted(r["type"] for r in after["watchlist"]) == ["movie", "movie", "movie", "show"],
              "Trakt's watchlist holds the 3 movies and the show")
        ratings = {r["type"]: r["rating"] for r in after["ratings"] if r["type"] != "movie"}
        check(ratings == {"show": 8, "season": 6, "episode": 10},
              f"show, season and episode ratings as sent: {ratings}")
        movie_ratings = sorted(r["rating"] for r in after["ratings"] if r["type"] == "movie")
        check(movie_ratings == [7, 10], f"movie ratings 7 and 9.5 -> 10 (Trakt's grid): "
                                        f"{movie_ratings}")
        progress = sorted(round(p["progress"]) for p in after["playback"])
        check(progress == [25, 30], f"progress as percentages 30 and 25: {progress}")

        Cw.assert_converged(cw.run())


main(test)
