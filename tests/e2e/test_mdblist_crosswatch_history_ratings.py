"""crosswatch -> mdblist, one-way history and ratings: movie and episode plays and ratings
(movies and an episode) reach MDBList with confirmed outcomes, a local play removal removes
that play on MDBList by its play id, a changed rating is updated, and every run after that
plans nothing."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-mdblist
    source: local
    target: mdblist
    mode: one-way
    features:
      history: { add: true, remove: true }
      ratings: { add: true, update: true, remove: true }
"""


def write_store(folder, feature, items):
    with open(os.path.join(folder, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def ids_of(media):
    return {k: str(v) for k, v in media["ids"].items()}


def test():
    require_plugins("crosswatch", "mdblist")
    with Sandbox(["mdblist"], generate="movies=10,shows=3,plays=0,ratings=0,watchlist=0,progress=0") as sb:
        state = sb.state("mdblist")
        movies = state["catalog"]["movies"][:2]
        show = next(s for s in state["catalog"]["shows"]
                    if s.get("seasons") and len(s["seasons"][0]["episodes"]) >= 2)
        season = show["seasons"][0]
        show_ref = {"title": show["title"], "year": show["year"], "ids": ids_of(show)}
        history = [{"type": "movie", "title": m["title"], "year": m["year"], "ids": ids_of(m),
                    "watched_at": f"2024-03-0{i + 1}T20:00:00Z"} for i, m in enumerate(movies)]
        history += [{"type": "episode", "show": show_ref, "season": season["number"],
                     "episode": e["number"], "watched_at": f"2024-04-0{i + 1}T21:00:00Z"}
                    for i, e in enumerate(season["episodes"][:2])]
        ratings = [{"type": "movie", "title": m["title"], "year": m["year"], "ids": ids_of(m),
                    "rating": 7 + i, "rated_at": "2024-05-01T10:00:00Z"}
                   for i, m in enumerate(movies)]
        ratings.append({"type": "episode", "show": show_ref, "season": season["number"],
                        "episode": season["episodes"][0]["number"], "rating": 9,
                        "rated_at": "2024-05-02T10:00:00Z"})

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        write_store(local, "history", history)
        write_store(local, "ratings", ratings)
        cw.write_config(sb.providers_yaml.rstrip() +
                        f"\n  local:\n    plugin: crosswatch\n    root: {local}\n", PAIRS)

        r1 = cw.run()
        for feature, n in (("history", 4), ("ratings", 3)):
            entry = [e for e in r1["pairs"] if e["feature"] == feature][0]
            check(entry["planned"]["adds"] == n, f"{feature}: {n} adds planned: {entry['planned']}")
            check(entry["outcomes"]["confirmed"] == n,
                  f"{feature}: MDBList's counts confirm all {n}: {entry['outcomes']}")
        after = sb.state("mdblist")
        check(len(after["plays"]) == 4, f"MDBList holds 4 plays: {len(after['plays'])}")
        check(sorted(r["rating"] for r in after["ratings"]) == [7, 8, 9],
              f"MDBList holds the ratings: {after['ratings']}")
        Cw.assert_converged(cw.run())

        # One episode play is removed locally, one rating changes.
        write_store(local, "history", history[:3])
        ratings[0]["rating"] = 4
        write_store(local, "ratings", ratings)
        r3 = cw.run()
        check(Cw.planned(r3, "history", "removes") == 1, "the play removal reaches MDBList")
        check(Cw.planned(r3, "ratings", "updates") == 1, "the rating change reaches MDBList")
        after = sb.state("mdblist")
        check(len(after["plays"]) == 3, f"exactly that play left MDBList: {after['plays']}")
        check(sorted(r["rating"] for r in after["ratings"]) == [4, 8, 9],
              f"MDBList's ratings follow: {after['ratings']}")
        Cw.assert_converged(cw.run())


main(test)
