"""plex -> trakt, one way: watchlist, history, ratings and progress from a Plex server reach
an empty Trakt account, every write is settled (nothing unresolved or unknown), what Trakt
then holds matches what was planned, and the second run plans nothing. Skipped until the
plex plugin is built."""

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: plex-to-trakt
    source: plex
    target: trakt
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
      progress:  { add: true, update: true, remove: true }
"""

FEATURES = ("watchlist", "history", "ratings", "progress")


def test():
    require_plugins("plex", "trakt")
    with Sandbox(["plex", "trakt"],
                 generate="movies=40,shows=4,plays=60,ratings=10,watchlist=8,progress=4") as sb:
        # Trakt starts empty: the universe gave both services the same state.
        state = sb.state("trakt")
        for rows in ("watchlist", "history", "ratings", "playback"):
            state[rows] = []
        sb.seed("trakt", state)

        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: status {e['status']}: {e.get('errors')}")
            check(not e["outcomes"]["unresolved"] and not e["outcomes"]["unknown"],
                  f"{e['feature']}: every write is settled: {e['outcomes']} {e.get('unresolved')}")
        for feature in FEATURES:
            adds = Cw.planned(r1, feature, "adds")
            check(adds >= 1, f"the first run adds Plex's {feature} to Trakt, planned {adds}")

        after = sb.state("trakt")
        check(len(after["watchlist"]) == Cw.planned(r1, "watchlist", "adds"),
              f"Trakt's watchlist holds every added title ({len(after['watchlist'])})")
        check(len(after["ratings"]) == Cw.planned(r1, "ratings", "adds"),
              f"Trakt holds every added rating ({len(after['ratings'])})")
        check(all(1 <= r["rating"] <= 10 and isinstance(r["rating"], int)
                  for r in after["ratings"]), "ratings are integers 1-10 on Trakt")
        check(len(after["history"]) >= Cw.planned(r1, "history", "adds"),
              f"Trakt holds the plays ({len(after['history'])})")
        check(all(h["watched_at"].endswith(":00.000Z") for h in after["history"]),
              "plays are kept to the minute")
        check(len(after["playback"]) == Cw.planned(r1, "progress", "adds"),
              f"Trakt holds every paused item ({len(after['playback'])})")
        check(all(0 < p["progress"] < 100 for p in after["playback"]),
              "progress is a percentage strictly between 0 and 100")

        Cw.assert_converged(cw.run())


main(test)
