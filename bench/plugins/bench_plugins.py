#!/usr/bin/env python3
"""The real plugins against cw-sandbox, with latency added to every request.

usage: bench_plugins.py --build BUILD_DIR [--movies N] [--only reads|trakt]

One generated universe, N movies (default 100,000) and N/20 shows of 2 seasons x 8 episodes,
with N/5 plays, N/50 ratings and N/200 watchlist entries, seeds every fake.

reads (issue 15): a full read of the Plex library (the history feature reads every row of
  every section) and of the Jellyfin library (the ratings feature reads every movie, series
  and episode), each with 5 ms added to every request, through `cw plan` of a one-way pair
  into an empty local tracker. Requests made vs the paging minimum, wall time of the cw
  process vs requests x latency, peak RSS of the cw process.
trakt (issue 11): plex -> trakt (watchlist, history, ratings) with Trakt's real limits
  (500 GET per 5 minutes, 1 write per second) and 20 ms added to every request: a run with
  nothing to do (requests per provider vs the minimum), then N/100 new plays in Plex
  (writes and their wall time vs what 1 write per second and the history chunk size allow,
  and no duplicate play on Trakt).

Prints one block per measurement; the set-up (sandbox start, the first run that fills the
state) is not timed.
"""
import argparse
import collections
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PLEX_PAGE = 100  # the plugins' default page sizes, written into the configuration
JELLYFIN_PAGE = 200
TRAKT_PAGE = 100
SEASONS, EPISODES = 2, 8


def http(method, url, body=None, headers=None, timeout=300):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"bench_plugins: {method} {url}: HTTP {e.code}: {e.read()[:300]!r}")
    return json.loads(raw) if raw else None


class Sandbox:
    """cw-sandbox with the given services and a generated universe, until stop()."""

    def __init__(self, binary, services, generate):
        self.dir = tempfile.mkdtemp(prefix="cw-bench-sandbox-")
        info = os.path.join(self.dir, "info.json")
        yaml = os.path.join(self.dir, "providers.yaml")
        self.log = open(os.path.join(self.dir, "sandbox.log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "--services", ",".join(services), "--generate", generate, "--info", info,
             "--yaml", yaml], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600  # generating and seeding 100k titles takes a while
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"bench_plugins: cw-sandbox exited: {self.log.read()[-500:]}")
            if os.path.exists(info) and os.path.exists(yaml):
                try:
                    with open(info) as f:
                        self.info = json.load(f)
                    break
                except ValueError:
                    pass  # not completely written yet
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("bench_plugins: cw-sandbox did not start within 600 s")
            time.sleep(0.1)
        with open(yaml) as f:
            self.providers_yaml = f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cpu_seconds(self):
        """CPU time the sandbox has used so far (user + system)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def url(self, service):
        return self.info[service]["base_url"]

    def control(self, service, method, path, body=None):
        return http(method, self.url(service) + path, body)

    def latency(self, service, ms):
        self.control(service, "DELETE", "/__sandbox/faults")
        if ms:
            self.control(service, "POST", "/__sandbox/faults", {"latency_ms": ms})

    def requests(self, service):
        """The service's request log since the last clear, oldest first."""
        return self.control(service, "GET", "/__sandbox/requests")

    def clear_requests(self, *services):
        for s in services:
            self.control(s, "DELETE", "/__sandbox/requests")


class Cw:
    """A scratch folder with cw.yaml and its state; runs the real cw and measures it."""

    def __init__(self, build, providers_yaml, pairs_yaml):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="cw-bench-")
        self.config = os.path.join(self.dir, "cw.yaml")
        local = os.path.join(self.dir, "local")
        os.makedirs(local)
        with open(self.config, "w") as f:
            f.write(f"state_dir: {self.dir}/state\n")
            f.write(providers_yaml.rstrip() + "\n")
            f.write(f"  local:\n    plugin: crosswatch\n    root: {local}\n\n")
            f.write(pairs_yaml.rstrip() + "\n")
        self.n = 0

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args):
        """Runs `cw ARGS --report FILE`: (wall seconds, CPU seconds, peak RSS in KiB, report)."""
        self.n += 1
        report = os.path.join(self.dir, f"report-{self.n}.json")
        out = open(os.path.join(self.dir, f"out-{self.n}.txt"), "w+")
        argv = [os.path.join(self.build, "bin", "cw"), "--plugin-dir",
                os.path.join(self.build, "plugins-out"), "--config", self.config, "-q",
                "--log-level", "warn", *args, "--report", report]
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
        out.close()
        if proc.returncode not in (0, 4) or not os.path.exists(report):
            raise SystemExit(f"bench_plugins: `cw {' '.join(args)}` exited {proc.returncode}: "
                             f"{text.strip()[-800:]}")
        with open(report) as f:
            return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, json.load(f)


