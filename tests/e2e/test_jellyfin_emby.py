"""Jellyfin and Emby end to end: the real cw with the jellyfin and emby plugins against
cw-sandbox.

1. jellyfin <-> emby two-way (watchlist, history, progress, ratings): Emby starts with the same
   library but no user data; the first run copies Jellyfin's, the second plans nothing; a
   change on each side (Emby: a new play and a new favourite; Jellyfin: a favourite removed)
   crosses over, and the next run converges again.
2. Stale reads: Emby accepts the writes but its reads trail them; the write-through shadow
   keeps the second run from sending them again.
3. The watchlist as a list: Jellyfin's favourites one-way to a Jellyfin playlist (a second
   instance on the same server) and to an Emby collection (created with its first items);
   converges.
4. jellyfin -> crosswatch (the local tracker), one-way, every feature; converges.
"""

import json
import os
import re
import tempfile

from cw_e2e import Cw, Sandbox, check, main, require_plugins

GENERATE = "movies=30,shows=3,plays=40,ratings=10,watchlist=8,progress=5,seed=7"

TWO_WAY = """pairs:
  - name: jf-emby
    source: jellyfin
    target: emby
    mode: two-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      progress:  { add: true, update: true, remove: true }
      ratings:   { add: true, update: true }
"""

TO_TRACKER = """pairs:
  - name: jf-backup
    source: jellyfin
    target: backup
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      progress:  { add: true, update: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
"""


def user_data(state, user_id):
    return state["user_data"].get(user_id, {})


def count(state, user_id, pred):
    return sum(1 for ud in user_data(state, user_id).values() if pred(ud))


def emby_request(sb, method, path):
    """A request to the Emby fake as a client, with the user's token."""
    import urllib.request
    req = urllib.request.Request(sb.base_url("emby") + path, data=b"" if method != "GET" else None,
                                 method=method)
    req.add_header("X-Emby-Token", sb.credentials("emby")["access_token"])
    req.add_header("Content-Length", "0")
    with urllib.request.urlopen(req, timeout=30) as res:
        raw = res.read()
    return json.loads(raw) if raw else None


def jellyfin_request(sb, method, path):
    import urllib.request
    req = urllib.request.Request(sb.base_url("jellyfin") + path,
                                 data=b"" if method != "GET" else None, method=method)
    req.add_header("X-Emby-Token", sb.credentials("jellyfin")["access_token"])
    req.add_header("Content-Length", "0")
    with urllib.request.urlopen(req, timeout=30) as res:
        raw = res.read()
    return json.loads(raw) if raw else None


def two_way():
    universe_file = os.path.join(tempfile.mkdtemp(prefix="cw-e2e-mb-"), "universe.json")
    with Sandbox(["jellyfin", "emby"], generate=GENERATE,
                 extra_args=["--write-universe", universe_file]) as sb:
        with open(universe_file) as f:
            universe = json.load(f)
        # Emby: the same library, no user data.
        for key in ("history", "watchlist", "ratings", "progress"):
            universe[key] = []
        sb.control("emby", "POST", "/__sandbox/universe", universe)
        jf_user = sb.credentials("jellyfin")["user_id"]
        em_user = sb.credentials("emby")["user_id"]
        jf = sb.state("jellyfin")
        favourites = count(jf, jf_user, lambda ud: ud["IsFavorite"])
        played = count(jf, jf_user, lambda ud: ud["Played"])
        resumable = count(jf, jf_user, lambda ud: ud["PlaybackPositionTicks"] > 0)
        check(favourites > 0 and played > 0 and resumable > 0, "the universe has user data")
        check(count(sb.state("emby"), em_user, lambda ud: ud["Played"]) == 0, "Emby starts empty")

        cw = Cw()
        cw.write_config(sb.providers_yaml, TWO_WAY)
        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") == favourites,
              f"the first run adds the {favourites} favourites "
              f"(planned {Cw.planned(r1, 'watchlist', 'adds')})")
        em = sb.state("emby")
        check(count(em, em_user, lambda ud: ud["IsFavorite"]) == favourites,
              "Emby has every favourite")
        em_played = count(em, em_user, lambda ud: ud["Played"])
        check(em_played == played, f"Emby has every played item ({em_played} of {played})")
        check(count(em, em_user, lambda ud: ud["PlaybackPositionTicks"] > 0) == resumable,
              "Emby has every resume position")
        # Emby's DatePlayed is written in its compact form.
        posts = sb.requests("emby", path="/PlayedItems/", method="POST")
        dates = [re.search(r"DatePlayed=([^&]*)", p["query"]) for p in posts]
        check(posts and all(d and re.fullmatch(r"\d{14}", d.group(1)) for d in dates),
              "DatePlayed is yyyyMMddHHmmss")
        Cw.assert_converged(cw.run())

        # Emby: a movie played and one more favourite; Jellyfin: a favourite removed.
        movies = emby_request(sb, "GET", f"/Users/{em_user}/Items?IncludeItemTypes=Movie"
                                         "&Recursive=true&Filters=IsUnplayed&Fields=ProviderIds")
        fresh = [m for m in movies["Items"] if m.get("ProviderIds")
                 and not m["UserData"]["IsFavorite"]]
        check(len(fresh) >= 2, "Emby has unplayed movies with ids")
        emby_request(sb, "POST", f"/Users/{em_user}/PlayedItems/{fresh[0]['Id']}"
                                 "?DatePlayed=20250102030405")
        emby_request(sb, "POST", f"/Users/{em_user}/FavoriteItems/{fresh[1]['Id']}")
        favs = jellyfin_request(sb, "GET", f"/Items?userId={jf_user}&IncludeItemTypes=Movie,Series"
                                           "&Recursive=true&Filters=IsFavorite")
        gone = favs["Items"][0]
        jellyfin_request(sb, "DELETE", f"/UserFavoriteItems/{gone['Id']}?userId={jf_user}")

        r3 = cw.run()
        check(Cw.planned(r3, "history", "adds") == 1, "the Emby play goes to Jellyfin")
        check(Cw.planned(r3, "watchlist", "adds") == 1, "the Emby favourite goes to Jellyfin")
        check(Cw.planned(r3, "watchlist", "removes") == 1, "the Jellyfin removal goes to Emby")
        jf = sb.state("jellyfin")
        check(count(jf, jf_user, lambda ud: ud["IsFavorite"]) == favourites,
              "Jellyfin: one favourite fewer, one more")
        check(count(jf, jf_user, lambda ud: ud["Played"]) == played + 1, "Jellyfin: one more play")
        check(count(sb.state("emby"), em_user, lambda ud: ud["IsFavorite"]) == favourites,
              "Emby: the removed favourite is gone")
        Cw.assert_converged(cw.run())


