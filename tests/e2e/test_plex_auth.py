"""`cw auth login plex`: the plex.tv PIN flow through the real host. With no token in
cw.yaml, the login shows a code for plex.tv/link; once it is linked (the fake's stand-in for
the user), the account token is stored, the server's own token is found in plex.tv's
resources, and a run with no token in cw.yaml reads the library with the server token and the
watchlist with the account token."""

import os
import re
import subprocess
import time

from cw_e2e import Cw, Sandbox, _env, check, main, require_plugins

PAIRS = """pairs:
  - name: plex-to-local
    source: plex
    target: local
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true, remove: true }
"""


def providers(sb, local):
    lines = [l for l in sb.providers_yaml.rstrip().splitlines()
             if not re.match(r"\s+(token|account_token):", l)]
    return "\n".join(lines) + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"


def pin_login(sb, cw):
    argv = [_env("CW_BIN"), "--plugin-dir", _env("CW_PLUGIN_DIR"), "--config", cw.config,
            "auth", "login", "plex", "--non-interactive"]
    proc = subprocess.Popen(argv, cwd=cw.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    seen = ""
    deadline = time.monotonic() + 60
    while "plex.tv/link" not in seen and time.monotonic() < deadline:
        ch = proc.stdout.read(1)
        if not ch:
            break
        seen += ch
    check("plex.tv/link" in seen, f"cw auth login names plex.tv/link: {seen[-300:]!r}")
    # The fake numbers PINs from 1934466201; link the one this login created.
    linked = False
    for pin in range(1934466201, 1934466211):
        try:
            sb.control("plex", "POST", f"/__sandbox/plex/pins/{pin}/link", {"account_id": 1})
            linked = True
            break
        except Exception:  # 404: no such pin
            continue
    check(linked, "the PIN was linked on the fake")
    out, _ = proc.communicate(timeout=60)
    seen += out
    check(proc.returncode == 0, f"cw auth login exits 0, got {proc.returncode}: {seen[-400:]!r}")
    return seen


def test():
    require_plugins("plex", "crosswatch")
    with Sandbox(["plex"], generate="movies=20,shows=2,plays=20,ratings=0,watchlist=4,"
                                    "progress=0") as sb:
        creds = sb.credentials("plex")
        cw = Cw()
        cw.write_config(providers(sb, os.path.join(cw.dir, "local")), PAIRS)
        text = pin_login(sb, cw)
        check(creds["account_token"] not in text and creds["pms_token"] not in text,
              "no token is printed")
        pins = sb.requests("plex", path="^/api/v2/pins$", method="POST")
        check(len(pins) == 1 and pins[0]["headers"].get("x-plex-client-identifier"),
              "one PIN was asked for, with a client identifier")
        check(sb.requests("plex", path="^/api/v2/resources$"), "the server was found in resources")

        sb.clear_requests("plex")
        r = cw.run()
        check(Cw.planned(r, "watchlist", "adds") == 4, "the signed-in run reads the watchlist")
        check(Cw.planned(r, "history", "adds") > 0, "and the library")
        library = {q["headers"].get("x-plex-token") for q in sb.requests("plex", path="^/library/sections")
                   if not q["path"].startswith("/library/sections/watchlist")}
        check(library == {creds["pms_token"]}, f"the library is read with the server token: {library}")
        watchlist = {q["headers"].get("x-plex-token")
                     for q in sb.requests("plex", path="^/library/sections/watchlist")}
        check(watchlist == {creds["account_token"]},
              f"the watchlist with the account token: {watchlist}")
        Cw.assert_converged(cw.run())


main(test)
