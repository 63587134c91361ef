"""`cw serve` as a process: it runs an interval pair at start, shares the state directory
with `cw run` (the run lock), answers the API with the token when one is set, refuses a
non-loopback address without one, and exits 0 on SIGTERM."""

import os
import shutil
import subprocess
import urllib.error
import urllib.request

from cw_e2e import check
from serve_support import Serve, cw, cw_bin, held_deletion_setup

workdir = held_deletion_setup()
try:
    # Refused before anything starts: 0.0.0.0 without a token or basic auth.
    r = subprocess.run([cw_bin(), "--config", os.path.join(workdir, "cw.yaml"), "serve",
                        "--listen", "0.0.0.0:0"], cwd=workdir, capture_output=True, text=True,
                       timeout=60, env={k: v for k, v in os.environ.items()
                                        if k != "CW_SERVE_TOKEN"})
    check(r.returncode == 2 and "refusing to listen on 0.0.0.0:0" in r.stderr,
          f"a non-loopback bind without protection is refused (exit 2): {r.returncode} {r.stderr}")

    serve = Serve(workdir, env={"CW_SERVE_TOKEN": "e2e-token"})
    auth = {"Authorization": "Bearer e2e-token"}
    try:
        try:
            urllib.request.urlopen(serve.url + "/api/status", timeout=30)
            check(False, "the API answers without the token")
        except urllib.error.HTTPError as e:
            check(e.code == 401, f"401 without the token, got {e.code}")
        # The interval pair runs at start (no jitter configured).
        deadline_status = None
        import time
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            deadline_status = serve.get_json("/api/status", auth)
            if deadline_status["schedule"]["shelf-to-backup"].get("last_result"):
                break
            time.sleep(0.1)
        s = deadline_status
        check(s["schedule"]["shelf-to-backup"].get("last_result") == "partial",
              f"the scheduled run ran at start and still holds the deletion: {s['schedule']}")
        check(s["runs"][0]["command"] == "serve", "the run report says serve started it")
        check("e2e-token" not in str(s), "the token is not in the API reply")
        # `cw run` from cron shares the state directory while the server is idle.
        r = cw(workdir, "run")
        check(r.returncode == 4, f"cw run beside cw serve: exit {r.returncode} {r.stderr}")
        with urllib.request.urlopen(urllib.request.Request(serve.url + "/metrics", headers=auth),
                                    timeout=30) as m:
            metrics = m.read().decode()
        check('cw_runs_total{pair="shelf-to-backup",feature="watchlist",status="ok"} 1' in metrics,
              f"the scheduled run is counted: {metrics[:2000]}")
        check("e2e-token" not in metrics, "the token is not in the metrics")
    finally:
        code, out, err = serve.stop()
    check(code == 0 and "stopped" in out, f"SIGTERM: exit 0 after stopping, got {code} {err[-400:]}")
    check("e2e-token" not in err, "the token is not in the log")
finally:
    shutil.rmtree(workdir, ignore_errors=True)
print("ok")
