"""Webhooks through `cw serve` to Trakt (cw-sandbox), under load and with Trakt down.

A bounded soak: EVENTS Jellyfin "playback stopped at 95 %" webhooks, one per movie, sent at
RATE per second to /webhook/jellyfin while Trakt's scrobble endpoint answers 503 for DOWN_S
seconds, and, all along, fails 10 % of the writes: every 20th is refused (503) and every 19th
lands but its answer is lost (502 after the play was recorded, the case that makes a careless
client post a play twice). Every event is accepted (202) and queued durably; the queue drains
in order: Trakt ends with exactly one play per movie (none lost, none twice), and cw serve's
memory stays flat while the queue fills and drains. Malformed and unauthenticated webhooks
are answered 4xx and store nothing.

CTest runs it scaled down (30 events at 200/s, Trakt down 2 s); `make soak` runs the issue's
size: CW_SOAK_EVENTS=10000 CW_SOAK_RATE=200 CW_SOAK_DOWN_S=60. Delivery is paced by Trakt's
write limit, one request per second: the plugin's manifest says so and the fake's
X-Ratelimit headers say so too (cw believes the service's headers over its configuration),
so the full soak takes about three hours to drain."""

import collections
import json
import os
import threading
import time
import urllib.error
import urllib.request

from cw_e2e import Cw, Sandbox, check, main, require_plugins
from serve_support import Serve

EVENTS = int(os.environ.get("CW_SOAK_EVENTS", "30"))
RATE = float(os.environ.get("CW_SOAK_RATE", "200"))
DOWN_S = float(os.environ.get("CW_SOAK_DOWN_S", "2"))
# 10 % of Trakt's scrobble writes fail for the whole soak: refused, or landed with the reply lost.
FLAKY = [{"endpoint": "^/scrobble/", "method": "POST", "status": 503, "every": 20},
         {"endpoint": "^/scrobble/", "method": "POST", "status": 502, "every": 19,
          "after_handling": True}]
# cw serve's RSS may grow this much from a quarter of the plays delivered to the end: a queue
# kept in memory would grow with the events (10,000 at a few KiB each), a durable one does not.
FLAT_KIB = 16 * 1024
SECRET = "e2e-hook-secret"


def post(url, body, content_type="application/json"):
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def jellyfin_stop(movie, i):
    ids = movie["ids"]
    return json.dumps({
        "NotificationType": "PlaybackStop", "NotificationUsername": "alice",
        "ItemType": "Movie", "ItemId": f"item{i}", "Name": movie["title"],
        "Year": movie.get("year"), "Provider_imdb": ids.get("imdb", ""),
        "Provider_tmdb": str(ids.get("tmdb", "")), "PlaybackPositionTicks": 95 * 10**9,
        "RunTimeTicks": 100 * 10**9, "PlayedToCompletion": True, "DeviceId": f"dev{i}"})