def stale_reads():
    universe_file = os.path.join(tempfile.mkdtemp(prefix="cw-e2e-mb-"), "universe.json")
    with Sandbox(["jellyfin", "emby"], generate=GENERATE,
                 extra_args=["--write-universe", universe_file]) as sb:
        with open(universe_file) as f:
            universe = json.load(f)
        for key in ("history", "watchlist", "ratings", "progress"):
            universe[key] = []
        sb.control("emby", "POST", "/__sandbox/universe", universe)
        # Every read of Emby's items answers what it answered before the last write, for the
        # next 50 reads after any write.
        sb.fault("emby", {"endpoint": "^/Users/[^/]+/Items$", "stale_reads": 50})
        cw = Cw()
        cw.write_config(sb.providers_yaml, TWO_WAY)
        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") > 0, "the first run adds the watchlist")
        sb.clear_requests("emby")
        r2 = cw.run()
        Cw.assert_converged(r2)
        check(not sb.requests("emby", path="/FavoriteItems/", method="POST"),
              "no favourite was sent again")
        check(not sb.requests("emby", path="/PlayedItems/", method="POST"),
              "no play was sent again")


LISTS = """pairs:
  - name: fav-to-playlist
    source: jellyfin
    target: jfpl
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
  - name: fav-to-collection
    source: jellyfin
    target: emby
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
"""


def watchlist_lists():
    with Sandbox(["jellyfin", "emby"], generate=GENERATE) as sb:
        jf = sb.credentials("jellyfin")
        em_user = sb.credentials("emby")["user_id"]
        # Emby: no favourites, the watchlist is a collection.
        universe_state = sb.state("emby")
        for ud in universe_state["user_data"].get(em_user, {}).values():
            ud["IsFavorite"] = False
        sb.seed("emby", universe_state)
        providers = sb.providers_yaml.rstrip() + "\n    watchlist: { mode: collection, name: Watchlist }\n"
        providers += (f"  jfpl:\n    plugin: jellyfin\n    url: {sb.base_url('jellyfin')}\n"
                      f"    user: {jf['user_id']}\n    access_token: {jf['access_token']}\n"
                      "    watchlist: { mode: playlist, name: Watchlist }\n")
        check(providers.count("watchlist:") == 2, "the emby block is the last one")
        cw = Cw()
        cw.write_config(providers, LISTS)
        r1 = cw.run()
        favourites = Cw.planned(r1, "watchlist", "adds", pair="fav-to-collection")
        check(favourites > 0, "the favourites go to the Emby collection")
        check(Cw.planned(r1, "watchlist", "adds", pair="fav-to-playlist") == favourites,
              "and to the Jellyfin playlist")
        em = sb.state("emby")
        check(len(em["collections"]) == 1 and em["collections"][0]["Name"] == "Watchlist",
              "one Emby collection named Watchlist")
        check(len(em["collections"][0]["ItemIds"]) == favourites, "holding every favourite")
        pls = sb.state("jellyfin")["playlists"]
        check(len(pls) == 1 and len(pls[0]["Entries"]) == favourites,
              "one Jellyfin playlist holding every favourite")
        Cw.assert_converged(cw.run())


def to_tracker():
    with Sandbox(["jellyfin"], generate=GENERATE) as sb:
        root = tempfile.mkdtemp(prefix="cw-e2e-backup-")
        providers = sb.providers_yaml.rstrip() + f"\n  backup:\n    plugin: crosswatch\n    root: {root}\n"
        cw = Cw()
        cw.write_config(providers, TO_TRACKER)
        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") > 0, "the watchlist goes to the tracker")
        check(Cw.planned(r1, "history", "adds") > 0, "the history goes to the tracker")
        check(Cw.planned(r1, "progress", "adds") > 0, "the progress goes to the tracker")
        check(Cw.planned(r1, "ratings", "adds") > 0, "the ratings go to the tracker")
        Cw.assert_converged(cw.run())


def test():
    require_plugins("jellyfin", "emby", "crosswatch")
    two_way()
    stale_reads()
    watchlist_lists()
    to_tracker()


main(test)
