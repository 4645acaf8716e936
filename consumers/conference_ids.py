"""Conference IDs: the number a phone caller enters, after dialling one of the service's PSTN
dial-in numbers, to reach a meeting room (a user's personal VMR or a team VMR).

A conference ID is 6 to 9 digits with no leading zero (`CONFERENCE_ID_MIN`..`CONFERENCE_ID_MAX`)
and unique across the whole service: the `consumer_conference_id_unique` constraint holds it,
the `consumer_conference_id_format` check holds the format.

How one is chosen: **random candidates inserted under the unique constraint, retried on
IntegrityError inside a savepoint.** The alternative, a PostgreSQL sequence mapped through a
permutation, was not taken because

- the embedded default (`make run`) runs on SQLite, which has no sequences; the savepoint retry
  works the same on both;
- random IDs cannot be walked: a sequence through a fixed permutation gives the next room's ID
  to anyone who knows two of them, and a conference ID is how strangers reach a room;
- the unique index already serialises concurrent writers: a second transaction writing the same
  value waits for the first and fails once it commits (or succeeds if it rolls back), so the
  retry never hands one ID out twice, and the savepoint keeps the surrounding transaction (the
  room being created) alive.

Candidates start short, easy to dial (6 digits), and a few collisions in a row widen them by a
digit, up to 9: as the 6-digit space fills, new rooms move on to longer IDs by themselves. At
9 digits the space is 900 million, so running out of attempts means something else is wrong.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import IntegrityError, connection, transaction

from .models import CONFERENCE_ID_MAX, CONFERENCE_ID_MIN, ROOM_KINDS, Consumer

MIN_DIGITS = len(str(CONFERENCE_ID_MIN))
MAX_DIGITS = len(str(CONFERENCE_ID_MAX))
# Collisions in a row at one length before the next candidate gets one digit more.
TRIES_PER_LENGTH = 3
MAX_ATTEMPTS = 20
# The backfill assigns this many rooms per UPDATE (one savepoint each).
BACKFILL_BATCH = 1000


class ConferenceIdsExhausted(RuntimeError):
    """No free conference ID after MAX_ATTEMPTS candidates (never expected in practice)."""


def conference_id_candidate(attempt: int = 0) -> int:
    """A random conference ID for the `attempt`-th try: 6 digits first, one more digit after
    every TRIES_PER_LENGTH collisions, 9 at most; never a leading zero."""
    digits = min(MIN_DIGITS + attempt // TRIES_PER_LENGTH, MAX_DIGITS)
    low = 10 ** (digits - 1)
    return low + secrets.randbelow(9 * low)


def _candidates() -> Iterator[int]:
    return (conference_id_candidate(attempt) for attempt in range(MAX_ATTEMPTS))


def conference_id_allocate(consumer: Consumer, *, candidates: Iterable[int] | None = None) -> int:
    """Give a new room its conference ID, inside the transaction that creates it.

    Each candidate is written under the unique constraint in a savepoint; a clash (with a
    committed room, or with a concurrent one that commits first) rolls back only the savepoint
    and the next candidate is tried. `candidates` replaces the random ones (tests use it to make
    two creations race for the same numbers)."""
    for candidate in candidates if candidates is not None else _candidates():
        try:
            with transaction.atomic():
                Consumer.objects.filter(pk=consumer.pk).update(conference_id=candidate)
        except IntegrityError:
            continue
        consumer.conference_id = candidate
        return candidate
    raise ConferenceIdsExhausted(f"No free conference ID for consumer {consumer.pk}.")


def _free_candidates(model: Any, count: int, attempt: int) -> list[int]:
    """`count` distinct candidates that no room holds now (one query per round)."""
    free: set[int] = set()
    while len(free) < count:
        drawn = {conference_id_candidate(attempt) for _ in range(count - len(free))} - free
        taken = set(
            model.objects.filter(conference_id__in=drawn).values_list("conference_id", flat=True)
        )
        free |= drawn - taken
        attempt += 1 if taken else 0
    return list(free)


def conference_ids_backfill(model: Any = Consumer, *, batch_size: int = BACKFILL_BATCH) -> int:
    """Give every room that has no conference ID one (the data migration runs it with the
    historical model; safe to run again: rooms that have one keep it). Set-based, in batches of
    `batch_size`: one UPDATE per batch in a savepoint; a batch that clashes with a room created
    meanwhile is drawn again. Returns how many rooms got an ID."""
    assigned = attempt = 0
    while True:
        pks = list(
            model.objects.filter(kind__in=ROOM_KINDS, conference_id__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return assigned
        pairs = list(zip(pks, _free_candidates(model, len(pks), attempt), strict=True))
        try:
            with transaction.atomic():
                _assign(model, pairs)
        except IntegrityError:
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                raise ConferenceIdsExhausted("The backfill kept clashing.") from None
            continue
        assigned += len(pairs)


def _assign(model: Any, pairs: list[tuple[int, int]]) -> None:
    """One UPDATE for a batch of (pk, conference ID): SQL that PostgreSQL and SQLite (3.33+)
    both run; `bulk_update`'s CASE over a thousand rows costs far more to build than to run."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    # Only quoted identifiers and placeholders go into the text; every value is a parameter.
    sql = (
        f"WITH v(pk, cid) AS (VALUES {values}) "  # noqa: S608
        f"UPDATE {table} SET conference_id = CAST(v.cid AS integer) FROM v "
        f"WHERE {table}.{pk} = v.pk AND {table}.conference_id IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for pair in pairs for value in pair])
