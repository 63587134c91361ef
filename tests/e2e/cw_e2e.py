"""End-to-end harness: the real `cw` binary and bundled plugins against `cw-sandbox`.

A test is a plain script (tests/e2e/test_<name>.py, CTest `e2e_<name>`):

    from cw_e2e import Sandbox, Cw, require_plugins, check
    require_plugins("plex", "trakt")            # exit 77 (skipped) unless both are built
    with Sandbox(["plex", "trakt"], generate="movies=40,watchlist=8") as sb:
        cw = Cw()
        cw.write_config(sb.providers_yaml, PAIRS)
        r1 = cw.run()
        check(Cw.planned(r1, "watchlist", "adds") == 8, "first run adds the watchlist")
        Cw.assert_converged(cw.run())

Environment (set by tests/e2e/CMakeLists.txt): CW_BIN, CW_SANDBOX, CW_PLUGIN_DIR.
Only loopback is used: cw-sandbox listens on 127.0.0.1 and the configuration points there.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77


class CheckFailed(AssertionError):
    pass


def check(condition, what):
    """Fail the test with a one-line message when condition is false."""
    if not condition:
        raise CheckFailed(what)


def _env(name):
    value = os.environ.get(name)
    if not value:
        print(f"SKIP: {name} is not set (run through CTest)")
        sys.exit(SKIP)
    return value


def plugin_path(name):
    return os.path.join(_env("CW_PLUGIN_DIR"), f"cw-provider-{name}.so")


def require_plugins(*names):
    """Skip (exit 77) unless every named plugin is built."""
    missing = [n for n in names if not os.path.exists(plugin_path(n))]
    if missing:
        print(f"SKIP: plugin(s) not built: {', '.join(missing)}")
        sys.exit(SKIP)


def _http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"{method} {url}: HTTP {e.code}: {e.read()[:300]!r}") from None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class Sandbox:
    """cw-sandbox running the given services on free loopback ports, for one `with` block."""

    def __init__(self, services, generate=None, fixtures=None, extra_args=()):
        self.services = list(services)
        self._dir = tempfile.mkdtemp(prefix="cw-e2e-sandbox-")
        self._info_path = os.path.join(self._dir, "info.json")
        self._yaml_path = os.path.join(self._dir, "providers.yaml")
        args = [_env("CW_SANDBOX"), "--services", ",".join(self.services),
                "--info", self._info_path, "--yaml", self._yaml_path]
        if generate:
            args += ["--generate", generate]
        if fixtures:
            args += ["--fixtures", fixtures]
        args += list(extra_args)
        self._log = open(os.path.join(self._dir, "sandbox.log"), "w+")
        self._proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        self.info = None

    def __enter__(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                raise CheckFailed(f"cw-sandbox exited {self._proc.returncode}: "
                                  f"{self._log.read()[-500:]}")
            if os.path.exists(self._info_path) and os.path.exists(self._yaml_path):
                try:
                    with open(self._info_path) as f:
                        self.info = json.load(f)
                    break
                except ValueError:
                    pass  # written but not yet complete
            time.sleep(0.05)
        else:
            self.__exit__(None, None, None)
            raise CheckFailed("cw-sandbox did not start within 30 s")
        with open(self._yaml_path) as f:
            self.providers_yaml = f.read()
        return self

    def __exit__(self, *exc):
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        return False

    def _service(self, name):
        check(name in self.info, f"service {name} is not running in this sandbox")
        return self.info[name]

    def base_url(self, name):
        return self._service(name)["base_url"]

    def credentials(self, name):
        return self._service(name).get("credentials", {})

    def control(self, name, method, path, body=None):
        """A request to a fake (control routes under /__sandbox/ or the service's own)."""
        return _http(method, self.base_url(name) + path, body)

    def fault(self, name, spec):
        return self.control(name, "POST", "/__sandbox/faults", spec)

    def clear_faults(self, name):
        return self.control(name, "DELETE", "/__sandbox/faults")

    def state(self, name):
        return self.control(name, "GET", "/__sandbox/state")

    def seed(self, name, fixture):
        return self.control(name, "POST", "/__sandbox/seed", fixture)

    def requests(self, name, path=None, method=None):
        query = []
        if path:
            query.append("path=" + urllib.request.quote(path, safe=""))
        if method:
            query.append("method=" + method)
        suffix = ("?" + "&".join(query)) if query else ""
        return self.control(name, "GET", "/__sandbox/requests" + suffix)

    def clear_requests(self, name):
        return self.control(name, "DELETE", "/__sandbox/requests")


class Cw:
    """A scratch folder with a cw.yaml and its own state; runs the real cw binary."""

    FEATURES = ("watchlist", "history", "ratings", "progress")
    KINDS = ("adds", "updates", "removes")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cw-e2e-")
        self.config = os.path.join(self.dir, "cw.yaml")
        self._runs = 0

    def __del__(self):
        shutil.rmtree(getattr(self, "dir", ""), ignore_errors=True)

    def write_config(self, providers_yaml, pairs_yaml, extra=""):
        """providers_yaml: a `providers:` block (cw-sandbox --yaml); pairs_yaml: `pairs:`..."""
        with open(self.config, "w") as f:
            f.write("state_dir: state\n")
            if extra:
                f.write(extra.rstrip() + "\n")
            f.write(providers_yaml.rstrip() + "\n\n")
            f.write(pairs_yaml.rstrip() + "\n")

    def command(self, *args, expect_rc=0):
        """Runs `cw --config cw.yaml ARGS`; returns (rc, stdout, stderr)."""
        argv = [_env("CW_BIN"), "--plugin-dir", _env("CW_PLUGIN_DIR"), "--config",
                self.config, "--log-level", "warn", *args]
        proc = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, timeout=240)
        if expect_rc is not None and proc.returncode != expect_rc:
            raise CheckFailed(f"`cw {' '.join(args)}` exited {proc.returncode}, expected "
                              f"{expect_rc}: {(proc.stderr or proc.stdout).strip()[-800:]}")
        return proc.returncode, proc.stdout, proc.stderr

    def run(self, *args, expect_rc=0):
        """`cw run --report FILE ARGS`; returns the run report (dict)."""
        self._runs += 1
        report = os.path.join(self.dir, f"report-{self._runs}.json")
        self.command("run", "--report", report, *args, expect_rc=expect_rc)
        check(os.path.exists(report), "cw run wrote no report")
        with open(report) as f:
            return json.load(f)

    @staticmethod
    def planned(report, feature, kind, pair=None):
        """Sum of planned.<kind> ("adds", "updates", "removes") for a feature in a report."""
        return sum(e.get("planned", {}).get(kind, 0) for e in report.get("pairs", [])
                   if e.get("feature") == feature and (pair is None or e.get("pair") == pair))

    @staticmethod
    def assert_converged(report):
        """The run planned nothing: every feature of every pair is settled."""
        busy = [f"{e.get('pair')}/{e.get('feature')}: {k}={e['planned'][k]}"
                for e in report.get("pairs", []) for k in Cw.KINDS
                if e.get("planned", {}).get(k, 0)]
        check(not busy, "the second run still plans work: " + "; ".join(busy))


def main(test):
    """Runs test(); prints PASS or the failure as one line; exits 0/1 (77 from skips)."""
    try:
        test()
    except CheckFailed as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    print("PASS")
