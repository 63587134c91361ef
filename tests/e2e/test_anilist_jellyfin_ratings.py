"""jellyfin -> anilist, one-way ratings: Jellyfin items carrying AniList provider ids (as
Jellyfin's AniList metadata plugin writes them) and a user rating reach the AniList list in
the user's POINT_10_DECIMAL format, one entry per title; the second run plans nothing, and a changed rating is updated and converges.
Skipped until the jellyfin plugin is built and declares ratings."""

import json
import os
import subprocess
import sys

from cw_e2e import Cw, Sandbox, check, main, require_plugins, _env

PAIRS = """pairs:
  - name: jellyfin-anilist
    source: jellyfin
    target: anilist
    mode: one-way
    features:
      ratings: { add: true, update: true }
"""


def jellyfin_has_ratings():
    out = subprocess.run([_env("CW_BIN"), "--plugin-dir", _env("CW_PLUGIN_DIR"), "plugins", "list",
                          "--output", "json"], capture_output=True, text=True, timeout=60).stdout
    try:
        plugins = json.loads(out)["plugins"]
    except (ValueError, KeyError):
        return False
    return any(p.get("name") == "jellyfin" and "ratings" in p.get("features", {}) and
               p["features"]["ratings"].get("index_semantics") for p in plugins)


def media(mid, title, fmt, year):
    return {"id": mid, "idMal": mid + 50000, "type": "ANIME", "format": fmt,
            "title": {"romaji": title, "english": title, "native": None},
            "seasonYear": year, "startDate": {"year": year, "month": None, "day": None},
            "episodes": 1 if fmt == "MOVIE" else 12}


def test():
    require_plugins("jellyfin", "anilist")
    if not jellyfin_has_ratings():
        print("SKIP: the jellyfin plugin does not declare ratings")
        sys.exit(77)
    catalog = [media(31001, "Spirited Voyage", "MOVIE", 2001),
               media(31002, "Starlit Harbor", "MOVIE", 2016),
               media(31003, "Frost Garden", "TV", 2023)]
    with Sandbox(["jellyfin", "anilist"]) as sb:
        sb.seed("anilist", {"viewer": {"mediaListOptions": {"scoreFormat": "POINT_10_DECIMAL"}},
                            "media": catalog, "entries": []})
        state = sb.state("jellyfin")
        uid = state["users"][0]["Id"]
        movies_lib = next(l["Id"] for l in state["libraries"] if l["CollectionType"] == "movies")
        shows_lib = next(l["Id"] for l in state["libraries"] if l["CollectionType"] == "tvshows")
        items, user_data = [], {}
        ratings = {}
        for i, (m, rating) in enumerate(zip(catalog, (8, 7, 9))):
            iid = f"beef{i:028d}"
            movie = m["format"] == "MOVIE"
            items.append({"Id": iid, "Name": m["title"]["english"],
                          "Type": "Movie" if movie else "Series", "IsFolder": not movie,
                          "ParentId": movies_lib if movie else shows_lib,
                          "ProductionYear": m["seasonYear"],
                          "ProviderIds": {"AniList": str(m["id"])},
                          "Path": f"/media/{'movies' if movie else 'tv'}/{m['title']['english']}",
                          "DateCreated": "2024-01-01T00:00:00.0000000Z"})
            user_data[iid] = {"Rating": rating, "Played": True, "PlayCount": 1}
            ratings[m["id"]] = rating
        sb.seed("jellyfin", {"server": state["server"], "users": state["users"],
                             "libraries": state["libraries"], "items": items,
                             "user_data": {uid: user_data}})

        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        adds = Cw.planned(r1, "ratings", "adds")
        check(adds == 3, f"the three rated anime are added, planned {adds}")
        entries = {e["mediaId"]: e for e in sb.state("anilist")["entries"]}
        for mid, rating in ratings.items():
            check(mid in entries and entries[mid]["scoreRaw"] == rating * 10,
                  f"media {mid} scored {rating}, got {entries.get(mid, {}).get('scoreRaw')}")
        check(len(entries) == 3, f"one entry per title, got {len(entries)}")
        Cw.assert_converged(cw.run())

        # A changed Jellyfin rating is updated on AniList.
        user_data["beef" + "0" * 28]["Rating"] = 6
        sb.seed("jellyfin", {"server": state["server"], "users": state["users"],
                             "libraries": state["libraries"], "items": items,
                             "user_data": {uid: user_data}})
        r3 = cw.run()
        check(Cw.planned(r3, "ratings", "updates") == 1,
              f"one update, planned {Cw.planned(r3, 'ratings', 'updates')}")
        entries = {e["mediaId"]: e for e in sb.state("anilist")["entries"]}
        check(entries[catalog[0]["id"]]["scoreRaw"] == 60, "the new score reached AniList")
        Cw.assert_converged(cw.run())


main(test)
