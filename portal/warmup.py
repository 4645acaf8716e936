"""What a web process would otherwise load on its first request, loaded once before gunicorn
forks its workers (gunicorn.conf.py, `preload_app` and `when_ready`).

A cold process took about 0.9 s for its first page: importing the URLconf (the partner API's
schemas are most of it) and the Redis client, and compiling the templates. Every worker paid it
when it started, and again when `max_requests` replaced it, while the clients it had queued
waited: under load those were the slowest 1 % of requests. Loaded in the parent, every worker
starts with them in memory.

What is loaded is then moved out of the garbage collector's way (`freeze_for_fork`): a full
collection walked all of it, about 80 ms of CPU, and the forked workers, alike and fed alike,
reached their full collections together: under load, every worker stalled at once.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def warm_up() -> int:
    """Import the URLconf and the cache backends, and compile the project's templates (into the
    cached template loader); close any database connection opened meanwhile, which forked
    workers must not share (no cache connection is opened). Returns
    how many templates were compiled."""
    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018  (imports every view and the API)
    get_resolver()._populate()  # the reverse() tables
    for alias in settings.CACHES:
        caches[alias]  # the backend and its client library; it connects when first used
    compiled = 0
    engine = engines["django"]
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(folder).rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            try:
                engine.get_template(name)
            except (TemplateDoesNotExist, TemplateSyntaxError):  # pragma: no cover - a test checks
                logger.exception("warm-up: template %s does not compile", name)
                continue
            compiled += 1
    connections.close_all()
    logger.info(
        "warm-up: URLconf and %d templates loaded in %.2f s",
        compiled,
        time.perf_counter() - started,
    )
    return compiled


def freeze_for_fork() -> int:
    """Move every object alive now into the collector's permanent generation, so that no full
    collection of a worker walks the project loaded before the fork (nor touches its pages, which
    would copy them). Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
