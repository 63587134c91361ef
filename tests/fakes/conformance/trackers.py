#!/usr/bin/env python3
"""Conformance checks of the tracker fakes (Trakt, SIMKL, AniList, TMDb, MDBList).

Starts cw-sandbox with the tracker fakes on loopback, drives each fake through its own write
logic, and checks every reply that a description in ../shared/api-reference covers:

* TMDb: TMDb's own OpenAPI 3.1 document (jsonschema), strictly: no field the schema does not
  list, and every listed field of a list row present.
* Trakt: the official OpenAPI contract (trakt/openapi.json) where it covers a route, plus the
  recorded TraktKit replies' shapes (keys per object, per row type) everywhere: a field the
  recordings and contract do not know is an invented field, a recorded field the fake leaves
  out is a dropped one.
* SIMKL: the example bodies of SIMKL's API Blueprint, by shape as above.
* AniList: the GraphQL schema (graphql-core): the client queries validate against it and every
  reply is type-checked field by field against the selection (no extra or missing fields,
  enum values in range, non-null respected).
* MDBList: no description of api.mdblist.com exists in the references; nothing to validate.

Files marked "internal reference only" are read here at test time and never copied.
Usage: trackers.py --sandbox PATH/cw-sandbox --shared PATH/shared   (exit 77: skipped)
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
TRACKERS = ["trakt", "simkl", "mdblist", "anilist", "tmdb"]


# ---------------------------------------------------------------- sandbox and HTTP

class Sandbox:
    def __init__(self, exe, services):
        self.dir = tempfile.mkdtemp(prefix="cw-conformance-")
        self.info_path = os.path.join(self.dir, "info.json")
        self.proc = subprocess.Popen(
            [exe, "--services", ",".join(services), "--info", self.info_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        self.info = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("cw-sandbox exited early: " + self.proc.stderr.read().decode(errors="replace"))
            if os.path.exists(self.info_path):
                try:
                    with open(self.info_path) as f:
                        self.info = json.load(f)
                    if all(s in self.info for s in services):
                        break
                except (json.JSONDecodeError, OSError):
                    pass
            time.sleep(0.1)
        if self.info is None:
            self.close()
            raise RuntimeError("cw-sandbox did not write " + self.info_path + " within 60 s")

    def base(self, service):
        return self.info[service]["base_url"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def call(base, method, path, body=None, headers=None, form=None):
    data = None
    hdrs = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw, rh = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, rh = e.code, e.read(), e.headers
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except json.JSONDecodeError:
        parsed = text
    return status, {k.lower(): v for k, v in rh.items()}, parsed


class Report:
    def __init__(self):
        self.failures = []
        self.checked = 0

    def check(self, ok, where, message):
        self.checked += 1
        if not ok:
            self.failures.append(f"{where}: {message}")

    def expect_status(self, where, status, expected, body):
        ok = status in (expected if isinstance(expected, (list, tuple)) else [expected])
        self.check(ok, where, f"HTTP {status}, expected {expected}: {str(body)[:300]}")
        return ok


# ---------------------------------------------------------------- shapes and schemas

def shape_of(value):
    """Keys per object, merged over array items; scalars become their JSON type."""
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = None
        for item in value:
            merged = merge_shapes(merged, shape_of(item))
        return [merged]
    return None if value is None else type(value).__name__


def merge_shapes(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge_shapes(out.get(k), v)
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [merge_shapes(a[0], b[0])]
    return a


def compare_shape(value, recorded, where, report, allow_missing=(), allow_extra=()):
    """Fails on keys the recording does not have (invented) and on recorded keys the value lacks
    (dropped). Nested objects are compared when both sides have them."""
    if isinstance(recorded, dict) and isinstance(value, dict):
        for k in value:
            report.check(k in recorded or k in allow_extra, where, f"invented field '{k}'")
        for k in recorded:
            report.check(k in value or k in allow_missing, where, f"dropped field '{k}'")
        for k, v in value.items():
            # Which ids a title has varies per title, and "request" echoes what the client sent.
            if k in recorded and k not in ("ids", "request"):
                compare_shape(v, recorded[k], where + "." + k, report, allow_missing, allow_extra)
    elif isinstance(recorded, list) and isinstance(value, list) and recorded and recorded[0] is not None:
        for i, item in enumerate(value):
            compare_shape(item, recorded[0], f"{where}[{i}]", report, allow_missing, allow_extra)


def resolve_refs(schema, root):
    if isinstance(schema, dict):
        if "$ref" in schema and schema["$ref"].startswith("#/"):
            node = root
            for part in schema["$ref"][2:].split("/"):
                node = node[part]
            return resolve_refs(node, root)
        return {k: resolve_refs(v, root) for k, v in schema.items()}
    if isinstance(schema, list):
        return [resolve_refs(v, root) for v in schema]
    return schema


def oas30_to_jsonschema(schema):
    """OpenAPI 3.0 'nullable' becomes a JSON Schema type union."""
    if isinstance(schema, list):
        return [oas30_to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: oas30_to_jsonschema(v) for k, v in schema.items() if k not in ("nullable", "example")}
    if schema.get("nullable"):
        if "type" in out:
            t = out["type"]
            out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def schema_errors(schema, value):
    import jsonschema
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
            for e in validator.iter_errors(value)]


def schema_properties(schema):
    """Property names an object schema allows, through oneOf/anyOf/allOf."""
    props = set()
    if not isinstance(schema, dict):
        return props, False
    known = False
    if "properties" in schema:
        props |= set(schema["properties"])
        known = True
    for k in ("oneOf", "anyOf", "allOf"):
        for alt in schema.get(k, []):
            p, kn = schema_properties(alt)
            props |= p
            known = known or kn
    return props, known


def sub_schemas(schema, key):
    out = []
    if not isinstance(schema, dict):
        return out
    if key in schema.get("properties", {}):
        out.append(schema["properties"][key])
    for k in ("oneOf", "anyOf", "allOf"):
        for alt in schema.get(k, []):
            out.extend(sub_schemas(alt, key))
    return out


def item_schemas(schema):
    out = []
    if isinstance(schema, dict):
        if "items" in schema:
            out.append(schema["items"])
        for k in ("oneOf", "anyOf", "allOf"):
            for alt in schema.get(k, []):
                out.extend(item_schemas(alt))
    return out


def invented_fields(value, schema, where, report, extra_ok=None, require_all=False):
    """Reports object keys the schema does not list; with require_all, listed keys missing."""
    if isinstance(value, dict):
        props, known = schema_properties(schema)
        if known:
            allowed = props | set((extra_ok or {}).get(where.split("[")[0], ()))
            for k in value:
                report.check(k in allowed, where, f"field '{k}' is not in the description")
            if require_all:
                for k in props:
                    report.check(k in value, where, f"documented field '{k}' is missing")
        for k, v in value.items():
            for sub in sub_schemas(schema, k):
                invented_fields(v, sub, where + "." + k, report, extra_ok, require_all)
    elif isinstance(value, list):
        for sub in item_schemas(schema):
            for i, item in enumerate(value):
                invented_fields(item, sub, f"{where}[{i}]", report, extra_ok, require_all)


# ---------------------------------------------------------------- TMDb

def tmdb_relaxed(schema, name=None):
    """TMDb's OpenAPI types every field from one example value and marks nothing nullable, while
    the API prints null for absent images and ids (backdrop_path, still_path, imdb_id, ...) and
    ratings in 0.5 steps (8.5) where the example happened to hold an integer. Scalars may
    therefore be null, and "rating" may be any number; object structure stays strict."""
    if isinstance(schema, list):
        return [tmdb_relaxed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k == "properties":
            out[k] = {pk: tmdb_relaxed(pv, pk) for pk, pv in v.items()}
        else:
            out[k] = tmdb_relaxed(v)
    t = out.get("type")
    # Objects TMDb prints as null when there is none (no collection, no episode to air yet).
    if name in ("belongs_to_collection", "last_episode_to_air", "next_episode_to_air") and t == "object":
        out["type"] = ["object", "null"]
    if t in ("string", "integer", "number", "boolean"):
        if name == "rating" and t == "integer":
            t = "number"
        out["type"] = [t, "null"]
    return out

def check_tmdb(sb, shared, report):
    spec_path = os.path.join(shared, "api-reference/tmdb/tmdb-api.json")
    if not os.path.exists(spec_path):
        return "tmdb: tmdb-api.json absent"
    with open(spec_path) as f:
        spec = json.load(f)
    base = sb.base("tmdb")
    cred = sb.info["tmdb"]["credentials"]
    key, session, account = cred["api_key"], cred["session_id"], str(cred["account_id"])

    def q(path, with_session=True):
        sep = "&" if "?" in path else "?"
        return f"{path}{sep}api_key={key}" + (f"&session_id={session}" if with_session else "")

    catalog = {
        "movies": [{"id": 603, "title": "The Matrix", "original_title": "The Matrix", "release_date": "1999-03-30",
                    "genre_ids": [28, 878], "external_ids": {"imdb_id": "tt0133093"}},
                   {"id": 949, "title": "Heat", "external_ids": {"imdb_id": "tt0113277"}}],
        "tv": [{"id": 1396, "name": "Breaking Bad", "origin_country": ["US"],
                "external_ids": {"imdb_id": "tt0903747", "tvdb_id": 81189}}],
        "episodes": [{"id": 62085, "show_id": 1396, "season_number": 1, "episode_number": 1, "name": "Pilot",
                      "external_ids": {"imdb_id": "tt0959621", "tvdb_id": 349232}}],
    }
    call(base, "POST", "/__sandbox/seed", {"catalog": catalog})

    def op_schema(path, method, code):
        content = spec["paths"][path][method]["responses"][code]["content"]["application/json"]
        return tmdb_relaxed(resolve_refs(content["schema"], spec))

    def run(method, path, spec_path_, code, body=None, require_all=False, with_session=True):
        status, _, out = call(base, method, q(path, with_session), body)
        where = f"tmdb {method} {path}"
        if not report.expect_status(where, status, int(code) if code != "200" or status != 201 else 201, out):
            return
        schema = op_schema(spec_path_, method.lower(), code)
        for err in schema_errors(schema, out):
            report.check(False, where, err)
        invented_fields(out, schema, where, report, require_all=require_all)

    acc = "/3/account/{account_id}"
    # Writes first (replies: status_code/status_message), then the lists they filled.
    for mt, mid in (("movie", 603), ("movie", 949), ("tv", 1396)):
        status, _, out = call(base, "POST", q(f"/3/account/{account}/watchlist"),
                              {"media_type": mt, "media_id": mid, "watchlist": True})
        report.expect_status("tmdb POST watchlist", status, 201, out)
        schema = op_schema(acc + "/watchlist", "post", "200")
        # The description lists status_code/status_message; TMDb also prints "success" on writes.
        invented_fields(out, schema, "tmdb POST watchlist", report, extra_ok={"tmdb POST watchlist": ["success"]})
        for err in schema_errors(schema, out):
            report.check(False, "tmdb POST watchlist", err)
    for path, spec_p in ((f"/3/movie/603/rating", "/3/movie/{movie_id}/rating"),
                         (f"/3/tv/1396/rating", "/3/tv/{series_id}/rating"),
                         (f"/3/tv/1396/season/1/episode/1/rating",
                          "/3/tv/{series_id}/season/{season_number}/episode/{episode_number}/rating")):
        status, _, out = call(base, "POST", q(path), {"value": 8.5})
        report.expect_status("tmdb POST " + path, status, 201, out)
        schema = op_schema(spec_p, "post", "200")
        invented_fields(out, schema, "tmdb POST " + path, report, extra_ok={"tmdb POST " + path: ["success"]})
    run("GET", f"/3/account/{account}", acc, "200", require_all=True)
    for lst in ("watchlist/movies", "watchlist/tv", "rated/movies", "rated/tv", "rated/tv/episodes"):
        run("GET", f"/3/account/{account}/{lst}", f"{acc}/{lst}", "200", require_all=True)
    run("GET", "/3/movie/603/external_ids", "/3/movie/{movie_id}/external_ids", "200", require_all=True, with_session=False)
    run("GET", "/3/tv/1396/external_ids", "/3/tv/{series_id}/external_ids", "200", require_all=True, with_session=False)
    run("GET", "/3/find/tt0133093?external_source=imdb_id", "/3/find/{external_id}", "200", with_session=False)
    # Details (every documented field present), with external_ids appended where asked for.
    run("GET", "/3/movie/603", "/3/movie/{movie_id}", "200", require_all=True, with_session=False)
    run("GET", "/3/tv/1396", "/3/tv/{series_id}", "200", require_all=True, with_session=False)
    run("GET", "/3/configuration", "/3/configuration", "200", require_all=True, with_session=False)
    run("GET", "/3/tv/1396/season/1/episode/1/external_ids",
        "/3/tv/{series_id}/season/{season_number}/episode/{episode_number}/external_ids", "200",
        require_all=True, with_session=False)
    for path, spec_p, kind in (("/3/movie/603", "/3/movie/{movie_id}", "movie"),
                               ("/3/tv/1396", "/3/tv/{series_id}", "series")):
        status, _, out = call(base, "GET", q(path + "?append_to_response=external_ids", False))
        where = f"tmdb GET {path}?append_to_response=external_ids"
        if report.expect_status(where, status, 200, out):
            ext_schema = op_schema(f"/3/{'movie/{movie_id}' if kind == 'movie' else 'tv/{series_id}'}/external_ids",
                                   "get", "200")
            appended = out.get("external_ids")
            report.check(isinstance(appended, dict), where, "external_ids not appended")
            # Appended sub-requests print their fields without the id.
            props, _ = schema_properties(ext_schema)
            for k in props - {"id"}:
                report.check(k in (appended or {}), where, f"appended external_ids lacks '{k}'")
            for k in appended or {}:
                report.check(k in props - {"id"}, where, f"appended external_ids has '{k}'")
    run("GET", "/3/authentication/token/new", "/3/authentication/token/new", "200", require_all=True, with_session=False)
    run("GET", "/3/authentication", "/3/authentication", "200", require_all=True, with_session=False)
    # The one error the description covers: 401 on a bad key.
    status, _, out = call(base, "GET", "/3/authentication?api_key=wrong")
    report.expect_status("tmdb GET /3/authentication bad key", status, 401, out)
    schema = op_schema("/3/authentication", "get", "401")
    invented_fields(out, schema, "tmdb 401", report, require_all=True)
    for err in schema_errors(schema, out):
        report.check(False, "tmdb 401", err)
    for path in ("/3/movie/603/rating", "/3/tv/1396/rating"):
        status, _, out = call(base, "DELETE", q(path))
        report.expect_status("tmdb DELETE " + path, status, 200, out)
        report.check(out.get("status_code") == 13, "tmdb DELETE " + path, f"status_code {out.get('status_code')}, expected 13")
    return None


# ---------------------------------------------------------------- Trakt

def load_json(path):
    with open(path) as f:
        return json.load(f)


def rows_by_type(rows):
    out = {}
    for row in rows:
        out[row.get("type")] = merge_shapes(out.get(row.get("type")), shape_of(row))
    return out


def check_trakt(sb, shared, report):
    kit = os.path.join(shared, "api-reference/trakt/fixtures/TraktKit")
    contract_path = os.path.join(shared, "api-reference/trakt/openapi.json")
    if not os.path.isdir(kit) or not os.path.exists(contract_path):
        return "trakt: TraktKit fixtures or openapi.json absent"
    contract = load_json(contract_path)
    base = sb.base("trakt")
    cred = sb.info["trakt"]["credentials"]
    h = {"trakt-api-key": cred["client_id"], "trakt-api-version": "2",
         "Authorization": "Bearer " + cred["access_token"]}
    rec = {name: load_json(os.path.join(kit, name)) for name in (
        "Sync/test_get_watchlist.json", "Sync/test_get_watched_history.json", "Sync/test_get_ratings.json",
        "Sync/test_get_playback_progress.json", "Sync/test_get_last_activity.json", "Users/test_get_settings.json",
        "Sync/test_add_items_to_watchlist.json", "Sync/test_remove_items_from_watchlist.json",
        "Sync/test_add_items_to_watched_history.json", "Sync/test_remove_items_from_history.json",
        "Sync/test_add_new_ratings.json", "Sync/test_remove_ratings.json",
        "Scrobble/test_pause_watching_in_media_center.json", "Users/test_get_items_on_custom_list.json")}
    # A catalog made of the recorded media objects, so ids carry the recorded keys.
    movies = [r["movie"] for r in rec["Sync/test_get_watched_history.json"] if r["type"] == "movie"]
    pb_ep = next(r for r in rec["Sync/test_get_playback_progress.json"] if r["type"] == "episode")
    hist_ep = next(r for r in rec["Sync/test_get_watched_history.json"] if r["type"] == "episode")
    show = dict(hist_ep["show"])
    show["seasons"] = [{"number": hist_ep["episode"]["season"],
                        "ids": {"trakt": 5001, "tvdb": 5002, "tmdb": 5003},
                        "episodes": [hist_ep["episode"]]}]
    call(base, "POST", "/__sandbox/seed", {"catalog": {"movies": movies, "shows": [show, pb_ep["show"]]}})
    mid = movies[0]["ids"]["trakt"]
    eid = hist_ep["episode"]["ids"]["trakt"]
    sid = show["ids"]["trakt"]

    def contract_schema(path, method, code):
        op = contract["paths"].get(path, {}).get(method)
        if not op or code not in op.get("responses", {}):
            return None
        content = op["responses"][code].get("content", {}).get("application/json")
        return oas30_to_jsonschema(resolve_refs(content["schema"], contract)) if content else None

    def check_write(method, path, body, code, recorded, contract_path=None, extra_buckets=()):
        status, _, out = call(base, method, path, body, h)
        where = f"trakt {method} {path}"
        if not report.expect_status(where, status, int(code), out):
            return out
        schema = contract_schema(contract_path or path, method.lower(), code)
        if schema:
            for err in schema_errors(schema, out):
                report.check(False, where + " (contract)", err)
        props, _ = schema_properties(schema or {})
        compare_shape({k: v for k, v in out.items() if k != "not_found"},
                      {k: v for k, v in shape_of(recorded).items() if k != "not_found"}, where, report,
                      allow_missing=(), allow_extra=tuple(props))
        for bucket in out.get("not_found", {}):
            report.check(bucket in recorded.get("not_found", {}) or bucket in extra_buckets or bucket in
                         schema_properties(((schema or {}).get("properties", {}) or {}).get("not_found", {}))[0],
                         where, f"invented not_found bucket '{bucket}'")
        return out

    unknown = {"ids": {"imdb": "tt0000111"}}
    list_body = {"movies": [{"ids": {"trakt": mid}}, unknown], "shows": [{"ids": {"trakt": sid}}],
                 "episodes": [{"ids": {"trakt": eid}}]}
    check_write("POST", "/sync/watchlist", list_body, "201", rec["Sync/test_add_items_to_watchlist.json"])
    status, _, rows = call(base, "GET", "/sync/watchlist", None, h)
    shapes = rows_by_type(rec["Sync/test_get_watchlist.json"] + rec["Users/test_get_items_on_custom_list.json"])
    for row in rows or []:
        compare_shape(row, shapes.get(row.get("type")), "trakt GET /sync/watchlist " + row.get("type", "?"), report)
    check_write("POST", "/sync/watchlist/remove", list_body, "200", rec["Sync/test_remove_items_from_watchlist.json"])

    hist_body = {"movies": [{"ids": {"trakt": mid}, "watched_at": "2026-01-05T20:31:45Z"}, unknown],
                 "episodes": [{"ids": {"trakt": eid}, "watched_at": "2026-01-06T20:00:00Z"}]}
    # A live history-add reply (2025) lists a "users" bucket next to the documented "people".
    check_write("POST", "/sync/history", hist_body, "200", rec["Sync/test_add_items_to_watched_history.json"],
                extra_buckets=("users",))
    status, _, rows = call(base, "GET", "/sync/history", None, h)
    shapes = rows_by_type(rec["Sync/test_get_watched_history.json"])
    report.check(len(rows or []) == 2, "trakt GET /sync/history", f"expected 2 plays, got {len(rows or [])}")
    for row in rows or []:
        compare_shape(row, shapes.get(row.get("type")), "trakt GET /sync/history " + row.get("type", "?"), report)
        report.check(row.get("watched_at", "").endswith(":00.000Z"), "trakt GET /sync/history",
                     f"watched_at {row.get('watched_at')} is not minute precision")
    check_write("POST", "/sync/history/remove", {"ids": [rows[0]["id"], 42] if rows else [42], "movies": [unknown]},
                "200", rec["Sync/test_remove_items_from_history.json"])

    rate_body = {"movies": [{"ids": {"trakt": mid}, "rating": 9}, dict(unknown, rating=10)],
                 "episodes": [{"ids": {"trakt": eid}, "rating": 7}]}
    check_write("POST", "/sync/ratings", rate_body, "201", rec["Sync/test_add_new_ratings.json"])
    status, _, rows = call(base, "GET", "/sync/ratings", None, h)
    shapes = rows_by_type(rec["Sync/test_get_ratings.json"])
    shapes.setdefault("episode", merge_shapes(shapes.get("movie"), {"episode": shape_of(hist_ep["episode"]),
                                                                    "show": shape_of(hist_ep["show"])}))
    shapes["episode"].pop("movie", None)
    for row in rows or []:
        compare_shape(row, shapes.get(row.get("type")), "trakt GET /sync/ratings " + row.get("type", "?"), report)
    check_write("POST", "/sync/ratings/remove", {"movies": [{"ids": {"trakt": mid}}, unknown]}, "200",
                rec["Sync/test_remove_ratings.json"])

    status, _, out = call(base, "POST", "/scrobble/pause", {"progress": 40, "movie": {"ids": {"trakt": mid}}}, h)
    if report.expect_status("trakt POST /scrobble/pause", status, 201, out):
        compare_shape(out, shape_of(rec["Scrobble/test_pause_watching_in_media_center.json"]),
                      "trakt POST /scrobble/pause", report)
    call(base, "POST", "/scrobble/pause", {"progress": 60, "episode": {"ids": {"trakt": eid}}}, h)
    status, _, rows = call(base, "GET", "/sync/playback", None, h)
    shapes = rows_by_type(rec["Sync/test_get_playback_progress.json"])
    for row in rows or []:
        compare_shape(row, shapes.get(row.get("type")), "trakt GET /sync/playback " + row.get("type", "?"), report)

    status, _, out = call(base, "GET", "/sync/last_activities", None, h)
    compare_shape(out, shape_of(rec["Sync/test_get_last_activity.json"]), "trakt GET /sync/last_activities", report,
                  allow_extra=("reacted_at",))
    status, _, out = call(base, "GET", "/users/settings", None, h)
    schema = contract_schema("/users/settings", "get", "200")
    for err in schema_errors(schema, out):
        report.check(False, "trakt GET /users/settings (contract)", err)
    props, _ = schema_properties(schema)
    compare_shape(out, shape_of(rec["Users/test_get_settings.json"]), "trakt GET /users/settings", report,
                  allow_missing=("limits",), allow_extra=tuple(props) + ("director", "trakt", "permissions"))
    status, _, out = call(base, "POST", "/oauth/device/code", {"client_id": cred["client_id"]})
    if report.expect_status("trakt POST /oauth/device/code", status, 200, out):
        for err in schema_errors(contract_schema("/oauth/device/code", "post", "200"), out):
            report.check(False, "trakt POST /oauth/device/code (contract)", err)
    check_trakt_reads(base, h, report, contract_schema, load_json(os.path.join(kit, "Sync/test_get_watched.json")),
                      load_json(os.path.join(kit, "Sync/test_get_watched_shows.json")),
                      load_json(os.path.join(kit, "Shows-test_get_watched_progress.json")), mid, sid, eid)
    status, _, out = call(base, "GET", f"/shows/{sid}/seasons", None, h)
    if report.expect_status("trakt GET /shows/{id}/seasons", status, 200, out):
        for err in schema_errors(contract_schema("/shows/{id}/seasons", "get", "200"), out):
            report.check(False, "trakt GET /shows/{id}/seasons (contract)", err)
    return None


def check_trakt_reads(base, h, report, contract_schema, rec_watched, rec_watched_shows, rec_progress, mid, sid, eid):
    """The reads beyond /sync/*: watched, /users/me/*, progress, summaries and search, each against
    the contract and, where TraktKit recorded the route, the recording's keys."""
    call(base, "POST", "/sync/history", {"movies": [{"ids": {"trakt": mid}, "watched_at": "2026-02-01T10:00:00Z"}],
                                         "episodes": [{"ids": {"trakt": eid}, "watched_at": "2026-02-02T10:00:00Z"}]}, h)

    def contract(where, path, contract_path, out):
        schema = contract_schema(contract_path, "get", "200")
        report.check(schema is not None, where, f"no contract for {contract_path}")
        for err in schema_errors(schema or {}, out):
            report.check(False, where + " (contract)", err)
        return schema

    def get(path):
        status, headers, out = call(base, "GET", path, None, h)
        report.expect_status("trakt GET " + path, status, 200, out)
        return headers, out

    _, out = get("/sync/watched/movies")
    report.check(bool(out), "trakt GET /sync/watched/movies", "no rows after a play")
    compare_shape(out, shape_of(rec_watched), "trakt GET /sync/watched/movies", report)
    _, out = get("/sync/watched/shows")
    report.check(bool(out), "trakt GET /sync/watched/shows", "no rows after a play")
    contract("trakt GET /sync/watched/shows", "", "/users/{id}/watched/shows", out)
    # reset_at is in the contract (2025), not in the older recording.
    compare_shape(out, shape_of(rec_watched_shows), "trakt GET /sync/watched/shows", report,
                  allow_extra=("reset_at", "aired_episodes"))
    _, out = get("/users/me/watched/shows")
    contract("trakt GET /users/me/watched/shows", "", "/users/{id}/watched/shows", out)
    # The contract types history rows with full media objects, so it is checked with extended=full.
    _, out = get("/users/me/history?extended=full")
    contract("trakt GET /users/me/history", "", "/users/{id}/history/", out)
    _, out = get("/users/me/watchlist/movies/rank")
    contract("trakt GET /users/me/watchlist/movies/rank", "", "/users/{id}/watchlist/movies/{sort}", out)
    _, out = get(f"/shows/{sid}/progress/watched")
    # Trakt answers next_episode null once every aired episode is watched (docs); the contract
    # does not mark it nullable.
    schema = contract_schema("/shows/{id}/progress/watched", "get", "200") or {}
    for err in schema_errors(schema, out):
        if not err.startswith("next_episode: None"):
            report.check(False, "trakt GET /shows/{id}/progress/watched (contract)", err)
    # TraktKit recorded minimal next/last episodes; the contract has full ones.
    full_episode, _ = schema_properties((contract_schema("/shows/{id}/progress/watched", "get", "200") or {})
                                        .get("properties", {}).get("next_episode", {}))
    compare_shape(out, shape_of(rec_progress), "trakt GET /shows/{id}/progress/watched", report,
                  allow_extra=("reset_at", "title") + tuple(full_episode),
                  allow_missing=("next_episode", "last_episode"))
    for path, contract_path in ((f"/movies/{mid}?extended=full", "/movies/{id}"),
                                (f"/shows/{sid}?extended=full", "/shows/{id}"),
                                (f"/movies/{mid}", "/movies/{id}")):
        _, out = get(path)
        schema = contract("trakt GET " + path, path, contract_path, out)
        if "extended=full" in path:
            # Every field the contract lists for a full object is present (images only with
            # extended=images, colors never described).
            # trailer, homepage, certification, network and airs hold real-world data the fake
            # has only when a fixture stores it (the contract types them as non-null strings).
            props, _ = schema_properties(schema or {})
            for k in sorted(props - {"images", "colors", "trailer", "homepage", "certification", "network", "airs"}):
                report.check(k in out, "trakt GET " + path, f"full object lacks '{k}'")
    _, out = get(f"/search/trakt/{mid}?type=movie&extended=full")
    report.check(len(out or []) == 1 and "runtime" in out[0].get("movie", {}), "trakt GET /search extended=full",
                 f"expected one full movie, got {str(out)[:200]}")
    headers, out = get("/sync/watchlist")
    for k in ("x-sort-by", "x-sort-how", "x-applied-sort-by", "x-applied-sort-how"):
        report.check(k in headers, "trakt GET /sync/watchlist", f"header {k} missing")
    report.check(headers.get("x-sort-by") in ("rank", "added", "title", "released", "runtime", "popularity",
                                              "percentage", "votes"), "trakt GET /sync/watchlist",
                 f"X-Sort-By {headers.get('x-sort-by')!r} is not a Trakt sort value")


# ---------------------------------------------------------------- SIMKL

def apib_example(text, heading, nth=0):
    pos = text.find(heading)
    if pos < 0:
        return None
    for _ in range(nth + 1):
        pos = text.find("+ Response 20", pos + 1)
        if pos < 0:
            return None
    stop = min([p for p in (text.find("+ Request", pos + 1), text.find("\n## ", pos + 1),
                            text.find("\n### ", pos + 1)) if p > 0] or [len(text)])
    starts = [p for p in (text.find("{", pos), text.find("[", pos)) if 0 <= p < stop]
    if not starts:
        return None
    start = min(starts)
    depth, in_str, i = 0, False, start
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return json.loads(text[start:i + 1])
        i += 1
    return None


def check_simkl(sb, shared, report):
    path = os.path.join(shared, "api-reference/simkl/apiary.apib")
    if not os.path.exists(path):
        return "simkl: apiary.apib absent"
    with open(path, encoding="utf-8") as f:
        apib = f.read()
    base = sb.base("simkl")
    cred = sb.info["simkl"]["credentials"]
    h = {"simkl-api-key": cred["client_id"], "Authorization": "Bearer " + cred["access_token"]}
    activities = apib_example(apib, "## Last Activities [/sync/activities]")
    all_items = apib_example(apib, "## Get All Items [/sync/all-items/")
    ratings = apib_example(apib, "## Get Ratings [/sync/ratings/")
    playback = apib_example(apib, "### Get Playback Sessions [GET]")
    pause = apib_example(apib, "## Pause [/scrobble/pause]")
    history_add = None
    for n in range(8):
        ex = apib_example(apib, "## Add Items to the history [/sync/history]", n)
        if isinstance(ex, dict) and "added" in ex:
            history_add = ex
            break
    catalog = {"movies": [r["movie"] for r in all_items["movies"]],
               "shows": [dict(r["show"], seasons=[{"number": 1, "episodes": [{"number": 1, "title": "Pilot"},
                                                                              {"number": 2}]}])
                         for r in all_items["shows"]],
               "anime": [dict(r["show"], anime_type=r.get("anime_type", "tv")) for r in all_items["anime"]]}
    call(base, "POST", "/__sandbox/seed", {"catalog": catalog})
    m_ids = catalog["movies"][0]["ids"]
    s_ids = catalog["shows"][0]["ids"]
    a_ids = catalog["anime"][0]["ids"]
    status, _, out = call(base, "POST", "/sync/history", {
        "movies": [{"ids": m_ids, "watched_at": "2026-01-05T20:31:12Z"}],
        "shows": [{"ids": s_ids, "seasons": [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-01-06T22:10:45Z"}]}]}]}, h)
    if report.expect_status("simkl POST /sync/history", status, 201, out) and history_add:
        compare_shape(out, shape_of(history_add), "simkl POST /sync/history", report)
    call(base, "POST", "/sync/add-to-list", {"shows": [{"to": "plantowatch", "ids": a_ids}]}, h)
    call(base, "POST", "/sync/ratings", {"movies": [{"ids": m_ids, "rating": 8}], "shows": [{"ids": a_ids, "rating": 9}]}, h)
    call(base, "POST", "/scrobble/pause", {"progress": 30, "movie": {"ids": m_ids}}, h)
    status, _, out = call(base, "POST", "/scrobble/pause", {"progress": 45.5, "show": {"ids": s_ids},
                                                            "episode": {"season": 1, "number": 1}}, h)
    if report.expect_status("simkl POST /scrobble/pause", status, 201, out):
        compare_shape(out, shape_of(pause), "simkl POST /scrobble/pause", report)

    status, _, out = call(base, "GET", "/sync/activities", None, h)
    compare_shape(out, shape_of(activities), "simkl GET /sync/activities", report)
    status, _, out = call(base, "GET", "/sync/all-items", None, h)
    rec_rows = {b: shape_of(rows) for b, rows in all_items.items()}
    for bucket, rows in (out or {}).items():
        report.check(bucket in rec_rows, "simkl GET /sync/all-items", f"invented bucket '{bucket}'")
        # Optional row fields: SIMKL prints episode counters only on shows and anime.
        compare_shape(rows, rec_rows.get(bucket), f"simkl GET /sync/all-items {bucket}", report,
                      allow_missing=("poster", "runtime", "zap2it", "offen", "next_to_watch", "last_watched"))
    # Ids: the examples print simkl as a number and every other id as a string.
    for bucket, rows in (out or {}).items():
        for row in rows:
            ids = (row.get("movie") or row.get("show") or {}).get("ids", {})
            report.check(isinstance(ids.get("simkl"), int), f"simkl GET /sync/all-items {bucket}",
                         f"ids.simkl missing or not a number: {ids}")
            for k, v in ids.items():
                report.check(k == "simkl" or isinstance(v, str), f"simkl GET /sync/all-items {bucket}",
                             f"ids.{k} is {type(v).__name__}, the example prints strings")
    lookup = apib_example(apib, "## ID Lookup [/search/id")
    status, _, out = call(base, "GET", "/search/id?imdb=" + m_ids["imdb"] + "&client_id=" + cred["client_id"])
    if report.expect_status("simkl GET /search/id", status, 200, out) and lookup:
        report.check(len(out or []) == 1, "simkl GET /search/id", f"expected one hit, got {out}")
        shapes = {r["type"]: shape_of(r) for r in lookup}
        for row in out or []:
            compare_shape(row, shapes.get(row.get("type"), shapes.get("movie")), "simkl GET /search/id", report,
                          allow_missing=("poster",))
            report.check(set(row.get("ids", {})) <= {"simkl", "slug"}, "simkl GET /search/id",
                         f"ids {row.get('ids')} hold more than simkl and slug")
    status, _, out = call(base, "GET", "/sync/ratings", None, h)
    rec_rows = {b: shape_of(rows) for b, rows in ratings.items()}
    for bucket, rows in (out or {}).items():
        # The ratings example prints the brief media object; all-items prints poster and runtime too.
        compare_shape(rows, rec_rows.get(bucket), f"simkl GET /sync/ratings {bucket}", report,
                      allow_missing=("poster", "runtime", "last_watched", "next_to_watch", "zap2it", "offen"),
                      allow_extra=("poster", "runtime"))
    status, _, out = call(base, "GET", "/sync/playback", None, h)
    shapes = rows_by_type(playback)
    for row in out or []:
        compare_shape(row, shapes.get(row.get("type")), "simkl GET /sync/playback " + row.get("type", "?"), report)
    return None


# ---------------------------------------------------------------- AniList

def check_anilist(sb, shared, report):
    try:
        import graphql
    except ImportError:
        return "anilist: graphql-core (python3-graphql-core) is not installed"
    schema_path = os.path.join(shared, "api-reference/anilist/schema.graphqls")
    if not os.path.exists(schema_path):
        schema_path = os.path.join(shared, "api-reference/anilist/2023-08-mit/schema.graphql")
    if not os.path.exists(schema_path):
        return "anilist: no schema file"
    with open(schema_path, encoding="utf-8") as f:
        schema = graphql.build_schema(f.read())
    base = sb.base("anilist")
    token = sb.info["anilist"]["credentials"]["access_token"]
    viewer_id = sb.info["anilist"]["credentials"]["user"]["id"]
    h = {"Authorization": "Bearer " + token}
    media = [{"id": 99426, "idMal": 35839, "type": "ANIME", "format": "TV", "seasonYear": 2018, "episodes": 13,
              "title": {"romaji": "Sora yori mo Tooi Basho", "english": "A Place Further Than the Universe", "native": None},
              "startDate": {"year": 2018, "month": 1, "day": 2}},
             {"id": 20, "idMal": 20, "type": "ANIME", "format": "MOVIE", "seasonYear": 2002, "episodes": 1,
              "title": {"romaji": "Naruto", "english": None, "native": None},
              "startDate": {"year": 2002, "month": None, "day": None}}]
    call(base, "POST", "/__sandbox/seed", {"media": media, "options": {"rate_limit": 0}})
    # The documents a list-sync client sends (providers-trackers.md §4.4).
    docs = [
        ("query { Viewer { id name mediaListOptions { scoreFormat } } }", {}),
        ("mutation ($mediaId: Int, $status: MediaListStatus) { SaveMediaListEntry(mediaId: $mediaId, status: $status) { id status mediaId } }",
         {"mediaId": 99426, "status": "PLANNING"}),
        ("mutation ($mediaId: Int, $scoreRaw: Int) { SaveMediaListEntry(mediaId: $mediaId, scoreRaw: $scoreRaw) { id mediaId score(format: POINT_10) } }",
         {"mediaId": 20, "scoreRaw": 80}),
        ("query ($userId: Int, $type: MediaType, $status: MediaListStatus) { MediaListCollection(userId: $userId, type: $type, status: $status) { lists { name status isCustomList entries { id status media { id idMal title { romaji english native } format seasonYear startDate { year } } } } hasNextChunk } }",
         {"userId": viewer_id, "type": "ANIME", "status": "PLANNING"}),
        ("query ($userId: Int) { MediaListCollection(userId: $userId, type: ANIME) { lists { entries { id mediaId status score(format: POINT_10) updatedAt createdAt media { id idMal format title { romaji } } } } } }",
         {"userId": viewer_id}),
        ("query ($idMal: Int, $type: MediaType) { Media(idMal: $idMal, type: $type) { id idMal } }", {"idMal": 35839, "type": "ANIME"}),
        ("query ($mediaId: Int, $userId: Int) { MediaList(mediaId: $mediaId, userId: $userId) { id status } }",
         {"mediaId": 99426, "userId": viewer_id}),
        ("query ($page: Int, $search: String) { Page(page: $page, perPage: 10) { pageInfo { hasNextPage total currentPage } media(search: $search, type: ANIME) { id idMal format seasonYear startDate { year } title { romaji english native } mediaListEntry { id status } } } }",
         {"page": 1, "search": "sora"}),
        ("mutation ($id: Int) { DeleteMediaListEntry(id: $id) { deleted } }", {"id": 0}),
    ]
    for text, variables in docs:
        where = "anilist " + " ".join(text.split()[:3])
        document = graphql.parse(text)
        errors = graphql.validate(schema, document)
        report.check(not errors, where, f"client document invalid against the schema: {errors}")
        status, _, out = call(base, "POST", "/", {"query": text, "variables": variables}, h)
        if not report.expect_status(where, status, 200, out):
            continue
        report.check("errors" not in out, where, f"errors in reply: {out.get('errors')}")
        op = next(d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode))
        root = schema.mutation_type if op.operation == graphql.OperationType.MUTATION else schema.query_type
        typecheck_selection(out.get("data"), root, op.selection_set, where, report, schema)
    # Validation: the fake rejects with 400 exactly the documents graphql-core (the reference
    # implementation) finds invalid against AniList's schema, and runs the valid ones.
    probes = [
        ("query { Viewer { id mediaListOptions { scoreFormat nope } } }", {}),
        ("query { Media(id: 99426, type: SERIES) { id } }", {}),
        ("query { Media(id: 99426) }", {}),
        ("query { Media(id: 99426) { id { x } } }", {}),
        ("query { Media(id: 99426, bogus: 1) { id } }", {}),
        ("query { MediaListCollection(userId: 1, type: ANIME) { lists { entries { media { title } } } } }", {}),
        ("query ($s: MediaListStatus) { MediaList(userId: 1, status: $s) { id } }", {"s": "WATCHING"}),
        ("query { Media(id: 99426) { id isAdult coverImage { large } reviews { nodes { id } } } }", {}),
        ("query ($s: MediaListStatus) { Page { mediaList(userId: 1, status: $s) { id } } }", {"s": "PLANNING"}),
    ]
    for text, variables in probes:
        document = graphql.parse(text)
        reference = graphql.validate(schema, document)
        if not reference:
            op = document.definitions[0]
            reference = graphql.get_variable_values(schema, op.variable_definitions, variables)
            reference = reference if isinstance(reference, list) else []
        status, _, out = call(base, "POST", "/", {"query": text, "variables": variables}, h)
        where = "anilist validation " + text[:60]
        if reference:
            report.check(status == 400 and isinstance(out, dict) and out.get("data") is None and out.get("errors"),
                         where, f"graphql-core: {reference[0].message}; the fake answered {status} {str(out)[:200]}")
        else:
            report.check(status in (200, 404) and "data" in (out or {}), where,
                         f"valid document, the fake answered {status} {str(out)[:200]}")
            if status == 200:
                op = next(d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode))
                typecheck_selection(out.get("data"), schema.query_type, op.selection_set, where, report, schema)
    # Error format: unknown media → 404 "Not Found." with data.Media null.
    status, _, out = call(base, "POST", "/", {"query": "query { Media(id: 1) { id } }"}, h)
    report.check(status == 404 and out.get("data") == {"Media": None}
                 and out["errors"][0]["message"] == "Not Found." and out["errors"][0]["status"] == 404,
                 "anilist Media 404", f"unexpected reply {status} {out}")
    return None


def typecheck_selection(value, gtype, selection_set, where, report, schema):
    import graphql
    if value is None:
        return
    if not isinstance(value, dict):
        report.check(False, where, f"expected an object, got {type(value).__name__}")
        return
    fields = gtype.fields
    expected_keys = []
    for sel in selection_set.selections:
        if isinstance(sel, graphql.FieldNode):
            key = sel.alias.value if sel.alias else sel.name.value
            expected_keys.append(key)
            if sel.name.value == "__typename":
                continue
            fdef = fields.get(sel.name.value)
            if fdef is None:
                report.check(False, where, f"field {sel.name.value} not in type {gtype.name}")
                continue
            if key not in value:
                report.check(False, where, f"dropped field '{key}'")
                continue
            typecheck_value(value[key], fdef.type, sel, f"{where}.{key}", report, schema)
    for k in value:
        report.check(k in expected_keys, where, f"invented field '{k}'")


def typecheck_value(value, gtype, sel, where, report, schema):
    import graphql
    if graphql.is_non_null_type(gtype):
        report.check(value is not None, where, "null in a non-null field")
        gtype = gtype.of_type
    if value is None:
        return
    if graphql.is_list_type(gtype):
        if not isinstance(value, list):
            report.check(False, where, "expected a list")
            return
        for i, item in enumerate(value):
            typecheck_value(item, gtype.of_type, sel, f"{where}[{i}]", report, schema)
        return
    if graphql.is_enum_type(gtype):
        report.check(value in gtype.values, where, f"'{value}' is not a {gtype.name} value")
    elif graphql.is_scalar_type(gtype):
        ok = {"Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "Float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "String": lambda v: isinstance(v, str),
              "Boolean": lambda v: isinstance(v, bool)}.get(gtype.name, lambda v: True)(value)
        report.check(ok, where, f"{value!r} is not a {gtype.name}")
    elif graphql.is_object_type(gtype) and sel.selection_set:
        typecheck_selection(value, gtype, sel.selection_set, where, report, schema)


# ---------------------------------------------------------------- main

CHECKS = {"tmdb": check_tmdb, "trakt": check_trakt, "simkl": check_simkl, "anilist": check_anilist}


def run_checks(sandbox_exe, shared, services=None):
    """Runs the tracker checks; returns (report, skipped reasons)."""
    services = services or list(CHECKS)
    report = Report()
    skipped = []
    sb = Sandbox(sandbox_exe, [s for s in TRACKERS if s in services or s == "mdblist"])
    try:
        for name in services:
            try:
                reason = CHECKS[name](sb, shared, report)
            except Exception as e:  # a crash in one check is a failure, not a stop
                report.failures.append(f"{name}: check crashed: {type(e).__name__}: {e}")
                reason = None
            if reason:
                skipped.append(reason)
        skipped.append("mdblist: no machine-readable description of api.mdblist.com in the references")
    finally:
        sb.close()
    return report, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sandbox", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--services", default=",".join(CHECKS))
    args = ap.parse_args(argv)
    if not os.path.isdir(os.path.join(args.shared, "api-reference")):
        print(f"SKIP: {args.shared}/api-reference is absent")
        return SKIP
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        print("SKIP: python3-jsonschema is not installed (scripts/install-deps.sh)")
        return SKIP
    report, skipped = run_checks(args.sandbox, args.shared, args.services.split(","))
    for s in skipped:
        print("skipped:", s)
    for f in report.failures:
        print("FAIL:", f)
    print(f"tracker conformance: {report.checked} checks, {len(report.failures)} failures")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
