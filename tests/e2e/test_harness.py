"""The harness itself: cw-sandbox starts and answers its control API, faults act and are
logged, and cw runs a pair of local trackers to convergence from a scratch folder."""

import os

from cw_e2e import Cw, Sandbox, check, main

DEMO_LIBRARY = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "demo", "library")

PROVIDERS = f"""providers:
  library:
    plugin: crosswatch
    root: {os.path.abspath(DEMO_LIBRARY)}
    read_only: true
  mirror:
    plugin: crosswatch
    root: mirror
"""

PAIRS = """pairs:
  - name: library-to-mirror
    source: library
    target: mirror
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      ratings:   { add: true, update: true, remove: true }
"""


def test():
    with Sandbox(["trakt"], generate="movies=5,watchlist=2") as sb:
        check("plugin: trakt" in sb.providers_yaml, "the providers snippet names the plugin")
        check(sb.base_url("trakt").startswith("http://127.0.0.1:"), "the fake is on loopback")
        check(sb.credentials("trakt").get("client_id"), "credentials are published")
        sb.fault("trakt", {"endpoint": "^/sync/watchlist", "status": 503, "count": 1})
        check(len(sb.control("trakt", "GET", "/__sandbox/faults")) == 1, "the fault is listed")
        sb.clear_faults("trakt")
        check(sb.state("trakt") is not None, "state is readable")

    cw = Cw()
    cw.write_config(PROVIDERS, PAIRS)
    first = cw.run()
    check(Cw.planned(first, "watchlist", "adds") > 0, "the first run adds the watchlist")
    Cw.assert_converged(cw.run())


main(test)
