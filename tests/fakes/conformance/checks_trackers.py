"""Tracker checks (Trakt, SIMKL, AniList, TMDb) for run.py; the checks live in trackers.py, which
also runs on its own (trackers.py --sandbox ... --shared ...). MDBList has no description in the
references, so there is nothing to check it against."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "cw_conformance_trackers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "trackers.py"))
trackers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(trackers)


class _Sandbox:
    """The part of trackers.Sandbox the checks use, over run.py's per-service context."""

    def __init__(self, ctx):
        self.info = {ctx.service: {"base_url": ctx.base_url, "credentials": ctx.credentials}}

    def base(self, service):
        return self.info[service]["base_url"]


class _Report(trackers.Report):
    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx

    def check(self, ok, where, message):
        self.ctx.checked += 1
        if not ok:
            self.ctx.fail(f"{where}: {message}")


def _wrap(fn, name):
    def run(ctx):
        reason = fn(_Sandbox(ctx), ctx.shared, _Report(ctx))
        if reason:
            print(f"    skipped: {reason}")
    run.__name__ = name
    return run


CHECKS = {
    "trakt": _wrap(trackers.check_trakt, "trakt_contract_and_recordings"),
    "simkl": _wrap(trackers.check_simkl, "simkl_apiary_examples"),
    "anilist": _wrap(trackers.check_anilist, "anilist_graphql_schema"),
    "tmdb": _wrap(trackers.check_tmdb, "tmdb_openapi"),
}
