"""plex under the fake's faults, through the real host: 429 with Retry-After and short 5xx
bursts are survived (the host retries; the result equals a clean read); pages capped below the
asked size still read everything; a persistent 5xx, a malformed or a truncated page fails that
feature's read, so nothing is planned from it and nothing is removed from the target; an
expired token is an auth failure, not an empty library."""
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
"""


def entry(report, feature):
    for e in report["pairs"]:
        if e["feature"] == feature:
            return e
    raise AssertionError(f"no {feature} in the report")


def test():
    require_plugins("plex", "crosswatch")
    with Sandbox(["plex"], generate="movies=40,shows=4,plays=60,ratings=10,watchlist=8,"
                                    "progress=0") as sb:
        root = tempfile.mkdtemp(prefix="cw-plex-faults-")
        providers = (sb.providers_yaml.rstrip("\n") +
                     f"\n  local:\n    plugin: crosswatch\n    root: {root}\n")

        # Transient trouble and small pages on the first run: it still copies everything.
        sb.fault("plex", [{"endpoint": "^/library/sections/1/all", "count": 2, "status": 429,
                           "retry_after_s": 1},
                          {"endpoint": "^/library/sections/2/all", "count": 2, "status": 503},
                          {"endpoint": "^/library/sections/watchlist/", "count": 1, "status": 502},
                          {"endpoint": "^/library/sections/[12]/all", "count": -1, "page_cap": 7}])
        cw = Cw()
        cw.write_config(providers, PAIRS)
        r1 = cw.run()
        for e in r1["pairs"]:
            check(e["status"] == "ok", f"{e['feature']}: {e['status']} {e.get('errors')}")
        clean = {f: Cw.planned(r1, f, "adds") for f in ("watchlist", "history", "ratings")}
        check(clean["watchlist"] == 8 and clean["history"] > 0 and clean["ratings"] > 0,
              f"every feature copied: {clean}")
        retried = [q for q in sb.requests("plex", path="^/library/sections/1/all") if q["status"] == 429]
        check(len(retried) == 2, f"the 429s were answered and retried: {len(retried)}")
        sb.clear_faults("plex")
        Cw.assert_converged(cw.run())

        # Broken reads: the feature fails, nothing is planned, the target keeps everything.
        for spec in ({"endpoint": "^/library/sections/2/all", "count": -1, "status": 500},
                     {"endpoint": "^/library/sections/1/all", "count": -1, "malformed_body": True},
                     {"endpoint": "^/library/sections/1/all", "count": -1, "truncate_body": True}):
            sb.fault("plex", spec)
            r = cw.run(expect_rc=None)
            for feature in ("history", "ratings"):
                e = entry(r, feature)
                check(e["status"] != "ok", f"{spec}: {feature} is not ok ({e['status']})")
                check(Cw.planned(r, feature, "removes") == 0, f"{spec}: no {feature} removal")
            check(entry(r, "watchlist")["status"] == "ok", "the watchlist is unaffected")
            sb.clear_faults("plex")
        Cw.assert_converged(cw.run())

        # An expired token: an auth failure for the pair, nothing removed.
        sb.fault("plex", {"count": -1, "expire_token": True})
        r = cw.run(expect_rc=None)
        for e in r["pairs"]:
            check(e["status"] != "ok", f"{e['feature']} fails with the token expired")
            check(not e["planned"].get("removes"), f"{e['feature']}: nothing removed")
        sb.clear_faults("plex")
        Cw.assert_converged(cw.run())


main(test)
