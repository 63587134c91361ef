#!/usr/bin/env python3
"""Runs one scenario case (tests/scenarios/cases/*.yaml) on the real `cw` binary.

The case declares scripted providers (capabilities, inventories, write behaviour), the
pairs of the configuration, and a sequence of runs, each with the changes to make before
it and what to expect after it: exit code, the writes each provider received, the
inventories, the output, the report and whether the state database changed. The format is
documented in tests/scenarios/README.md.

Usage: runner.py --cw PATH --plugin-dir DIR --work DIR CASE.yaml [--keep]
Exit status 0 when every expectation held; otherwise each failed expectation is printed.
"""

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import yaml

LETTERS = ["a", "b", "c", "d"]
FEATURES = ["watchlist", "history", "ratings", "progress"]
WRITE_OPS = ["add", "remove", "update"]


class CaseError(Exception):
    """The case file itself is wrong (not an expectation failure)."""


def default_manifest(name):
    features = {}
    for f in FEATURES:
        feat = {
            "types": ["movie", "show", "season", "episode"],
            "index_semantics": "present",
            "add": True,
            "remove": True,
            "update": True,
            "observes_deletes": True,
            "provides_ids": True,
            "chunk_size": 100,
        }
        if f == "history":
            feat["writes_watch_date"] = True
            feat["rewatches"] = True
        if f == "ratings":
            feat["rating_scale"] = {"min": 1, "max": 10, "step": 1}
        features[f] = feat
    return {
        "name": name,
        "version": "1.0.0",
        "display_name": "Scripted scenario provider",
        "description": "Test provider driven by scenario files (tests/scenarios).",
        "features": features,
        "capabilities": {"auth": "none", "scrobble": False},
        "config": {
            "type": "object",
            "properties": {"script": {"type": "string"}},
            "required": ["script"],
        },
    }


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# The fields that name an item in expectations (label()); any other is a value to check.
LABEL_KEYS = ("title", "type", "show", "season", "episode")


def label(item):
    """How an item is named in expectations: its title; episodes as 'Show S01E02'."""
    if isinstance(item, str):
        return item
    kind = item.get("type")
    show = item.get("show")
    show_title = show.get("title") if isinstance(show, dict) else show
    if kind == "episode" and show_title:
        return "%s S%02dE%02d" % (show_title, int(item.get("season", 0)), int(item.get("episode", 0)))
    if kind == "season" and show_title:
        return "%s S%02d" % (show_title, int(item.get("season", 0)))
    return item.get("title", "")


def normalise_item(item):
    """Fills the defaults a case may leave out: type movie, ids as given."""
    item = copy.deepcopy(item)
    item.setdefault("type", "movie")
    return item


def expand_items(items):
    """Items of a case; `{generate: N, prefix: P}` stands for N movies P01..PN."""
    out = []
    for x in items or []:
        if isinstance(x, dict) and "generate" in x:
            prefix = x.get("prefix", "Movie")
            base = int(x.get("imdb_base", 9000000))
            for i in range(1, int(x["generate"]) + 1):
                out.append(normalise_item({"title": "%s%02d" % (prefix, i), "year": 2000,
                                           "ids": {"imdb": "tt%07d" % (base + i)}}))
        else:
            out.append(normalise_item(x))
    return out


def json_path(doc, path):
    """Values at a dotted path; `*` maps over a list or object, numbers index lists."""
    values = [doc]
    if path in ("", "."):
        return values
    for part in path.split("."):
        nxt = []
        for v in values:
            if part == "*":
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            elif isinstance(v, list) and re.fullmatch(r"-?\d+", part):
                i = int(part)
                if -len(v) <= i < len(v):
                    nxt.append(v[i])
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        values = nxt
    return values


def edit_json_file(path, edits):
    """Applies `set: {path: value}` and `append: {list_path: from_path}` to a JSON file: a
    user editing a saved plan by hand."""
    with open(path) as f:
        doc = json.load(f)
    for where, value in (edits.get("set") or {}).items():
        parent, last = where.rsplit(".", 1) if "." in where else ("", where)
        targets = json_path(doc, parent)
        if not targets:
            raise CaseError("edit_json: %s: no %s" % (path, parent))
        for t in targets:
            if isinstance(t, list):
                t[int(last)] = copy.deepcopy(value)
            else:
                t[last] = copy.deepcopy(value)
    for to, frm in (edits.get("append") or {}).items():
        lists, values = json_path(doc, to), json_path(doc, frm)
        if len(lists) != 1 or not isinstance(lists[0], list) or len(values) != 1:
            raise CaseError("edit_json: %s: append %s from %s: expected one list and one value"
                            % (path, to, frm))
        lists[0].append(copy.deepcopy(values[0]))
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


