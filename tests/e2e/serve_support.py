"""`cw serve` on loopback for the e2e tests: two crosswatch folders (no fake server needed),
a pair between them with a deletion held by the mass-delete cap, and the server started on a
free port."""

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

CONFIG = """\
state_dir: ./state
providers:
  shelf: { plugin: crosswatch, root: ./shelf }
  backup: { plugin: crosswatch, root: ./backup }
pairs:
  - name: shelf-to-backup
    source: shelf
    target: backup
    features:
      watchlist: { add: true, remove: true }
    schedule: { every: 6h }
sync:
  mass_delete: { max_count: 0 }
"""

MOVIES = [
    {"type": "movie", "title": "Heat", "year": 1995, "ids": {"imdb": "tt0113277", "tmdb": 949}},
    {"type": "movie", "title": "Alien", "year": 1979, "ids": {"imdb": "tt0078748", "tmdb": 348}},
    {"type": "movie", "title": "Up", "year": 2009, "ids": {"imdb": "tt1049413", "tmdb": 14160}},
    {"type": "movie", "title": "Arrival", "year": 2016, "ids": {"imdb": "tt2543164", "tmdb": 329865}},
]
HELD_KEY = "movie:tmdb:14160"  # Up, removed from the shelf after the first run


def cw_bin():
    return os.environ["CW_BIN"]


def write_watchlist(folder, items):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "watchlist.json"), "w") as f:
        json.dump({"format": "cw-crosswatch", "version": 1, "feature": "watchlist",
                   "items": items}, f)


def cw(workdir, *args, check=True):
    r = subprocess.run([cw_bin(), "--config", os.path.join(workdir, "cw.yaml"), *args],
                       cwd=workdir, capture_output=True, text=True, timeout=120)
    if check and r.returncode not in (0, 4):
        raise AssertionError(f"cw {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return r


def held_deletion_setup():
    """A working folder where `shelf-to-backup` holds the removal of Up from backup."""
    workdir = tempfile.mkdtemp(prefix="cw-serve-")
    with open(os.path.join(workdir, "cw.yaml"), "w") as f:
        f.write(CONFIG)
    write_watchlist(os.path.join(workdir, "shelf"), MOVIES)
    cw(workdir, "run")
    write_watchlist(os.path.join(workdir, "shelf"), [m for m in MOVIES if m["title"] != "Up"])
    r = cw(workdir, "run")
    assert r.returncode == 4, f"the second run should hold the deletion (exit 4): {r.stdout}"
    return workdir


class Serve:
    """`cw serve --listen 127.0.0.1:0` in `workdir`; .url once it listens."""

    def __init__(self, workdir, *extra, env=None):
        self.proc = subprocess.Popen(
            [cw_bin(), "--config", os.path.join(workdir, "cw.yaml"), "serve",
             "--listen", "127.0.0.1:0", *extra],
            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"cw serve did not start: {line}{self.proc.stderr.read()}")
        self.url = f"http://127.0.0.1:{m.group(1)}"

    def get_json(self, path, headers=None):
        req = urllib.request.Request(self.url + path, headers=headers or {})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def wait_for(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.get_json("/api/status")
            if predicate(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self):
        """SIGTERM; returns (exit code, stdout rest, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, err
