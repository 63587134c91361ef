"""plex -> mdblist, one-way watchlist: the Plex watchlist reaches MDBList, and the second
run plans nothing."""

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: plex-to-mdblist
    source: plex
    target: mdblist
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
"""


def test():
    require_plugins("plex", "mdblist")
    with Sandbox(["plex", "mdblist"], generate="movies=30,shows=4,watchlist=8") as sb:
        # MDBList starts with an empty watchlist (the universe gave both sides the same one).
        state = sb.state("mdblist")
        state["watchlist"] = []
        sb.seed("mdblist", state)
        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        adds = Cw.planned(r1, "watchlist", "adds")
        check(adds >= 1, f"the first run adds the Plex watchlist, planned {adds}")
        check(len(sb.state("mdblist")["watchlist"]) == adds, "MDBList holds every added title")
        entry = [e for e in r1["pairs"] if e["feature"] == "watchlist"][0]
        check(entry["status"] == "ok", f"the pair ran: {entry}")
        check(not entry["outcomes"]["unresolved"] and not entry["outcomes"]["unknown"],
              f"every add is settled: {entry['outcomes']}")
        Cw.assert_converged(cw.run())


main(test)