class Scenario:
    def __init__(self, args, case_path):
        self.args = args
        self.case_path = case_path
        with open(case_path) as f:
            self.case = yaml.safe_load(f)
        if not isinstance(self.case, dict) or "runs" not in self.case:
            raise CaseError("%s: expected a mapping with `providers`, `config` and `runs`" % case_path)
        name = os.path.splitext(os.path.basename(case_path))[0]
        self.dir = os.path.abspath(os.path.join(args.work, name))
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.state_dir = os.path.join(self.dir, "state")
        self.failures = []
        self.providers = {}  # name -> plugin letter
        self.background = None

    # ---- files the plugin reads ------------------------------------------------------
    def script_path(self, prov):
        return os.path.join(self.dir, prov + ".script.json")

    def state_path(self, prov):
        return os.path.join(self.dir, prov + ".state.json")

    def calls_path(self, prov):
        return os.path.join(self.dir, prov + ".calls.jsonl")

    def load_pstate(self, prov):
        try:
            with open(self.state_path(prov)) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"inventory": {}}

    def save_pstate(self, prov, st):
        with open(self.state_path(prov), "w") as f:
            json.dump(st, f, indent=1)

    def setup(self):
        provs = self.case.get("providers") or {}
        used = set()
        for i, (prov, spec) in enumerate(provs.items()):
            spec = spec or {}
            default = LETTERS[i] if i < len(LETTERS) and LETTERS[i] not in used else next(
                (l for l in LETTERS if l not in used), None)
            letter = spec.get("plugin", default)
            # Two providers share one plugin (one library, one runner process) when the
            # second names the first's copy and brings no manifest of its own.
            shared = letter in used and "plugin" in spec and "manifest" not in spec
            if letter not in LETTERS or (letter in used and not shared):
                raise CaseError("providers.%s.plugin: expected one of %s, unused, or used "
                                "without a manifest of its own" % (prov, LETTERS))
            used.add(letter)
            self.providers[prov] = letter
            if not shared:
                manifest = default_manifest("scripted-" + letter)
                m = spec.get("manifest") or {}
                only = m.get("only_features")
                if only:
                    manifest["features"] = {k: v for k, v in manifest["features"].items()
                                            if k in only}
                manifest = deep_merge(manifest,
                                      {k: v for k, v in m.items() if k != "only_features"})
                with open(os.path.join(self.dir, "scripted-%s.manifest.json" % letter), "w") as f:
                    json.dump(manifest, f, indent=1)
            inv = {f: expand_items(items) for f, items in (spec.get("inventory") or {}).items()}
            self.save_pstate(prov, {"inventory": inv})
            self.scripts = getattr(self, "scripts", {})
            self.scripts[prov] = {k: copy.deepcopy(spec[k])
                                  for k in ("health", "health_error", "features", "writes",
                                            "resolve")
                                  if k in spec}
        cfg = copy.deepcopy(self.case.get("config") or {})
        cfg["providers"] = {
            p: dict({"plugin": "scripted-" + l, "script": self.script_path(p)},
                    **((self.case.get("providers") or {}).get(p) or {}).get("settings", {}))
            for p, l in self.providers.items()}
        cfg.setdefault("state_dir", self.state_dir)
        self.config_path = os.path.join(self.dir, "cw.yaml")
        self.write_config(cfg)

    def write_config(self, cfg):
        self.cfg = cfg
        with open(self.config_path, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)

    # ---- changes before a run ---------------------------------------------------------
    def apply_setup(self, run_no, changes):
        for prov, ch in (changes or {}).items():
            if prov not in self.providers:
                raise CaseError("setup: unknown provider %s" % prov)
            st = self.load_pstate(prov)
            inv = st.setdefault("inventory", {})
            for f, items in (ch.get("set") or {}).items():
                inv[f] = expand_items(items)
            for f, items in (ch.get("add") or {}).items():
                inv.setdefault(f, []).extend(expand_items(items))
            for f, names in (ch.get("remove") or {}).items():
                inv[f] = [x for x in inv.get(f, []) if label(x) not in names]
            for f, edits in (ch.get("edit") or {}).items():
                for name, fields in edits.items():
                    hits = [x for x in inv.get(f, []) if label(x) == name]
                    if not hits:
                        raise CaseError("setup.%s.edit.%s: no item %r" % (prov, f, name))
                    for x in hits:
                        x.update(copy.deepcopy(fields))
            self.save_pstate(prov, st)
            script = self.scripts[prov]
            for k in ("health", "health_error", "features", "writes"):
                if k in ch:
                    if ch[k] is None:
                        script.pop(k, None)
                    else:
                        script[k] = copy.deepcopy(ch[k])
        for prov in self.providers:
            script = dict(self.scripts[prov])
            script["run"] = run_no
            with open(self.script_path(prov), "w") as f:
                json.dump(script, f, indent=1)

    def state_exec(self, name, statements):
        """SQL run on the state database before a run: damage cw must report, not survive by luck."""
        if not statements:
            return
        import sqlite3
        db = os.path.join(self.state_dir, "state.db")
        if not os.path.exists(db):
            raise CaseError("%s: state_exec before the state database exists" % name)
        con = sqlite3.connect(db)
        try:
            for sql in statements:
                con.execute(sql)
            con.commit()
        finally:
            con.close()

    # ---- observation -----------------------------------------------------------------
    def read_calls(self, prov, run_no):
        out = []
        try:
            with open(self.calls_path(prov)) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        c = json.loads(line)
                        if c.get("run") == run_no:
                            out.append(c)
        except FileNotFoundError:
            pass
        return out

    def state_fingerprint(self):
        h = {}
        if os.path.isdir(self.state_dir):
            for root, _, files in os.walk(self.state_dir):
                for fn in sorted(files):
                    p = os.path.join(root, fn)
                    # SQLite's own side files carry no data when the WAL is empty: a
                    # read-only open of a WAL database creates them (see README).
                    if fn.endswith("-shm") or (fn.endswith("-wal") and os.path.getsize(p) == 0):
                        continue
                    with open(p, "rb") as f:
                        h[os.path.relpath(p, self.state_dir)] = hashlib.sha256(f.read()).hexdigest()
        return h

    def fail(self, run_name, msg):
        self.failures.append("run %r: %s" % (run_name, msg))

    # ---- one run -----------------------------------------------------------------------
    def command_line(self, run):
        cmd = [os.path.abspath(self.args.cw), "--config", self.config_path, "--plugin-dir",
               os.path.abspath(self.args.plugin_dir)]
        cmd += self.isolation_args(run)
        cmd += [str(x) for x in run.get("global_args", [])]
        command = run.get("command", ["run"])
        if isinstance(command, str):
            command = command.split()
        out = []
        for a in command:
            a = str(a).replace("{dir}", self.dir)
            out.append(a)
        return cmd + out

    def isolation_args(self, run):
        """The scenario plugins sit outside the bundled folder, so by default cw would run
        each in its own cw-plugin-runner. Under the sanitizers that costs ~1.5 s per cw
        start, for a transport the isolation cases (`isolation: default`) and the ABI tests
        cover; the other cases test sync behaviour and run their plugins in process, unless
        the case configures `plugins:` or passes an isolation flag itself."""
        if self.case.get("isolation", "none") != "none" or "plugins" in self.cfg:
            return []
        flags = [str(x) for x in run.get("global_args", [])]
        if any(f.startswith(("--plugin-isolation", "--in-process")) for f in flags):
            return []
        return ["--plugin-isolation", "none"]

    def env(self, run):
        env = dict(os.environ)
        env["CW_SCENARIO_DIR"] = self.dir
        env.pop("CW_PLUGIN_PATH", None)
        for k, v in (run.get("env") or {}).items():
            env[k] = str(v)
        return env

    def run_all(self):
        self.setup()
        for i, run in enumerate(self.case["runs"], start=1):
            name = run.get("name", "#%d" % i)
            self.apply_setup(i, run.get("setup"))
            if run.get("config"):
                self.write_config(deep_merge(self.cfg, run["config"]))
            for edit in run.get("edit_json") or []:
                edit_json_file(os.path.join(self.dir, edit["file"]), edit)
            self.state_exec(name, run.get("state_exec") or [])
            if run.get("release_background"):
                self.finish_background()
            before = self.state_fingerprint()
            cmd = self.command_line(run)
            if run.get("background"):
                self.start_background(i, name, run, cmd)
                continue
            proc = subprocess.run(cmd, env=self.env(run), capture_output=True, text=True,
                                  timeout=run.get("timeout", 90))
            self.check(i, name, run.get("expect") or {}, proc.returncode, proc.stdout,
                       proc.stderr, before)
        if self.background:
            self.finish_background()

    def start_background(self, run_no, name, run, cmd):
        release = os.path.join(self.dir, "release")
        if os.path.exists(release):
            os.remove(release)
        before = self.state_fingerprint()
        proc = subprocess.Popen(cmd, env=self.env(run), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        waiting = [os.path.join(self.dir, "scripted-%s.waiting" % l) for l in LETTERS]
        while time.time() < deadline and proc.poll() is None:
            if any(os.path.exists(w) for w in waiting):
                break
            time.sleep(0.05)
        else:
            self.fail(name, "the background run never reached a `wait` write rule")
        self.background = (run_no, name, run, proc, before)

    def finish_background(self):
        if not self.background:
            return
        run_no, name, run, proc, before = self.background
        self.background = None
        open(os.path.join(self.dir, "release"), "w").close()
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail(name, "background run did not finish after release")
        for l in LETTERS:
            w = os.path.join(self.dir, "scripted-%s.waiting" % l)
            if os.path.exists(w):
                os.remove(w)
        self.check(run_no, name, run.get("expect") or {}, proc.returncode, out, err, before)

    # ---- expectations ------------------------------------------------------------------
    def check(self, run_no, name, exp, code, stdout, stderr, before):
        ctx = "\n--- stdout ---\n%s\n--- stderr ---\n%s" % (stdout[-4000:], stderr[-4000:])
        want = exp.get("exit", 0)
        if want == "abort":
            if code != -signal.SIGABRT:
                self.fail(name, "expected the process to abort, got exit %s%s" % (code, ctx))
        elif isinstance(want, list):
            if code not in want:
                self.fail(name, "exit %s, expected one of %s%s" % (code, want, ctx))
        elif code != want:
            self.fail(name, "exit %s, expected %s%s" % (code, want, ctx))

        calls = {p: self.read_calls(p, run_no) for p in self.providers}

        for prov in self.listed(exp.get("no_writes"), name):
            for c in calls[prov]:
                if c["op"] in WRITE_OPS:
                    self.fail(name, "%s received a %s %s call: %s" % (prov, c["op"], c["feature"],
                                                                    [label(x) for x in c["items"]]))

        for prov, spec in (exp.get("writes") or {}).items():
            self.check_writes(name, prov, spec, calls.get(prov))

        for prov, spec in (exp.get("calls") or {}).items():
            for key, want_n in spec.items():
                op, _, feat = key.partition(".")
                n = sum(1 for c in calls.get(prov, []) if c["op"] == op and (not feat or c.get("feature") == feat))
                if n != want_n:
                    self.fail(name, "%s: %d %s calls, expected %d" % (prov, n, key, want_n))

        for prov, wanted in (exp.get("received") or {}).items():
            for w in wanted:
                if not any(all(c.get(k) == v for k, v in w.items()) for c in calls.get(prov, [])):
                    self.fail(name, "%s received no call with %s (calls: %s)" % (
                        prov, w, [{k: c.get(k) for k in ("op", "feature", "watermark")} for c in calls.get(prov, [])]))

        for chk in exp.get("state_sql", []):
            import sqlite3
            db = os.path.join(self.state_dir, "state.db")
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
                rows = con.execute(chk["query"]).fetchall()
                con.close()
            except sqlite3.Error as e:
                self.fail(name, "state_sql %r: %s" % (chk["query"], e))
                continue
            got = rows[0][0] if rows and len(rows[0]) == 1 else rows
            if "equals" in chk and got != chk["equals"]:
                self.fail(name, "state_sql %r = %r, expected %r" % (chk["query"], got, chk["equals"]))
            if "min" in chk and not (isinstance(got, (int, float)) and got >= chk["min"]):
                self.fail(name, "state_sql %r = %r, expected >= %r" % (chk["query"], got, chk["min"]))

        for prov, spec in (exp.get("inventory") or {}).items():
            self.check_inventory(name, prov, spec)

        for stream, text in (("stdout", stdout), ("stderr", stderr)):
            self.check_text(name, stream, exp.get(stream), text)

        if "json" in exp:
            try:
                doc = json.loads(stdout)
            except ValueError as e:
                self.fail(name, "stdout is not JSON (%s)%s" % (e, ctx))
            else:
                self.check_json(name, "stdout", doc, exp["json"])

        if "report" in exp:
            rep = exp["report"]
            path = os.path.join(self.dir, rep.get("file", "report.json"))
            try:
                with open(path) as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                self.fail(name, "report %s unreadable: %s%s" % (path, e, ctx))
            else:
                self.check_json(name, "report", doc, rep.get("checks", []))

        for fexp in exp.get("files", []):
            path = os.path.join(self.dir, fexp["file"])
            try:
                with open(path) as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                self.fail(name, "%s unreadable: %s" % (path, e))
            else:
                self.check_json(name, fexp["file"], doc, fexp.get("checks", []))

        if "never_contains" in exp:
            self.check_never_contains(name, exp["never_contains"], stdout, stderr)

        if exp.get("state_unchanged"):
            after = self.state_fingerprint()
            if after != before:
                self.fail(name, "the state directory changed: before %s, after %s" % (before, after))
        if exp.get("state_changed"):
            if self.state_fingerprint() == before:
                self.fail(name, "the state directory did not change")

    def check_never_contains(self, name, needles, stdout, stderr):
        """No needle appears in this run's output nor in any file of the case's work folder
        (state database, reports, plans, logs), except the generated cw.yaml, the scripts and
        the plugin's own files, which hold what the test itself wrote."""
        own = (".script.json", ".state.json", ".calls.jsonl", ".manifest.json", "cw.yaml")
        blobs = [("stdout", stdout.encode()), ("stderr", stderr.encode())]
        for root, _, files in os.walk(self.dir):
            for fn in files:
                if fn.endswith(own):
                    continue
                path = os.path.join(root, fn)
                with open(path, "rb") as f:
                    blobs.append((os.path.relpath(path, self.dir), f.read()))
        for needle in needles:
            for where, data in blobs:
                if needle.encode() in data:
                    self.fail(name, "secret %r found in %s" % (needle, where))

    def listed(self, value, name):
        if value is True:
            return list(self.providers)
        if not value:
            return []
        for p in value:
            if p not in self.providers:
                raise CaseError("run %r: unknown provider %s" % (name, p))
        return value

    def check_writes(self, name, prov, spec, calls):
        """spec: {op: {feature: [labels]}}; everything not named must be unwritten.
        Labels are compared as multisets over every call of the run, retries included."""
        if calls is None:
            raise CaseError("run %r: writes: unknown provider %s" % (name, prov))
        got = {}
        for c in calls:
            if c["op"] in WRITE_OPS:
                got.setdefault((c["op"], c["feature"]), []).extend(label(x) for x in c["items"])
        wanted = {}
        field_checks = []
        for op, feats in (spec or {}).items():
            if op not in WRITE_OPS:
                raise CaseError("run %r: writes.%s.%s: expected add, remove or update" % (name, prov, op))
            for feat, labels in (feats or {}).items():
                wanted[(op, feat)] = [label(x) if isinstance(x, dict) else str(x) for x in labels]
                field_checks.extend((op, feat, x) for x in labels if isinstance(x, dict))
        for key in sorted(set(got) | set(wanted)):
            g = sorted(got.get(key, []))
            w = sorted(wanted.get(key, []))
            if g != w:
                self.fail(name, "%s %s %s: wrote %s, expected %s" % (prov, key[0], key[1], g, w))
        # {title: .., field: value}: some item of that label was sent with those values (what
        # the request carried: ratings on the target's scale, watch and rating dates).
        for op, feat, want in field_checks:
            sent = [it for c in calls if c["op"] == op and c["feature"] == feat
                    for it in c["items"] if label(it) == label(want)]
            fields = {k: v for k, v in want.items() if k not in LABEL_KEYS}
            if not any(all(it.get(k) == v for k, v in fields.items()) for it in sent):
                self.fail(name, "%s %s %s: no %r sent with %s (sent: %s)" % (
                    prov, op, feat, label(want), fields,
                    [{k: it.get(k) for k in fields} for it in sent]))

    def check_inventory(self, name, prov, spec):
        inv = self.load_pstate(prov).get("inventory", {})
        for feat, want in spec.items():
            items = inv.get(feat, [])
            got = sorted(label(x) for x in items)
            wlabels = sorted(label(x) for x in want)
            if got != wlabels:
                self.fail(name, "%s inventory %s: %s, expected %s" % (prov, feat, got, wlabels))
                continue
            for w in want:
                if isinstance(w, dict):
                    lab = label(w)
                    hits = [x for x in items if label(x) == lab]
                    for k, v in w.items():
                        if k in ("title", "type", "show", "season", "episode"):
                            continue
                        if not any(x.get(k) == v for x in hits):
                            self.fail(name, "%s inventory %s %r: %s=%s, expected %s" % (
                                prov, feat, lab, k, [x.get(k) for x in hits], v))

    def check_text(self, name, stream, spec, text):
        if not spec:
            return
        if isinstance(spec, str):
            spec = {"contains": [spec]}
        for s in spec.get("contains", []):
            if s not in text:
                self.fail(name, "%s lacks %r:\n%s" % (stream, s, text[-3000:]))
        for s in spec.get("not_contains", []):
            if s in text:
                self.fail(name, "%s contains %r:\n%s" % (stream, s, text[-3000:]))
        for s in spec.get("matches", []):
            if not re.search(s, text, re.M):
                self.fail(name, "%s does not match /%s/:\n%s" % (stream, s, text[-3000:]))
        if spec.get("empty") and text.strip():
            self.fail(name, "%s is not empty:\n%s" % (stream, text[-3000:]))
        for chk in spec.get("lines", []):
            n = sum(1 for line in text.splitlines() if re.search(chk["matching"], line))
            if n != chk["count"]:
                self.fail(name, "%s has %d line(s) matching /%s/, expected %d:\n%s" % (
                    stream, n, chk["matching"], chk["count"], text[-3000:]))

    def check_json(self, name, what, doc, checks):
        for chk in checks:
            path = chk.get("path", "")
            vals = json_path(doc, path)
            desc = "%s %s" % (what, path)
            if "equals" in chk:
                if not vals or any(v != chk["equals"] for v in vals):
                    self.fail(name, "%s = %s, expected %s" % (desc, vals, chk["equals"]))
            if "sorted" in chk:
                flat = vals[0] if len(vals) == 1 and isinstance(vals[0], list) else vals
                if sorted(map(str, flat)) != sorted(map(str, chk["sorted"])):
                    self.fail(name, "%s = %s, expected (any order) %s" % (desc, flat, chk["sorted"]))
            if "contains" in chk:
                flat = []
                for v in vals:
                    flat.extend(v if isinstance(v, list) else [v])
                for want in (chk["contains"] if isinstance(chk["contains"], list) else [chk["contains"]]):
                    if not any(want == v or (isinstance(v, str) and isinstance(want, str) and want in v)
                               for v in flat):
                        self.fail(name, "%s has no %r (values %s)" % (desc, want, flat))
            if "count" in chk:
                if len(vals) != chk["count"]:
                    self.fail(name, "%s: %d values, expected %d (%s)" % (desc, len(vals), chk["count"], vals))
            if "exists" in chk:
                if bool(vals) != bool(chk["exists"]):
                    self.fail(name, "%s exists=%s, expected %s" % (desc, bool(vals), chk["exists"]))
            if "min" in chk:
                if not vals or any(not isinstance(v, (int, float)) or v < chk["min"] for v in vals):
                    self.fail(name, "%s = %s, expected >= %s" % (desc, vals, chk["min"]))
            if "max" in chk:
                if not vals or any(not isinstance(v, (int, float)) or v > chk["max"] for v in vals):
                    self.fail(name, "%s = %s, expected <= %s" % (desc, vals, chk["max"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cw", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case")
    args = ap.parse_args()
    try:
        sc = Scenario(args, args.case)
        sc.run_all()
    except CaseError as e:
        print("case error: %s" % e, file=sys.stderr)
        return 2
    if sc.failures:
        print("%s: %d expectation(s) failed" % (args.case, len(sc.failures)), file=sys.stderr)
        for f in sc.failures:
            print("  - " + f, file=sys.stderr)
        return 1
    print("%s: ok (%d runs)" % (os.path.basename(args.case), len(sc.case["runs"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
