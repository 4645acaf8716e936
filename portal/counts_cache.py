"""The company list's tab counts (companies per state), kept in the cache between requests.

Counting needs the state of every company, which is most of the list page's own time. The
counts change only when one of the partner's companies or licences changes, or at midnight
(a licence starts or ends, an evaluation runs out). So each partner has a token in the cache,
and its counts are stored with the token and the day they were counted for; any change to a
company or licence drops its partner's token (portal.signals), and counts stored with another
token than the current one, or for another day, are counted afresh. A view reads both in one
round trip.

A token is random and never reused, so a token evicted from the cache cannot bring back old
counts. The token is dropped when the change is saved and again once it commits: a view that
counted in between (seeing the data from before the change) stored its counts with a token
that is no longer current.

Without the cache (Redis down: settings.redis_cache logs and skips its errors) the counts are
counted on every view, and a change drops no token. So counts stored before an outage may be
shown after it, until they expire (COUNTS_TIMEOUT), if the cache kept them and a company
changed meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date

from django.core.cache import cache
from django.db import transaction

from .db import primary_reads

# Counts are superseded on every change; the timeouts only bound how long unused ones stay.
COUNTS_TIMEOUT = 60 * 60
TOKEN_TIMEOUT = 24 * 60 * 60


def _token_key(partner_public_id: uuid.UUID | str) -> str:
    return f"company-counts-token:{partner_public_id}"


def company_counts(
    partner_public_id: uuid.UUID, day: date, count: Callable[[], dict[str, int]]
) -> dict[str, int]:
    """The partner's tab counts for the day: from the cache, or `count()`ed and stored."""
    token_key, counts_key = _token_key(partner_public_id), f"company-counts:{partner_public_id}"
    cached = cache.get_many([token_key, counts_key])
    token, stored = cached.get(token_key), cached.get(counts_key)
    if token is not None and stored is not None and stored[:2] == (token, day.isoformat()):
        return stored[2]
    if token is None:
        token = uuid.uuid4().hex
        added = cache.add(token_key, token, TOKEN_TIMEOUT)
        if added is None:  # the cache does not answer (its errors are skipped): only count
            return count()
        if not added:  # another view made one first
            token = cache.get(token_key) or token
    # Counted on the primary: counts a lagging read replica gave would be kept until the next
    # change, long after the replica caught up (portal.db).
    with primary_reads():
        counts = count()
    cache.set(counts_key, (token, day.isoformat(), counts), COUNTS_TIMEOUT)
    return counts


def forget_company_counts(partner_public_ids: Iterable[uuid.UUID]) -> None:
    """Drop the partners' counts: now, and once the current transaction commits."""
    keys = [_token_key(public_id) for public_id in set(partner_public_ids)]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))