def planned(report):
    return sum(e["planned"][k] for e in report["pairs"] for k in ("adds", "updates", "removes"))


def pages(n, size):
    return math.ceil(n / size) if n > 0 else 1  # an empty list still costs one request


def load():
    return "/".join("%.2f" % x for x in os.getloadavg())


PAGING_PARAMS = {"startindex", "limit"}  # Jellyfin's; Plex pages with headers
REPLAYED_HEADERS = ("accept", "authorization", "x-plex-token", "x-emby-token",
                    "x-emby-authorization")


def paging_minimum(sb, service, log):
    """What a client that knew every list's size would have needed for the requests in `log`:
    each distinct unpaged request once, and ceil(rows / page size) pages of each distinct paged
    query (its rows counted by asking the fake the same query for an empty page).
    Returns (minimum, paged requests made, one line per paged query)."""
    unpaged, paged = set(), {}
    for r in log:
        h = r["headers"]
        query = urllib.parse.parse_qsl(r["query"], keep_blank_values=True)
        plain = [(k, v) for k, v in query if k.lower() not in PAGING_PARAMS]
        lower = {k.lower(): v for k, v in query}
        size = None
        if "x-plex-container-size" in h:
            size = int(h["x-plex-container-size"])
        elif "startindex" in lower and "limit" in lower:
            size = int(lower["limit"])
        key = (r["method"], r["path"], urllib.parse.urlencode(plain))
        if size is None:
            unpaged.add(key)
        else:
            entry = paged.setdefault(key, {"size": size, "made": 0, "headers": h})
            entry["made"] += 1
    minimum, made, lines = len(unpaged), 0, []
    for (method, path, query), e in sorted(paged.items()):
        headers = {k: v for k, v in e["headers"].items() if k in REPLAYED_HEADERS}
        url = sb.url(service) + path + "?" + query
        if "x-plex-container-size" in e["headers"]:
            headers.update({"X-Plex-Container-Start": "0", "X-Plex-Container-Size": "0",
                            "Accept": "application/json"})
            total = http(method, url, headers=headers)["MediaContainer"].get("totalSize", 0)
        else:
            total = http(method, url + "&StartIndex=0&Limit=0",
                         headers=headers)["TotalRecordCount"]
        need = pages(total, e["size"])
        minimum += need
        made += e["made"]
        lines.append(f"{method} {path}?{urllib.parse.unquote(query)[:90]}: {total} rows, "
                     f"{e['made']} pages of {e['size']} (minimum {need})")
    return minimum, made, lines


# ----------------------------------------------------------------------------- issue 15


def with_keys(providers_yaml, **keys):
    """The sandbox's providers: block with `keys` added to named instances."""
    for name, line in keys.items():
        providers_yaml = providers_yaml.replace(f"    plugin: {name}\n",
                                                f"    plugin: {name}\n    {line}\n")
    return providers_yaml


def bench_reads(args, sizes):
    movies, shows = sizes["movies"], sizes["shows"]
    seasons, episodes = shows * SEASONS, shows * SEASONS * EPISODES
    print(f"== plugins: full library reads, {movies} movies + {shows} shows ({seasons} seasons, "
          f"{episodes} episodes), 5 ms added to every request")
    sb = Sandbox(os.path.join(args.build, "bin", "cw-sandbox"), ["plex", "jellyfin"],
                 sizes["generate"])
    try:
        pairs = """pairs:
  - name: plex-read
    source: plex
    target: local
    mode: one-way
    features: {history: {add: true}}
  - name: jellyfin-read
    source: jellyfin
    target: local
    mode: one-way
    features: {ratings: {add: true}}
"""
        providers = with_keys(sb.providers_yaml, plex=f"page_size: {PLEX_PAGE}",
                                jellyfin=f"page_size: {JELLYFIN_PAGE}")
        cw = Cw(args.build, providers, pairs)
        try:
            for service, pair, feature in (("plex", "plex-read", "history"),
                                           ("jellyfin", "jellyfin-read", "ratings")):
                sb.latency(service, 5)
                sb.clear_requests(service)
                load0, cpu0 = load(), sb.cpu_seconds()
                wall, cpu, rss, report = cw.run("plan", "--pair", pair, "--feature", feature)
                load1, sandbox_cpu = load(), sb.cpu_seconds() - cpu0
                log = sb.requests(service)
                sb.latency(service, 0)
                minimum, made, lines = paging_minimum(sb, service, log)
                entry = [e for e in report["pairs"] if e["pair"] == pair][0]
                ideal = len(log) * 0.005
                print(f"{service} ({feature}): {len(log)} requests ({made} pages of lists), "
                      f"minimum {minimum}: {len(log) / minimum:.3f}x; status {entry['status']}")
                for line in lines:
                    print("    " + line)
                print("    other requests: " + other_requests(log))
                print(f"    wall {wall:.2f} s (the cw process) vs requests x 5 ms = {ideal:.2f} s: "
                      f"{wall / ideal:.2f}x; the {feature} read and plan "
                      f"{entry['duration_ms'] / 1000:.2f} s")
                print(f"    CPU: cw {cpu:.2f} s ({1000 * cpu / len(log):.1f} ms per request), the "
                      f"sandbox {sandbox_cpu:.2f} s ({1000 * sandbox_cpu / len(log):.1f} ms per "
                      "request)")
                print(f"    peak RSS {rss / 1024:.0f} MiB (the cw process); "
                      f"load {load0} -> {load1}")
        finally:
            cw.close()
    finally:
        sb.stop()


