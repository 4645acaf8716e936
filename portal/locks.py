"""PostgreSQL advisory locks: one name, one lock, across every process on the database.

A periodic job holds its lock while it runs (portal.celery.PortalTask), so a second beat or a
`runjobs` started while beat's run is still going skips instead of racing it. Session locks,
not transaction ones: a job runs many short transactions. The lock goes with the session, so a
process that dies (or loses its connection) releases it. On SQLite (the embedded default, one
process) there is nothing to race: the lock is always granted. A connection pooler in front of
PostgreSQL must keep sessions (PgBouncer's session mode), or the lock would outlive its job.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

KEY_NAMESPACE = "portal.lock:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (Python's hash() differs between processes)."""
    digest = hashlib.sha256((KEY_NAMESPACE + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try the lock `name` without waiting; yields whether this session holds it now."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        _unlock(name, key)


def _unlock(name: str, key: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            released = cursor.fetchone()[0]
    except DatabaseError:
        # The connection went away (failover, a broken session): the lock went with it.
        logger.warning("lock %s: not released, the database session is gone", name)
        return
    if not released:
        logger.warning("lock %s: not held any more when released", name)
