"""gunicorn loads the URLconf, the cache backends and every template once, before it forks its
workers (portal.warmup, gunicorn.conf.py): no worker makes its first clients wait for them."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import engines
from django.urls import get_resolver

from portal.warmup import warm_up

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_compiles_and_no_connection_is_left_open_for_the_workers(db):
    templates = list(Path(settings.TEMPLATES[0]["DIRS"][0]).rglob("*.html"))
    connections["default"].ensure_connection()
    assert warm_up() == len(templates), "each of the project's templates compiled"
    connection = connections["default"].connection
    assert connection is None or connection.closed, "a forked worker must not share it"


def test_gunicorn_preloads_the_app_and_warms_it_up_before_forking():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    assert callable(config["when_ready"]) and callable(config["post_fork"])
    assert config["max_requests"] >= 1000


def test_what_is_loaded_before_the_fork_stays_out_of_the_workers_full_collections(db):
    """A full collection walked the whole preloaded project (about 80 ms of CPU), in every
    worker at about the same moment: frozen before the fork, a worker's collections walk only
    what it allocated itself."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        config["when_ready"](None)
        frozen = gc.get_freeze_count()
        tracked = gc.get_objects()
        assert len(tracked) < frozen / 10, "a full collection no longer walks them"
        warmed = [get_resolver(), engines["django"].get_template("base.html").template]
        assert not [o for o in tracked if any(o is w for w in warmed)], "the warmed-up objects"
    finally:
        gc.unfreeze()
