"""plex -> crosswatch local tracker, every feature the plex plugin has, against the Plex fake:
the first run copies the watched state, ratings, resume points and the Discover watchlist
(exactly what the fake holds for the owner), each write is settled, and the second run plans
nothing and hydrates no watchlist ids again (they are cached in kv)."""
import tempfile

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: plex-to-local
    source: plex
    target: local
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
      progress:  { add: true, update: true, remove: true }
"""

HYDRATION = "^/library/metadata/[0-9a-f]{24}$"


def expected(state):
    """The owner's state in the fake: watched movies/episodes (one history item each),
    rated movies/shows/episodes, resume points of movies/episodes, watchlist entries."""
    types = {str(i["ratingKey"]): i.get("type") for i in state["items"]}
    user = state["user_state"].get("1", {})
    history = sum(1 for rk, s in user.items()
                  if s.get("viewCount", 0) > 0 and types.get(rk) in ("movie", "episode"))
    ratings = sum(1 for rk, s in user.items()
                  if s.get("userRating", 0) > 0 and types.get(rk) in ("movie", "show", "episode"))
    progress = sum(1 for rk, s in user.items()
                   if s.get("viewOffset", 0) > 0 and types.get(rk) in ("movie", "episode"))
    watchlist = len(state["watchlist"].get("1", []))
    return {"history": history, "ratings": ratings, "progress": progress, "watchlist": watchlist}


def test():
    require_plugins("plex", "crosswatch")
    with Sandbox(["plex"],
                 generate="movies=40,shows=4,plays=60,ratings=10,watchlist=8,progress=4") as sb:
        root = tempfile.mkdtemp(prefix="cw-plex-local-")
        providers = (sb.providers_yaml.rstrip("\n") +
                     f"\n  local:\n    plugin: crosswatch\n    root: {root}\n")
        want = expected(sb.state("plex"))
        check(all(want.values()) and want["watchlist"] == 8, f"the fake has data: {want}")
        cw = Cw()
        cw.write_config(providers, PAIRS)
        r1 = cw.run()
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: status {e['status']}: {e.get('errors')}")
            check(not e["outcomes"]["unresolved"] and not e["outcomes"]["unknown"],
                  f"{e['feature']}: every write is settled: {e['outcomes']}")
        for feature, n in want.items():
            got = Cw.planned(r1, feature, "adds")
            check(got == n, f"{feature}: {got} adds planned, the fake holds {n}")
        hydrated = len(sb.requests("plex", path=HYDRATION, method="GET"))
        check(hydrated == want["watchlist"],
              f"{hydrated} metadata hydrations for {want['watchlist']} watchlist items")
        Cw.assert_converged(cw.run())
        again = len(sb.requests("plex", path=HYDRATION, method="GET"))
        check(again == hydrated, f"the second run hydrates nothing ({again - hydrated} more)")


main(test)
