#!/usr/bin/env python3
"""Conformance of the sandbox fakes against ../shared/api-reference/.

Starts cw-sandbox with a generated universe, then runs the checks of every checks_*.py module
in this folder. Each module defines CHECKS = {"<service>": function(ctx) or [functions]}; a check calls
ctx.get(...) and ctx.validate(...) / ctx.expect_fields(...), and records failures with
ctx.fail(...). Exit codes: 0 all passed, 1 a check failed, 77 skipped (no ../shared or no
python3-jsonschema / python3-yaml).
"""
import argparse
import warnings
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
# RefResolver is deprecated in jsonschema 4.18+, but Debian 12 ships 4.10 where it is the API.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Context:
    def __init__(self, service, info, shared):
        self.service = service
        self.base_url = info["base_url"]
        self.credentials = info["credentials"]
        self.shared = shared
        self.failures = []
        self.checked = 0

    # ---- HTTP
    def request(self, method, path, headers=None, body=None):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get_json(self, path, headers=None, expect=200, method="GET", body=None):
        status, _, raw = self.request(method, path, headers, body)
        if status != expect:
            self.fail(f"{method} {path}: status {status}, expected {expect}")
            return None
        try:
            return json.loads(raw)
        except ValueError:
            self.fail(f"{method} {path}: body is not JSON: {raw[:120]!r}")
            return None

    def control(self, method, path, body=None):
        return self.get_json("/__sandbox/" + path, {"Content-Type": "application/json"},
                             method=method, body=json.dumps(body) if body is not None else None)

    # ---- checks
    def fail(self, message):
        self.failures.append(message)

    def validate(self, instance, schema, root, where):
        """JSON-schema validation with $refs resolved inside `root` (an OpenAPI document)."""
        import jsonschema
        self.checked += 1
        resolver = jsonschema.RefResolver.from_schema(root)
        validator = jsonschema.Draft7Validator(schema, resolver=resolver)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        for e in errors[:5]:
            self.fail(f"{where}: {'/'.join(map(str, e.path))}: {e.message[:200]}")

    def expect_fields(self, obj, allowed, required, where):
        """Fails on a field the reference does not have (invented) or a required one missing."""
        self.checked += 1
        if not isinstance(obj, dict):
            self.fail(f"{where}: expected an object, got {type(obj).__name__}")
            return
        invented = sorted(set(obj) - set(allowed))
        missing = sorted(set(required) - set(obj))
        if invented:
            self.fail(f"{where}: fields not in the reference: {invented}")
        if missing:
            self.fail(f"{where}: required fields missing: {missing}")

    def shared_json(self, rel):
        with open(os.path.join(self.shared, rel), encoding="utf-8") as f:
            return json.load(f)

    def shared_yaml(self, rel):
        import yaml
        with open(os.path.join(self.shared, rel), encoding="utf-8") as f:
            return yaml.safe_load(f)


def load_checks(folder):
    checks = {}
    for name in sorted(os.listdir(folder)):
        if not (name.startswith("checks_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(folder, name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for service, fns in getattr(module, "CHECKS", {}).items():
            checks.setdefault(service, []).extend(fns if isinstance(fns, (list, tuple)) else [fns])
    return checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandbox", required=True, help="path of the cw-sandbox executable")
    ap.add_argument("--shared", required=True, help="path of ../shared")
    ap.add_argument("--services", default="", help="comma list (default: every service checked)")
    ap.add_argument("--generate", default="movies=60,shows=4,seasons=2,episodes=5,plays=80,"
                                          "ratings=20,watchlist=10,progress=6")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.shared, "api-reference")):
        print(f"conformance: {args.shared}/api-reference is absent; skipping")
        return SKIP
    try:
        import jsonschema  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as e:
        print(f"conformance: {e}; install python3-jsonschema and python3-yaml "
              "(scripts/install-deps.sh); skipping")
        return SKIP

    checks = load_checks(os.path.dirname(os.path.abspath(__file__)))
    services = [s for s in args.services.split(",") if s] or sorted(checks)
    with tempfile.TemporaryDirectory() as tmp:
        info_path = os.path.join(tmp, "info.json")
        proc = subprocess.Popen([args.sandbox, "--services", ",".join(services), "--generate",
                                 args.generate, "--info", info_path],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 60
            while not os.path.exists(info_path):
                if proc.poll() is not None:
                    print("conformance: cw-sandbox exited: " + proc.stderr.read().decode())
                    return 1
                if time.time() > deadline:
                    print("conformance: cw-sandbox did not come up within 60 s")
                    return 1
                time.sleep(0.05)
            with open(info_path, encoding="utf-8") as f:
                info = json.load(f)
            failed = 0
            for service in services:
                for fn in checks.get(service, []):
                    ctx = Context(service, info[service], args.shared)
                    try:
                        fn(ctx)
                    except Exception as e:  # a crash in a check is a failure, with its reason
                        ctx.fail(f"check {fn.__name__} raised {type(e).__name__}: {e}")
                    status = "ok" if not ctx.failures else "FAILED"
                    print(f"[{status}] {service}: {fn.__name__} ({ctx.checked} checks)")
                    for m in ctx.failures:
                        print(f"    {m}")
                    failed += bool(ctx.failures)
            return 1 if failed else 0
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