def test():
    require_plugins("trakt")
    movies_n = max(EVENTS, 20)
    with Sandbox(["trakt"], generate=f"movies={movies_n},shows=0,plays=0,ratings=0,"
                                     f"watchlist={movies_n},progress=0") as sb:
        state = sb.state("trakt")
        movies = [row["movie"] for row in state["watchlist"] if "movie" in row][:EVENTS]
        check(len(movies) == EVENTS, f"the universe has {EVENTS} movies, has {len(movies)}")
        state["history"] = []
        sb.seed("trakt", state)

        cw = Cw()
        cw.write_config(sb.providers_yaml, "pairs: []",
                        extra=("scrobble:\n  sinks: [trakt]\n  webhooks:\n"
                               "    jellyfin: {secret: \"${env:CW_E2E_HOOK}\"}\n"))
        # Under AddressSanitizer freed memory sits in a quarantine of up to 256 MiB, which
        # would read as growth: a small one keeps the memory check about cw's own memory.
        asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=4")
                        if o)
        serve = Serve(cw.dir, "--plugin-dir", os.environ["CW_PLUGIN_DIR"],
                      env={"CW_E2E_HOOK": SECRET, "ASAN_OPTIONS": asan})
        hook = f"{serve.url}/webhook/jellyfin?token={SECRET}"
        try:
            # Refused, nothing stored: no secret, a wrong one, malformed, oversized.
            check(post(f"{serve.url}/webhook/jellyfin", jellyfin_stop(movies[0], 0)) == 401,
                  "no secret: 401")
            check(post(hook.replace(SECRET, "wrong"), jellyfin_stop(movies[0], 0)) == 401,
                  "a wrong secret: 401")
            check(post(hook, "{not json") == 400, "malformed JSON: 400")
            check(post(hook, "x" * (5 * 1024 * 1024)) == 413, "over 4 MiB: 413")
            check(serve.get_json("/api/status")["scrobble"]["stats"]["queued"] == 0,
                  "nothing was queued by the refused requests")

            def rss_kib():
                with open(f"/proc/{serve.proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            return int(line.split()[1])
                return 0

            sb.fault("trakt", {"endpoint": "^/scrobble/", "method": "POST", "status": 503,
                               "count": -1})
            for spec in FLAKY:
                sb.fault("trakt", spec)
            rss = {}
            statuses = collections.Counter()
            lock = threading.Lock()

            def send(i):
                code = post(hook, jellyfin_stop(movies[i], i))
                with lock:
                    statuses[code] += 1

            start = time.monotonic()
            threads = []
            cleared = False
            for i in range(EVENTS):
                delay = start + i / RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if not cleared and time.monotonic() - start >= DOWN_S:
                    sb.clear_faults("trakt")
                    for spec in FLAKY:
                        sb.fault("trakt", spec)
                    cleared = True

                t = threading.Thread(target=send, args=(i,))
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
            sent_s = time.monotonic() - start
            if not cleared:
                time.sleep(max(0.0, DOWN_S - sent_s))
                sb.clear_faults("trakt")
                for spec in FLAKY:
                    sb.fault("trakt", spec)
            check(statuses == {202: EVENTS} or set(statuses) <= {200, 202},
                  f"every event accepted: {dict(statuses)}")

            # Trakt's write limit (one per second, from its manifest) paces the delivery.
            # One write a second, and each failed write holds the queue (in order) for its
            # back-off, 1 s or more.
            deadline = time.monotonic() + max(120, EVENTS * 1.75 + 2 * DOWN_S + 60)
            stats = {}
            rss["peak"] = 0
            while time.monotonic() < deadline:
                stats = serve.get_json("/api/status")["scrobble"]["stats"]
                # From a quarter of the plays delivered (the delivery path warm) to the end.
                if "quarter" in rss:
                    rss["peak"] = max(rss["peak"], rss_kib())
                elif stats["sinks"]["trakt"]["delivered"] >= EVENTS // 4:
                    rss["quarter"] = rss["peak"] = rss_kib()
                if stats["queued"] == 0 and stats["sinks"]["trakt"]["delivered"] >= EVENTS:
                    break
                time.sleep(0.2)
            drained_s = time.monotonic() - start
            check(stats["queued"] == 0, f"the queue drained: {stats}")
            plays = collections.Counter(json.dumps(h["movie"]["ids"], sort_keys=True)
                                        for h in sb.state("trakt")["history"])
            dupes = [k for k, n in plays.items() if n > 1]
            check(not dupes, f"no play twice on Trakt: {dupes[:3]}")
            check(len(plays) == EVENTS, f"every play reached Trakt: {len(plays)} of {EVENTS}")
            failed = [r for r in sb.requests("trakt") if r["path"].startswith("/scrobble/")
                      and r["status"] in (502, 503)]
            check(EVENTS < 20 or len(failed) > 0, "the flaky Trakt did fail some writes")
            check(rss["peak"] - rss.get("quarter", rss["peak"]) <= FLAT_KIB,
                  f"memory flat: RSS {rss.get('quarter')} KiB when a quarter of the plays were "
                  f"delivered, peak {rss['peak']} KiB until the queue was empty")
            metrics = urllib.request.urlopen(serve.url + "/metrics", timeout=30).read().decode()
            check('cw_scrobble_deliveries_total{sink="trakt"}' in metrics, "scrobble metrics")
            check(SECRET not in metrics and SECRET not in json.dumps(
                serve.get_json("/api/status")), "the webhook secret is in no reply")
            with open(f"/proc/{serve.proc.pid}/status") as f:
                memory = {l.split(":")[0]: l.split(":")[1].strip() for l in f if l.startswith("Vm")}
        finally:
            code, _, err = serve.stop()
        check(code == 0, f"cw serve exits 0 on SIGTERM, got {code}: {err[-400:]}")
        check(SECRET not in err, "the webhook secret is not in the log")
        print(f"soak: {EVENTS} events at {RATE:g}/s sent in {sent_s:.1f} s, Trakt down "
              f"{DOWN_S:g} s and failing {len(failed)} scrobble writes, all delivered once "
              f"after {drained_s:.1f} s; cw serve RSS {rss.get('quarter')} KiB at a quarter delivered, "
              f"peak {rss['peak']} KiB while draining, VmHWM {memory.get('VmHWM')}")


if __name__ == "__main__":
    main(test)
