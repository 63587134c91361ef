"""tautulli -> crosswatch (local tracker) history. Tautulli's history holds the generated plays
plus sessions stopped early (below the 85 % threshold) and music; only the plays at the
threshold reach the local tracker, one per row. The second run plans nothing and asks
Tautulli for no metadata (the ids are cached in the kv store). Plays that later vanish from
Tautulli, while it claims totals it does not serve, remove nothing from the local tracker
(Tautulli's deletions are not observed, and that read is incomplete anyway)."""

import json
import os
from urllib.parse import parse_qs

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: tautulli-to-local
    source: tautulli
    target: local
    mode: one-way
    features:
      history: { add: true, remove: true, rewatches: true }
"""


def commands(sb, cmd):
    return [r for r in sb.requests("tautulli", path="^/api/v2$")
            if parse_qs(r["query"]).get("cmd") == [cmd]]


def test():
    require_plugins("tautulli", "crosswatch")
    with Sandbox(["tautulli"], generate="movies=40,shows=4,plays=60,ratings=0,watchlist=0,"
                                        "progress=0") as sb:
        state = sb.state("tautulli")
        rows = state["history"]
        check(len(rows) == 60, f"the fake's history has the 60 generated plays, has {len(rows)}")
        # Every fifth play was stopped early; one row is a song.
        for i, row in enumerate(rows):
            if i % 5 == 0:
                row["percent_complete"] = 40 if i % 10 else "12"
                row["watched_status"] = 0.5
        song = dict(rows[1], row_id=9001, reference_id=9001, id=9001, media_type="track",
                    rating_key=777777, percent_complete=100)
        rows.insert(0, song)
        sb.seed("tautulli", state)
        plays = sum(1 for r in rows if r["media_type"] in ("movie", "episode")
                    and float(r["percent_complete"]) >= 85)
        check(plays == 48, f"48 rows reach the threshold, {plays} do")

        cw = Cw()
        local = os.path.join(cw.dir, "local")
        providers = (sb.providers_yaml.rstrip() +
                     f"\n  local:\n    plugin: crosswatch\n    root: {local}\n")
        cw.write_config(providers, PAIRS)

        r1 = cw.run()
        added = Cw.planned(r1, "history", "adds")
        check(added == plays, f"the first run adds the {plays} plays at the threshold, "
                              f"planned {added}")
        with open(os.path.join(local, "history.json")) as f:
            stored = json.load(f)["items"]
        check(len(stored) == plays, f"the local tracker holds {plays} plays, has {len(stored)}")
        episodes = [i for i in stored if i["type"] == "episode"]
        check(episodes and all(e.get("show", {}).get("ids") for e in episodes),
              "episodes carry their show's ids")
        check(all(i.get("ids") or i.get("show") for i in stored), "every play has ids")
        looked_up = len(commands(sb, "get_metadata"))
        check(0 < looked_up <= plays, f"one metadata lookup per played item, {looked_up}")

        sb.clear_requests("tautulli")
        r2 = cw.run()
        Cw.assert_converged(r2)
        check(not commands(sb, "get_metadata"), "the second run asks for no metadata")
        check(commands(sb, "get_history"), "the second run reads the history again")

        state = sb.state("tautulli")
        state["history"] = state["history"][:20]
        state["records_total"] = state["records_filtered"] = len(rows)
        sb.seed("tautulli", state)
        Cw.assert_converged(cw.run())
        with open(os.path.join(local, "history.json")) as f:
            kept = len(json.load(f)["items"])
        check(kept == plays, f"the local tracker keeps its {plays} plays, has {kept}")


main(test)
