"""crosswatch -> mdblist, one-way watchlist: the local titles reach MDBList with exact
outcomes, a local removal is removed on MDBList, and every run after that plans nothing."""

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


def write_store(folder, items):
    with open(os.path.join(folder, "watchlist.json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                   "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                   "items": items}, f)


def on_watchlist(sb):
    return {json.dumps(w["ids"], sort_keys=True) for w in sb.state("mdblist")["watchlist"]}


def test():
    require_plugins("crosswatch", "mdblist")
    with Sandbox(["mdblist"], generate="movies=30,shows=4,watchlist=3") as sb:
        state = sb.state("mdblist")
        listed = on_watchlist(sb)
        fresh = [m for m in state["catalog"]["movies"]
                 if json.dumps(m["ids"], sort_keys=True) not in listed][:5]
        fresh += [s for s in state["catalog"]["shows"]
                  if json.dumps(s["ids"], sort_keys=True) not in listed][:1]
        check(len(fresh) == 6, "the catalog has titles off the watchlist")
        items = [{"type": "show" if "seasons" in m else "movie", "title": m["title"],
                  "year": m["year"], "ids": {k: str(v) for k, v in m["ids"].items()}}
                 for m in fresh]

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        write_store(local, items)
        providers = sb.providers_yaml.rstrip() + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        adds = Cw.planned(r1, "watchlist", "adds")
        check(adds == 6, f"the first run adds the 6 local titles to MDBList, planned {adds}")
        entry = [e for e in r1["pairs"] if e["feature"] == "watchlist"][0]
        check(entry["outcomes"]["confirmed"] == 6,
              f"MDBList's counts confirm all 6: {entry['outcomes']}")
        check(len(sb.state("mdblist")["watchlist"]) == 3 + 6, "MDBList holds 9 titles")
        Cw.assert_converged(cw.run())

        # A local removal is removed on MDBList.
        write_store(local, items[1:])
        r3 = cw.run()
        check(Cw.planned(r3, "watchlist", "removes") == 1, "the local removal reaches MDBList")
        check(len(sb.state("mdblist")["watchlist"]) == 3 + 5, "MDBList holds 8 titles")
        Cw.assert_converged(cw.run())


main(test)
