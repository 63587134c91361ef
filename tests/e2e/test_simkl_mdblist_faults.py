"""crosswatch -> simkl and crosswatch -> mdblist watchlists under the fakes' faults: 429 with
Retry-After is survived (the host retries), a capped MDBList page gives an incomplete index
that neither re-adds nor removes anything, and a malformed SIMKL reply fails that read
cleanly (nothing planned from it) and the next run is converged again."""

import json
import os

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: local-to-simkl
    source: local
    target: simkl
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
  - name: local-to-mdblist
    source: local
    target: mdblist
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
"""


def test():
    require_plugins("crosswatch", "simkl", "mdblist")
    with Sandbox(["simkl", "mdblist"],
                 generate="movies=20,shows=2,plays=0,ratings=0,watchlist=0,progress=0") as sb:
        movies = sb.state("mdblist")["catalog"]["movies"][:4]
        items = [{"type": "movie", "title": m["title"], "year": m["year"],
                  "ids": {k: str(v) for k, v in m["ids"].items() if k in ("imdb", "tmdb")}}
                 for m in movies]
        cw = Cw()
        local = os.path.join(cw.dir, "local")
        os.makedirs(local)
        with open(os.path.join(local, "watchlist.json"), "w") as f:
            json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                       "updated_at": "2026-01-01T00:00:00.000Z", "count": len(items),
                       "items": items}, f)
        cw.write_config(sb.providers_yaml.rstrip() +
                        f"\n  local:\n    plugin: crosswatch\n    root: {local}\n", PAIRS)

        # 429 + Retry-After on the first reads: retried by the host, the run succeeds.
        sb.fault("simkl", {"endpoint": "^/sync/all-items", "count": 1, "status": 429,
                           "retry_after_s": 1})
        sb.fault("mdblist", {"endpoint": "^/watchlist/items$", "count": 1, "status": 429,
                             "retry_after_s": 1})
        r1 = cw.run()
        for pair in ("local-to-simkl", "local-to-mdblist"):
            entry = [e for e in r1["pairs"] if e["pair"] == pair][0]
            check(entry["outcomes"]["confirmed"] == 4, f"{pair}: 4 adds confirmed: {entry}")
        Cw.assert_converged(cw.run())

        # MDBList pages silently capped: the index is incomplete; nothing is re-added.
        sb.fault("mdblist", {"endpoint": "^/watchlist/items$", "count": -1, "page_cap": 1})
        r3 = cw.run(expect_rc=None)
        check(sb.requests("mdblist", path="^/watchlist/items$"), "MDBList's watchlist was read")
        Cw.assert_converged(r3)
        sb.clear_faults("mdblist")

        # A malformed SIMKL reply: that read fails, nothing is planned from it.
        sb.fault("simkl", {"endpoint": "^/sync/activities", "count": -1, "malformed_body": True})
        r4 = cw.run(expect_rc=None)
        entry = [e for e in r4["pairs"] if e["pair"] == "local-to-simkl"][0]
        check(entry["status"] != "ok" or entry["errors"], f"the SIMKL read failed: {entry}")
        check(not any(entry["planned"].get(k) for k in ("adds", "removes", "updates")),
              f"nothing planned from a failed read: {entry['planned']}")
        sb.clear_faults("simkl")
        Cw.assert_converged(cw.run())


main(test)
