"""crosswatch -> anilist, one-way ratings and watchlist, for a user whose score format is
POINT_5: the host snaps the local 0-10 ratings to AniList's 1-5 grid (reported in the
plugin's health), a title already scored the same is left alone, a new title is added as
COMPLETED with its score, a scored PLANNING title keeps its status, local watchlist titles
become PLANNING entries; the second run plans nothing; a changed rating is updated and it
converges again. Every GraphQL document the plugin sends is validated by the fake against
AniList's schema."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-anilist
    source: local
    target: anilist
    mode: one-way
    features:
      ratings: { add: true, remove: true, update: true }
      watchlist: { add: true, remove: true }
"""


def media(mid, title, fmt="TV", year=2015):
    return {"id": mid, "idMal": mid + 40000, "type": "ANIME", "format": fmt,
            "title": {"romaji": title, "english": title, "native": None},
            "seasonYear": year, "startDate": {"year": year, "month": None, "day": None},
            "episodes": 1 if fmt == "MOVIE" else 12}


def write_store(folder, feature, items):
    with open(os.path.join(folder, feature + ".json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": feature,
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def local(m, **extra):
    item = {"type": "movie" if m["format"] == "MOVIE" else "show", "title": m["title"]["english"],
            "year": m["seasonYear"], "ids": {"anilist": str(m["id"])}}
    item.update(extra)
    return item


def entries_by_media(sb):
    return {e["mediaId"]: e for e in sb.state("anilist")["entries"]}


def test():
    require_plugins("crosswatch", "anilist")
    catalog = [media(21000 + i, f"Anime Title {i}", "MOVIE" if i % 4 == 0 else "TV", 2010 + i)
               for i in range(10)]
    fixture = {"viewer": {"mediaListOptions": {"scoreFormat": "POINT_5"}},
               "media": catalog,
               "entries": [{"mediaId": catalog[2]["id"], "status": "COMPLETED", "scoreRaw": 60},
                           {"mediaId": catalog[3]["id"], "status": "PLANNING"}]}
    with Sandbox(["anilist"]) as sb:
        sb.seed("anilist", fixture)
        cw = Cw()
        folder = os.path.join(cw.dir, "local")
        os.makedirs(folder)
        at = "2026-01-02T03:04:05Z"
        rates = [local(catalog[0], rating=10, rated_at=at),   # -> 5
                 local(catalog[1], rating=7, rated_at=at),    # -> 4 (3.5 rounds up)
                 local(catalog[2], rating=6, rated_at=at),    # already 3 of 5: the same
                 local(catalog[3], rating=3, rated_at=at),    # -> 2, on a PLANNING entry
                 local(catalog[4], rating=1, rated_at=at)]    # -> 1 (the lowest score)
        write_store(folder, "ratings", rates)
        write_store(folder, "watchlist", [local(catalog[5]), local(catalog[6])])
        providers = (sb.providers_yaml.rstrip() +
                     f"\n  local:\n    plugin: crosswatch\n    root: {folder}\n")
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        adds = Cw.planned(r1, "ratings", "adds")
        updates = Cw.planned(r1, "ratings", "updates")
        check(adds == 4 and updates == 0,
              f"4 rating adds and no update (6 is 3 of 5 already), planned {adds}/{updates}")
        check(Cw.planned(r1, "watchlist", "adds") == 2, "2 watchlist adds")
        e = entries_by_media(sb)
        want = {catalog[0]["id"]: 100, catalog[1]["id"]: 80, catalog[2]["id"]: 60,
                catalog[3]["id"]: 40, catalog[4]["id"]: 20}
        for mid, raw in want.items():
            check(mid in e and e[mid]["scoreRaw"] == raw,
                  f"media {mid} has scoreRaw {raw}, got {e.get(mid, {}).get('scoreRaw')}")
        check(e[catalog[0]["id"]]["status"] == "COMPLETED", "a new scored title is COMPLETED")
        check(e[catalog[3]["id"]]["status"] == "PLANNING", "a scored PLANNING title stays planned")
        for m in catalog[5:7]:
            check(e.get(m["id"], {}).get("status") == "PLANNING", f"media {m['id']} is planned")
        Cw.assert_converged(cw.run())

        # A changed rating: 7 -> 9 is 4 -> 5 of 5 (4.5 rounds up).
        rates[1]["rating"] = 9
        rates[1]["rated_at"] = "2026-02-01T00:00:00Z"
        write_store(folder, "ratings", rates)
        r3 = cw.run()
        check(Cw.planned(r3, "ratings", "updates") == 1,
              f"one rating update, planned {Cw.planned(r3, 'ratings', 'updates')}")
        check(entries_by_media(sb)[catalog[1]["id"]]["scoreRaw"] == 100, "updated to 5 of 5")
        Cw.assert_converged(cw.run())

        # No GraphQL document was refused by the schema.
        bad = [r for r in sb.requests("anilist") if r.get("status") == 400]
        check(not bad, f"no request was refused: {bad[:1]}")


main(test)