def other_requests(log):
    """The requests of `log` that are not pages of a list, counted by method and path."""
    c = collections.Counter(f"{r['method']} {r['path']}" for r in log
                            if "x-plex-container-size" not in r["headers"]
                            and "startindex" not in r["query"].lower())
    return ", ".join(f"{k} {v}" for k, v in c.most_common()) or "none"


# ----------------------------------------------------------------------------- issue 11


def trakt_plays(sb):
    """Trakt's plays as (type, ids of the movie or episode, watched_at): one listed twice is a
    duplicate."""
    rows = sb.control("trakt", "GET", "/__sandbox/state")["history"]
    out = []
    for r in rows:
        media = r.get("movie") if r.get("type") == "movie" else r.get("episode")
        out.append((r.get("type"), json.dumps((media or {}).get("ids", {}), sort_keys=True),
                    r.get("watched_at")))
    return out


def bench_trakt(args, sizes):
    movies, shows = sizes["movies"], sizes["shows"]
    new_plays = sizes["new_plays"]
    print(f"== plugins: plex -> trakt, {movies} movies + {shows} shows, Trakt with "
          f"{sizes['plays']} plays, {sizes['watchlist']} watchlist, {sizes['ratings']} ratings; "
          f"Trakt's real limits, 20 ms per request")
    sb = Sandbox(os.path.join(args.build, "bin", "cw-sandbox"), ["plex", "trakt"],
                 sizes["generate"])
    try:
        state = sb.control("trakt", "GET", "/__sandbox/state")
        state["options"] = {"real_rate_limits": True}
        sb.control("trakt", "POST", "/__sandbox/seed", state)
        del state
        pairs = """pairs:
  - name: plex-to-trakt
    source: plex
    target: trakt
    mode: one-way
    features:
      watchlist: {add: true}
      history: {add: true}
      ratings: {add: true, update: true}
"""
        providers = with_keys(sb.providers_yaml, plex=f"page_size: {PLEX_PAGE}",
                              trakt=f"page_limit: {TRAKT_PAGE}")
        cw = Cw(args.build, providers, pairs)
        try:
            # Set-up, not timed: the first run reads both sides whole and writes what the
            # generated accounts do not share.
            t0 = time.monotonic()
            r0 = cw.run("run")[3]
            print(f"set-up run: {planned(r0)} writes planned, "
                  f"{time.monotonic() - t0:.1f} s (no added latency)")

            # A run with nothing to do.
            for service in ("plex", "trakt"):
                sb.latency(service, 20)
            sb.clear_requests("plex", "trakt")
            load0, cpu0 = load(), sb.cpu_seconds()
            wall, cpu, rss, r1 = cw.run("run")
            load1, sandbox_cpu = load(), sb.cpu_seconds() - cpu0
            plex_log, trakt_log = sb.requests("plex"), sb.requests("trakt")
            sb.latency("plex", 0)
            features = len({e["feature"] for e in r1["pairs"]})
            stamps = [r for r in trakt_log if r["path"] == "/sync/last_activities"]
            print(f"no changes: planned writes {planned(r1)}, wall {wall:.1f} s, peak RSS "
                  f"{rss / 1024:.0f} MiB, load {load0} -> {load1}")
            print(f"    trakt: {len(trakt_log)} requests ({other_requests(trakt_log)}); minimum "
                  f"{features}, one /sync/last_activities per feature: "
                  f"{len(stamps) / features:.2f}x ({len(trakt_log) / features:.2f}x with health)")
            minimum, made, lines = paging_minimum(sb, "plex", plex_log)
            print(f"    plex: {len(plex_log)} requests ({made} pages of lists), minimum {minimum}: "
                  f"{len(plex_log) / minimum:.3f}x")
            for line in lines:
                print("        " + line)
            print("        other requests: " + other_requests(plex_log))
            ideal = (len(plex_log) + len(trakt_log)) * 0.020
            print(f"    wall vs requests x 20 ms = {ideal:.1f} s: {wall / ideal:.2f}x; CPU: cw "
                  f"{cpu:.1f} s, the sandbox {sandbox_cpu:.1f} s; per feature: " + ", ".join(
                      f"{e['feature']} {e['duration_ms'] / 1000:.1f} s ({e['status']})"
                      for e in r1["pairs"]))

            # New plays in Plex: scrobble unwatched movies (the bench's own requests, without
            # added latency), then one run writes them to Trakt.
            sb.latency("plex", 0)
            plex = sb.info["plex"]["credentials"]
            token = plex.get("pms_token") or plex.get("token")
            page = http("GET", sb.url("plex") + "/library/sections/1/all?type=1&unwatched=1",
                        headers={"Accept": "application/json", "X-Plex-Token": token,
                                 "X-Plex-Container-Start": "0",
                                 "X-Plex-Container-Size": str(new_plays)})
            keys = [m["ratingKey"] for m in page["MediaContainer"].get("Metadata", [])]
            base = int(time.time()) - 86400
            for i, rk in enumerate(keys):
                http("PUT", sb.url("plex") + f"/:/scrobble?identifier=com.plexapp.plugins.library"
                     f"&key={rk}&viewedAt={base + 60 * i}",
                     headers={"X-Plex-Token": token, "Content-Length": "0"})
            sb.latency("plex", 20)
            before = trakt_plays(sb)
            sb.clear_requests("plex", "trakt")
            load0 = load()
            wall, _, rss, r2 = cw.run("run")
            load1 = load()
            trakt_log = sb.requests("trakt")
            after = trakt_plays(sb)
            writes = [r for r in trakt_log if r["method"] == "POST"
                      and r["path"] == "/sync/history"]
            ok_writes = [r for r in writes if r["status"] < 300]
            limited = [r for r in trakt_log if r["status"] == 429]
            chunk = 100  # the trakt manifest's history chunk_size
            bound_writes = math.ceil(len(keys) / chunk)
            span = (writes[-1]["at_ms"] - writes[0]["at_ms"]) / 1000 if writes else 0
            bound_span = max(bound_writes - 1, 0)  # 1 write per second: the first is free
            hist = [e for e in r2["pairs"] if e["feature"] == "history"][0]
            new = len(after) - len(before)
            dup_before = sum(c - 1 for c in collections.Counter(before).values() if c > 1)
            dup_after = sum(c - 1 for c in collections.Counter(after).values() if c > 1)
            print(f"{len(keys)} new plays: history planned {hist['planned']['adds']} adds, "
                  f"outcomes {hist['outcomes']}, wall {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB, "
                  f"load {load0} -> {load1}")
            print(f"    trakt writes: {len(writes)} POST /sync/history ({len(ok_writes)} accepted, "
                  f"{len(limited)} answered 429); bound ceil({len(keys)}/{chunk}) = "
                  f"{bound_writes}: {len(writes) / bound_writes:.2f}x")
            print(f"    first to last write {span:.2f} s; bound at 1 write per second "
                  f"{bound_span} s: " +
                  (f"{span / bound_span:.2f}x" if bound_span else "n/a (one write)") +
                  f"; history pair {hist['duration_ms'] / 1000:.1f} s")
            print(f"    trakt plays {len(before)} -> {len(after)} (+{new}); duplicate plays "
                  f"{dup_before} -> {dup_after}; trakt requests: {other_requests(trakt_log)}")
        finally:
            cw.close()
    finally:
        sb.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--movies", type=int, default=100000)
    ap.add_argument("--only", choices=["reads", "trakt"])
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    m = max(args.movies, 100)
    sizes = {"movies": m, "shows": max(m // 20, 1), "plays": max(m // 5, 1),
             "ratings": max(m // 50, 1), "watchlist": max(m // 200, 1),
             "new_plays": max(m // 100, 1)}
    sizes["generate"] = (f"movies={m},shows={sizes['shows']},seasons={SEASONS},"
                         f"episodes={EPISODES},plays={sizes['plays']},"
                         f"ratings={sizes['ratings']},watchlist={sizes['watchlist']},progress=0")
    print(f"machine: {os.cpu_count()} cores, load {load()}")
    if args.only in (None, "reads"):
        bench_reads(args, sizes)
    if args.only in (None, "trakt"):
        bench_trakt(args, sizes)


if __name__ == "__main__":
    main()
