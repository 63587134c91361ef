"""trakt <-> simkl, two-way watchlist: titles only on Trakt reach SIMKL's Plan to Watch and
titles only on SIMKL reach Trakt; a removal on SIMKL reaches Trakt; every run after that
plans nothing."""

import json

from cw_e2e import Cw, Sandbox, check, main, require_plugins

PAIRS = """pairs:
  - name: trakt-simkl
    source: trakt
    target: simkl
    mode: two-way
    features:
      watchlist: { add: true, remove: true }
"""


def simkl_call(sb, path, body):
    """A request to the SIMKL fake as another SIMKL app of the user would send it."""
    import urllib.request
    creds = sb.credentials("simkl")
    req = urllib.request.Request(sb.base_url("simkl") + path, method="POST",
                                 data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("simkl-api-key", creds["client_id"])
    req.add_header("Authorization", "Bearer " + creds["access_token"])
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def plantowatch(state):
    out = []
    for bucket in ("movies", "shows", "anime"):
        for row in state["library"].get(bucket, []):
            if row.get("status") == "plantowatch":
                out.append(("movies" if bucket == "movies" else "shows",
                            row.get("movie") or row.get("show")))
    return out


def test():
    require_plugins("trakt", "simkl")
    with Sandbox(["trakt", "simkl"], generate="movies=30,shows=4,plays=0,ratings=0,progress=0,watchlist=8") as sb:
        state = sb.state("simkl")
        listed = plantowatch(state)
        n = len(listed)
        check(n >= 3, f"SIMKL starts with Plan to Watch titles, got {n}")
        # SIMKL loses two of them (they come back from Trakt) ...
        dropped = {json.dumps(m["ids"], sort_keys=True) for _, m in listed[:2]}
        for bucket in ("movies", "shows", "anime"):
            state["library"][bucket] = [
                r for r in state["library"].get(bucket, [])
                if json.dumps((r.get("movie") or r.get("show"))["ids"], sort_keys=True) not in dropped]
        sb.seed("simkl", state)
        # ... and gains two that Trakt does not have (they go to Trakt).
        in_library = {json.dumps(r["movie"]["ids"], sort_keys=True)
                      for r in state["library"].get("movies", [])}
        extra = [m for m in state["catalog"]["movies"]
                 if json.dumps(m["ids"], sort_keys=True) not in in_library
                 and json.dumps(m["ids"], sort_keys=True) not in dropped][:2]
        simkl_call(sb, "/sync/add-to-list",
                   {"movies": [{"to": "plantowatch", "ids": m["ids"]} for m in extra]})
        check(len(plantowatch(sb.state("simkl"))) == n, "SIMKL holds n titles before the run")

        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        adds = Cw.planned(r1, "watchlist", "adds")
        # Trakt has 8; SIMKL gets the 8 minus what it already had (n - 2), Trakt gets the 2.
        check(adds == (8 - (n - 2)) + 2, f"the first run adds both ways, planned {adds} (n={n})")
        check(len(plantowatch(sb.state("simkl"))) == 10, "SIMKL's Plan to Watch holds the union")
        Cw.assert_converged(cw.run())

        bucket, gone = plantowatch(sb.state("simkl"))[0]
        simkl_call(sb, "/sync/history/remove", {bucket: [{"ids": gone["ids"]}]})
        r3 = cw.run()
        removes = Cw.planned(r3, "watchlist", "removes")
        check(removes == 1, f"the SIMKL removal reaches Trakt, planned {removes}")
        Cw.assert_converged(cw.run())


main(test)
