"""Webhooks through `cw serve` to MDBList (cw-sandbox) as a scrobble sink.

MDBList has no now-playing and no scrobble start or stop: the plugin keeps resume points
with POST /scrobble/pause and makes a stop the host counts as watched a play on
POST /sync/watched at the event's time. A Jellyfin stop at 95 % makes exactly one play even
though MDBList's first answer to it is lost (the play lands, the reply is a 502, and the
host's queue sends it again: MDBList finds that play "existing"); a pause and a stop at 30 %
keep resume points and make no play."""

import json
import os
import time
import urllib.error
import urllib.request

from cw_e2e import Cw, Sandbox, check, main, require_plugins
from serve_support import Serve

SECRET = "e2e-hook-secret"


def post(url, body):
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def jellyfin_event(kind, movie, i, percent, paused=False, completed=False):
    ids = movie["ids"]
    return json.dumps({
        "NotificationType": kind, "NotificationUsername": "alice", "ItemType": "Movie",
        "ItemId": f"item{i}", "Name": movie.get("title", ""), "Year": movie.get("year"),
        "Provider_imdb": ids.get("imdb", ""), "Provider_tmdb": str(ids.get("tmdb", "")),
        "PlaybackPositionTicks": percent * 10**9, "RunTimeTicks": 100 * 10**9,
        "IsPaused": paused, "PlayedToCompletion": completed, "DeviceId": f"dev{i}"})


def test():
    require_plugins("mdblist")
    with Sandbox(["mdblist"], generate="movies=5,shows=0,plays=0,ratings=0,watchlist=0,"
                                       "progress=0") as sb:
        state = sb.state("mdblist")
        movies = [m for m in state["catalog"]["movies"] if m.get("ids", {}).get("imdb")][:3]
        check(len(movies) == 3, f"three movies with imdb ids: {movies}")
        state["plays"], state["playback"] = [], []
        sb.seed("mdblist", state)

        cw = Cw()
        cw.write_config(sb.providers_yaml, "pairs: []",
                        extra=("scrobble:\n  sinks: [mdblist]\n  webhooks:\n"
                               "    jellyfin: {secret: \"${env:CW_E2E_HOOK}\"}\n"))
        serve = Serve(cw.dir, "--plugin-dir", os.environ["CW_PLUGIN_DIR"],
                      env={"CW_E2E_HOOK": SECRET})
        hook = f"{serve.url}/webhook/jellyfin?token={SECRET}"
        try:
            # The first play lands and its answer is lost.
            sb.fault("mdblist", {"endpoint": "^/sync/watched$", "method": "POST",
                                 "status": 502, "count": 1, "after_handling": True})
            sent = [post(hook, jellyfin_event("PlaybackStart", movies[0], 0, 1)),
                    post(hook, jellyfin_event("PlaybackStop", movies[0], 0, 95, completed=True)),
                    post(hook, jellyfin_event("PlaybackProgress", movies[1], 1, 40, paused=True)),
                    post(hook, jellyfin_event("PlaybackStop", movies[2], 2, 30))]
            check(all(code == 202 for code in sent), f"every event queued: {sent}")
            deadline = time.monotonic() + 120
            stats = {}
            while time.monotonic() < deadline:
                stats = serve.get_json("/api/status")["scrobble"]["stats"]
                delivered = stats["sinks"].get("mdblist", {}).get("delivered", 0)
                if stats["queued"] == 0 and delivered >= 4:
                    break
                time.sleep(0.2)
            check(stats["queued"] == 0, f"the queue drained: {stats}")
            after = sb.state("mdblist")
            imdb = movies[0]["ids"]["imdb"]
            plays = [p for p in after["plays"] if p.get("ids", {}).get("imdb") == imdb]
            check(len(plays) == 1, f"one play of the watched movie, not {len(plays)}: {after['plays']}")
            check(len(after["plays"]) == 1, f"no other play: {after['plays']}")
            points = {p.get("movie", {}).get("ids", {}).get("imdb"): p.get("progress")
                      for p in after["playback"]}
            check(abs(points.get(movies[1]["ids"]["imdb"], -1) - 40) < 0.5,
                  f"the pause kept its resume point: {after['playback']}")
            check(abs(points.get(movies[2]["ids"]["imdb"], -1) - 30) < 0.5,
                  f"the unwatched stop kept its resume point: {after['playback']}")
            posts = sb.requests("mdblist", path="^/sync/watched$", method="POST")
            check(len(posts) == 2 and posts[0]["status"] == 502,
                  f"the lost reply was resent once: {[r['status'] for r in posts]}")
        finally:
            code, _, err = serve.stop()
        check(code == 0, f"cw serve exits 0 on SIGTERM, got {code}: {err[-400:]}")


if __name__ == "__main__":
    main(test)
