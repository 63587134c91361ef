"""crosswatch local tracker -> plex: the writes. The local tracker is filled from the Plex
fake, the fake's owner state is cleared, and a one-way local -> plex pair writes the watched
state (/:/scrobble), the ratings (/:/rate), the resume points (/:/timeline) and the Discover
watchlist back: the fake then holds what it held before, and the second run plans nothing."""
import tempfile

from cw_e2e import Cw, Sandbox, check, main, require_plugins

FEATURES = """    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
      progress:  { add: true, update: true, remove: true }
"""


def owner(state):
    types = {str(i["ratingKey"]): i.get("type") for i in state["items"]}
    user = state["user_state"].get("1", {})
    watched = {rk for rk, s in user.items()
               if s.get("viewCount", 0) > 0 and types.get(rk) in ("movie", "episode")}
    rated = {rk: s["userRating"] for rk, s in user.items()
             if s.get("userRating", 0) > 0 and types.get(rk) in ("movie", "show", "episode")}
    offsets = {rk: s["viewOffset"] for rk, s in user.items()
               if s.get("viewOffset", 0) > 0 and types.get(rk) in ("movie", "episode")}
    listed = {w["ratingKey"] for w in state["watchlist"].get("1", [])}
    return watched, rated, offsets, listed


def test():
    require_plugins("plex", "crosswatch")
    with Sandbox(["plex"],
                 generate="movies=40,shows=4,plays=60,ratings=10,watchlist=8,progress=4") as sb:
        root = tempfile.mkdtemp(prefix="cw-plex-local-")
        providers = (sb.providers_yaml.rstrip("\n") +
                     f"\n  local:\n    plugin: crosswatch\n    root: {root}\n")
        before = sb.state("plex")
        watched, rated, offsets, listed = owner(before)
        check(watched and rated and offsets and listed, "the fake has data")

        fill = Cw()
        fill.write_config(providers, "pairs:\n  - name: fill\n    source: plex\n    target: local\n"
                          + FEATURES)
        fill.run()

        cleared = dict(before)
        cleared["user_state"] = {}
        cleared["watchlist"] = {}
        cleared["history"] = []
        sb.seed("plex", cleared)
        check(owner(sb.state("plex")) == (set(), {}, {}, set()), "the fake's owner state is empty")
        sb.clear_requests("plex")

        cw = Cw()
        cw.write_config(providers, "pairs:\n  - name: back\n    source: local\n    target: plex\n"
                        + FEATURES)
        r1 = cw.run()
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: status {e['status']}: {e.get('errors')}")
            check(not e["outcomes"]["unresolved"] and not e["outcomes"]["unknown"],
                  f"{e['feature']}: every write is settled: {e['outcomes']}")
        check(Cw.planned(r1, "history", "adds") == len(watched), "history: every watched item")
        check(Cw.planned(r1, "ratings", "adds") == len(rated), "ratings: every rating")
        check(Cw.planned(r1, "progress", "adds") == len(offsets), "progress: every resume point")
        check(Cw.planned(r1, "watchlist", "adds") == len(listed), "watchlist: every entry")

        got_watched, got_rated, got_offsets, got_listed = owner(sb.state("plex"))
        check(got_watched == watched, f"watched state back ({len(got_watched)} of {len(watched)})")
        check(got_rated == rated, f"ratings back: {got_rated} == {rated}")
        check(got_offsets == offsets, f"resume points back: {got_offsets} == {offsets}")
        check(got_listed == listed, "watchlist back")
        scrobbles = sb.requests("plex", path="^/:/scrobble", method="PUT")
        check(len(scrobbles) == len(watched), f"{len(scrobbles)} scrobbles for {len(watched)} items")
        check(all("viewedAt=" in r["query"] for r in scrobbles), "every scrobble sends viewedAt")

        Cw.assert_converged(cw.run())


main(test)
