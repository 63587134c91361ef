"""Trakt sign-in and tokens through the real host:
- `cw auth login trakt` runs the device-code flow (auth_start/auth_poll): the code is shown,
  approved on the fake's stand-in for trakt.tv/activate, the token pair lands in cw's token
  store, and a run with no token in cw.yaml uses it;
- an access token that expired (7 days on the fake's clock) is renewed once with the
  single-use refresh token from cw.yaml; the rotated pair is stored, so the next run uses it
  and never sends the spent refresh token again."""

import os
import re
import subprocess
import time

from cw_e2e import Cw, Sandbox, _env, check, main, require_plugins

PAIRS = """pairs:
  - name: trakt-to-local
    source: trakt
    target: local
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
"""


def providers(sb, local, tokens=True):
    lines = [l for l in sb.providers_yaml.rstrip().splitlines()
             if tokens or not re.match(r"\s+(access|refresh)_token:", l)]
    return "\n".join(lines) + f"\n  local:\n    plugin: crosswatch\n    root: {local}\n"


def device_login(sb, cw):
    argv = [_env("CW_BIN"), "--plugin-dir", _env("CW_PLUGIN_DIR"), "--config", cw.config,
            "auth", "login", "trakt", "--non-interactive"]
    proc = subprocess.Popen(argv, cwd=cw.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    seen = ""
    code = None
    deadline = time.monotonic() + 60
    while code is None and time.monotonic() < deadline:
        ch = proc.stdout.read(1)
        if not ch:
            break
        seen += ch
        m = re.search(r"enter the code: ([A-Z0-9]+)\n", seen)
        if m:
            code = m.group(1)
    check(code is not None, f"cw auth login shows a user code: {seen[-300:]!r}")
    check("https://trakt.tv/activate" in seen, "and the page to enter it on")
    sb.control("trakt", "POST", "/__sandbox/oauth/approve", {"user_code": code})
    out, _ = proc.communicate(timeout=60)
    seen += out
    check(proc.returncode == 0, f"cw auth login exits 0, got {proc.returncode}: {seen[-400:]!r}")
    check("Logged in: trakt" in seen, f"it says so: {seen[-200:]!r}")
    return seen


def test():
    require_plugins("crosswatch", "trakt")
    with Sandbox(["trakt"], generate="movies=20,shows=2,plays=0,ratings=0,watchlist=5,"
                                     "progress=0") as sb:
        creds = sb.credentials("trakt")

        # 1. Device-code sign-in, then a run with no token in cw.yaml.
        cw = Cw()
        local = os.path.join(cw.dir, "local")
        cw.write_config(providers(sb, local, tokens=False), PAIRS)
        text = device_login(sb, cw)
        check(creds["access_token"] not in text, "no token is printed")
        issued = sb.state("trakt")["auth"]
        check(issued["access_token"] != creds["access_token"], "Trakt issued a new token")
        r = cw.run()
        check(Cw.planned(r, "watchlist", "adds") == 5, "the signed-in run reads the watchlist")
        used = {rq["headers"].get("Authorization") or rq["headers"].get("authorization")
                for rq in sb.requests("trakt", path="^/sync/")}
        check(used == {"Bearer " + issued["access_token"]},
              f"every request carries the signed-in token: {len(used)} tokens seen")
        _, status, _ = cw.command("auth", "status", "trakt")
        check("stored tokens: token" in status, f"cw auth status lists it: {status!r}")

        # 2. Configured tokens, expired on Trakt's clock: renewed once, the new pair kept.
        sb.seed("trakt", {**sb.state("trakt"), "auth": {**creds, "token_ttl_s": 604800}})
        cw2 = Cw()
        local2 = os.path.join(cw2.dir, "local")
        cw2.write_config(providers(sb, local2), PAIRS)
        sb.control("trakt", "POST", "/__sandbox/clock", {"advance_ms": 8 * 86400 * 1000})
        sb.clear_requests("trakt")
        r1 = cw2.run()
        check(Cw.planned(r1, "watchlist", "adds") == 5, "the run with an expired token works")
        refreshes = sb.requests("trakt", path="^/oauth/token$")
        check(len(refreshes) == 1 and refreshes[0]["status"] == 200,
              f"the token was renewed once: {[x['status'] for x in refreshes]}")
        rotated = sb.state("trakt")["auth"]
        check(rotated["refresh_token"] != creds["refresh_token"], "the refresh token rotated")
        sb.clear_requests("trakt")
        Cw.assert_converged(cw2.run())
        check(not sb.requests("trakt", path="^/oauth/token$"),
              "the next run uses the stored pair: no refresh, no spent refresh token sent")
        unauthorised = [x for x in sb.requests("trakt") if x["status"] == 401]
        check(not unauthorised, f"and no request is refused: {len(unauthorised)} got 401")


main(test)
