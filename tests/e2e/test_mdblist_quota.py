"""crosswatch -> mdblist when MDBList's daily request quota is spent: the adds are reported
unresolved with reason `quota` (never confirmed, never a crash); once the quota is back, the
next run adds them and the one after plans nothing."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-mdblist
    source: local
    target: mdblist
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
"""


def test():
    require_plugins("crosswatch", "mdblist")
    with Sandbox(["mdblist"], generate="movies=10,watchlist=0") as sb:
        state = sb.state("mdblist")
        # Two requests a day: health (GET /user) and the watchlist read; the add is the third.
        state["options"] = {"daily_limit": 2}
        sb.seed("mdblist", state)
        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        items = [{"type": "movie", "title": m["title"], "year": m["year"],
                  "ids": {k: str(v) for k, v in m["ids"].items()}}
                 for m in state["catalog"]["movies"][:3]]
        with open(os.path.join(local, "watchlist.json"), "w") as f:
            json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                       "updated_at": "2026-01-01T00:00:00.000Z", "count": 3, "items": items}, f)
        cw.write_config(sb.providers_yaml.rstrip() +
                        f"\n  local:\n    plugin: crosswatch\n    root: {local}\n", PAIRS)

        r1 = cw.run(expect_rc=None)
        entry = [e for e in r1["pairs"] if e["feature"] == "watchlist"][0]
        reasons = [u.get("reason") for u in entry["unresolved"]]
        check(reasons == ["quota"] * 3, f"every add is unresolved for the quota: {reasons}")
        check(entry["outcomes"]["confirmed"] == 0, "nothing is confirmed")
        check(not sb.state("mdblist")["watchlist"], "MDBList's watchlist is untouched")

        # A new day: the quota is back.
        state = sb.state("mdblist")
        state["options"] = {"daily_limit": 1000}
        sb.seed("mdblist", state)
        r2 = cw.run(expect_rc=None)
        entry = [e for e in r2["pairs"] if e["feature"] == "watchlist"][0]
        check(entry["outcomes"]["confirmed"] == 3, f"the adds go through: {entry['outcomes']}")
        check(len(sb.state("mdblist")["watchlist"]) == 3, "MDBList holds the 3 titles")
        Cw.assert_converged(cw.run())


main(test)
