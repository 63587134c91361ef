"""Conformance checks of the media-server fakes (Plex, Jellyfin, Emby, Tautulli)."""

import json

_TAUTULLI = "api-reference/tautulli/fixtures/tautulli-dart-v2.17.2/"

# Real PMS fields that the community spec does not list, with where they are documented.
_PLEX_EXTRA = {"lastRatedAt": "shared/reference/providers-servers.md 1.6 (ratings rows)"}


def _schema_props(doc, name):
    return set(doc["components"]["schemas"][name].get("properties", {}))


def _vocabulary(node, out):
    """Every property name defined anywhere in an OpenAPI document."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            out.update(props)
        for v in node.values():
            _vocabulary(v, out)
    elif isinstance(node, list):
        for v in node:
            _vocabulary(v, out)
    return out


def plex_library(ctx):
    spec = ctx.shared_yaml("api-reference/plex/plex-api-spec.yaml")
    metadata = spec["components"]["schemas"]["Metadata"]
    known = _vocabulary(spec, set())
    allowed = set(metadata.get("properties", {})) | known | set(_PLEX_EXTRA)
    h = {"Accept": "application/json", "X-Plex-Token": ctx.credentials["pms_token"]}
    paths = ["/library/sections/1/all?type=1&includeGuids=1&X-Plex-Container-Start=0&X-Plex-Container-Size=50",
             "/library/sections/2/all?type=2&includeGuids=1",
             "/library/sections/2/all?type=4&includeGuids=1&unwatched=0&sort=lastViewedAt:desc",
             "/library/all?type=1&includeGuids=1&userRating>>=0&sort=lastRatedAt:desc"]
    for path in paths:
        body = ctx.get_json(path, h)
        if body is None:
            continue
        mc = body.get("MediaContainer", {})
        ctx.validate(mc, spec["components"]["schemas"]["MediaContainer"], spec, path + " container")
        rows = mc.get("Metadata", [])
        if not rows:
            ctx.fail(f"{path}: no Metadata rows to check")
        for i, row in enumerate(rows[:40]):
            ctx.validate(row, metadata, spec, f"{path} row {i}")
            ctx.expect_fields(row, allowed, ["ratingKey", "key", "type", "title"], f"{path} row {i}")
    # Session-history rows are not library Metadata (no addedAt): field names only.
    hist = ctx.get_json("/status/sessions/history/all?sort=viewedAt:desc", h)
    if hist is not None:
        rows = hist["MediaContainer"].get("Metadata", [])
        if not rows:
            ctx.fail("history: no rows to check")
        for i, row in enumerate(rows[:40]):
            ctx.expect_fields(row, known, ["historyKey", "ratingKey", "viewedAt", "accountID"],
                              f"history row {i}")
    sections = ctx.get_json("/library/sections", h)
    if sections is not None:
        directory = spec["components"]["schemas"]["Directory"]
        for i, d in enumerate(sections["MediaContainer"]["Directory"]):
            ctx.validate(d, directory, spec, f"/library/sections Directory {i}")
            ctx.expect_fields(d, known, ["key", "type", "title"], f"/library/sections Directory {i}")


def plex_discover(ctx):
    # The older dereferenced spec is the one that describes plex.tv and the Discover hosts.
    spec = ctx.shared_yaml("api-reference/plex/2025-09-dereferenced/plex-media-server-spec-dereferenced.yaml")
    known = _vocabulary(spec, set())
    h = {"Accept": "application/json", "X-Plex-Token": ctx.credentials["account_token"]}
    wl = ctx.get_json("/library/sections/watchlist/all?X-Plex-Container-Start=0&X-Plex-Container-Size=100", h)
    if wl is not None:
        rows = wl["MediaContainer"].get("Metadata", [])
        if not rows:
            ctx.fail("watchlist: no rows to check")
        for i, row in enumerate(rows):
            ctx.expect_fields(row, known, ["ratingKey", "guid", "type", "title"], f"watchlist row {i}")
            meta = ctx.get_json(f"/library/metadata/{row['ratingKey']}?includeGuids=1", h)
            if meta is not None:
                m = meta["MediaContainer"]["Metadata"][0]
                ctx.expect_fields(m, known, ["ratingKey", "guid", "Guid"], f"metadata {row['ratingKey']}")
    pin = ctx.get_json("/api/v2/pins", {"Accept": "application/json",
                                        "X-Plex-Client-Identifier": "conformance"},
                       expect=201, method="POST", body="")
    if pin is not None:
        ctx.expect_fields(pin, known, ["id", "code", "authToken"], "POST /api/v2/pins")
    user = ctx.get_json("/api/v2/user", h)
    if user is not None:
        ctx.expect_fields(user, known, ["id", "uuid", "username", "authToken"], "GET /api/v2/user")


def plex_recorded_401(ctx):
    recorded = ctx.shared_json("api-reference/plex/fixtures/watchstate/plex_data.json")
    want = recorded["sections_get_401"]["response"]
    status, headers, raw = ctx.request("GET", "/library/sections", {"X-Plex-Token": "invalid"})
    ctx.checked += 1
    if status != want["http_code"] or raw.decode() != want["body"]:
        ctx.fail(f"401 reply differs from the recording: {status} {raw[:80]!r}")


def _mediabrowser(ctx, doc, names):
    base_item = doc["components"]["schemas"]["BaseItemDto"]
    item_props = set(base_item.get("properties", {}))
    user_data_props = _schema_props(doc, "UserItemDataDto")
    uid = ctx.credentials["user_id"]
    h = {"X-Emby-Token": ctx.credentials["access_token"]}
    prefix = f"/Users/{uid}/Items?" if ctx.service == "emby" else f"/Items?userId={uid}&"
    queries = ["IncludeItemTypes=Movie,Series&Recursive=true&Fields=ProviderIds,Path,DateCreated&Limit=40",
               "IncludeItemTypes=Movie,Episode&Recursive=true&Filters=IsPlayed&SortBy=DatePlayed&SortOrder=Descending&Fields=ProviderIds,UserData&Limit=40",
               "IncludeItemTypes=Movie,Series&Recursive=true&Filters=IsFavorite&Fields=ProviderIds&Limit=40"]
    for q in queries:
        body = ctx.get_json(prefix + q, h)
        if body is None:
            continue
        ctx.validate(body, doc["components"]["schemas"][names["query_result"]], doc, q)
        ctx.expect_fields(body, _schema_props(doc, names["query_result"]), ["Items", "TotalRecordCount"], q)
        if not body["Items"]:
            ctx.fail(f"{q}: no items to check")
        for i, it in enumerate(body["Items"]):
            ctx.validate(it, base_item, doc, f"{q} item {i}")
            ctx.expect_fields(it, item_props, ["Id", "Name", "Type"], f"{q} item {i}")
            if "UserData" in it:
                ctx.expect_fields(it["UserData"], user_data_props, ["Played", "PlayCount"],
                                  f"{q} item {i} UserData")
    # Emby has no /Users/Me: the user by id there.
    me_path = "/Users/Me" if ctx.service == "jellyfin" else f"/Users/{uid}"
    me = ctx.get_json(me_path, h)
    if me is not None:
        ctx.validate(me, doc["components"]["schemas"]["UserDto"], doc, me_path)
        ctx.expect_fields(me, _schema_props(doc, "UserDto"), ["Id", "Name"], me_path)
    public = ctx.get_json("/System/Info/Public")
    if public is not None:
        ctx.expect_fields(public, _schema_props(doc, "PublicSystemInfo"), ["Id", "Version"],
                          "/System/Info/Public")
    info = ctx.get_json("/System/Info", h)
    if info is not None:
        ctx.expect_fields(info, _schema_props(doc, "SystemInfo"), ["Id", "Version"], "/System/Info")
    ctype = "application/x-www-form-urlencoded" if ctx.service == "emby" else "application/json"
    login = "Username=alice&Pw=secret" if ctx.service == "emby" else '{"Username":"alice","Pw":"secret"}'
    auth = ctx.get_json("/Users/AuthenticateByName", {"Content-Type": ctype}, method="POST", body=login)
    if auth is not None:
        ctx.expect_fields(auth, _schema_props(doc, names["auth"]), ["AccessToken", "User"],
                          "AuthenticateByName")
        ctx.expect_fields(auth["User"], _schema_props(doc, "UserDto"), ["Id", "Name"],
                          "AuthenticateByName User")


def _sessions(ctx, doc, session_schema):
    """GET /Sessions while a player plays a movie: SessionInfo rows whose NowPlayingItem is a
    BaseItemDto with the RunTimeTicks a sessions watcher computes progress from."""
    uid = ctx.credentials["user_id"]
    h = {"X-Emby-Token": ctx.credentials["access_token"]}
    prefix = f"/Users/{uid}/Items?" if ctx.service == "emby" else f"/Items?userId={uid}&"
    listed = ctx.get_json(prefix + "IncludeItemTypes=Movie&Recursive=true&Limit=1", h)
    if not listed or not listed.get("Items"):
        ctx.fail("/Sessions: no movie to play")
        return
    play = dict(h, **{"Content-Type": "application/json"})
    body = json.dumps({"ItemId": listed["Items"][0]["Id"], "PositionTicks": 36_000_000_000})
    status, _, _ = ctx.request("POST", "/Sessions/Playing", play, body)
    if status != 204:
        ctx.fail(f"POST /Sessions/Playing: status {status}, expected 204")
        return
    sessions = ctx.get_json("/Sessions", h)
    ctx.request("POST", "/Sessions/Playing/Stopped", play, body)
    if not sessions:
        ctx.fail("/Sessions: no session while a movie plays")
        return
    schemas = doc["components"]["schemas"]
    for i, sess in enumerate(sessions):
        where = f"/Sessions row {i}"
        ctx.validate(sess, schemas[session_schema], doc, where)
        ctx.expect_fields(sess, _schema_props(doc, session_schema), ["Id", "UserId"], where)
        if "NowPlayingItem" in sess:
            ctx.expect_fields(sess["NowPlayingItem"], _schema_props(doc, "BaseItemDto"),
                              ["Id", "Name", "Type", "RunTimeTicks"], where + " NowPlayingItem")
            ctx.expect_fields(sess.get("PlayState"), _schema_props(doc, "PlayerStateInfo"),
                              ["PositionTicks", "IsPaused"], where + " PlayState")


def jellyfin_items(ctx):
    doc = ctx.shared_json("api-reference/jellyfin/10.11.11/jellyfin-openapi-stable.json")
    _mediabrowser(ctx, doc, {"query_result": "BaseItemDtoQueryResult", "auth": "AuthenticationResult"})
    _sessions(ctx, doc, "SessionInfoDto")


def emby_items(ctx):
    doc = ctx.shared_json("api-reference/emby/openapi_v3.json")
    _mediabrowser(ctx, doc, {"query_result": "QueryResult_BaseItemDto",
                             "auth": "Authentication.AuthenticationResult"})
    _sessions(ctx, doc, "Session.SessionInfo")


def tautulli_envelopes(ctx):
    key = ctx.credentials["api_key"]
    rec_history = ctx.shared_json(_TAUTULLI + "history/get_history.json")
    rec_row = rec_history["response"]["data"]["data"][0]
    body = ctx.get_json(f"/api/v2?apikey={key}&cmd=get_history&start=0&length=50&order_column=date&order_dir=desc")
    if body is not None:
        ctx.expect_fields(body, ["response"], ["response"], "get_history envelope")
        ctx.expect_fields(body["response"], ["result", "message", "data"], ["result", "message", "data"],
                          "get_history response")
        data = body["response"]["data"]
        want = set(rec_history["response"]["data"])
        ctx.expect_fields(data, want, want, "get_history data")
        if not data["data"]:
            ctx.fail("get_history: no rows to check")
        for i, row in enumerate(data["data"]):
            # Exactly the captured row's fields: nothing invented, nothing dropped.
            ctx.expect_fields(row, set(rec_row), set(rec_row), f"get_history row {i}")
            for k, v in row.items():
                w = rec_row.get(k)
                if w is not None and v is not None and type(v) is not type(w) and not (
                        isinstance(v, (int, float)) and isinstance(w, (int, float))) and v != "":
                    ctx.fail(f"get_history row {i}: {k} is {type(v).__name__}, captured {type(w).__name__}")
    rec_info = ctx.shared_json(_TAUTULLI + "plex/get_server_info.json")["response"]["data"]
    info = ctx.get_json(f"/api/v2?apikey={key}&cmd=get_server_info")
    if info is not None:
        ctx.expect_fields(info["response"]["data"], set(rec_info), set(rec_info), "get_server_info")
    rec_users = ctx.shared_json(_TAUTULLI + "user/get_users.json")["response"]["data"]
    users = ctx.get_json(f"/api/v2?apikey={key}&cmd=get_users")
    if users is not None:
        for i, u in enumerate(users["response"]["data"]):
            ctx.expect_fields(u, set(rec_users[0]), set(rec_users[0]), f"get_users row {i}")
    for rel, path in [("auth/auth__bad_key.json", "/api/v2?apikey=wrong&cmd=get_history"),
                      ("auth/auth__no_key.json", "/api/v2?cmd=get_history")]:
        want = ctx.shared_json(_TAUTULLI + rel)
        status, _, raw = ctx.request("GET", path)
        ctx.checked += 1
        import json as _json
        if _json.loads(raw) != want:
            ctx.fail(f"{path}: differs from the capture {rel}")


CHECKS = {
    "plex": [plex_library, plex_discover, plex_recorded_401],
    "jellyfin": [jellyfin_items],
    "emby": [emby_items],
    "tautulli": [tautulli_envelopes],
}
