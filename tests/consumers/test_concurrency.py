"""Concurrent adds never oversubscribe licences (PostgreSQL row lock on the company)."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import ValidationError

from consumers.models import Consumer
from licensing.models import LicenceKind
from tests.conftest import add_licence, requires_postgres, run_at_once


def outcome(result: object, refusal: str, name: str) -> str:
    """ok, or name for the expected refusal; anything else as it came."""
    if isinstance(result, ValidationError) and refusal in str(result):
        return name
    return repr(result) if isinstance(result, Exception) else "ok"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_adds_against_ten_free_seats(make, closed_company):
    requires_postgres()
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 10)
    results = run_at_once(
        *(partial(make.team_vmr, f"race-room-{i:02}", company=closed_company) for i in range(20))
    )
    outcomes = [outcome(r, "seats are in use", "no seat") for r in results]
    assert sorted(outcomes) == ["no seat"] * 10 + ["ok"] * 10
    assert Consumer.objects.filter(company=closed_company).count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_address_make_one_consumer(make):
    requires_postgres()
    add_same_room = partial(make.team_vmr, "same-room")  # evaluation open: no seat limit
    results = run_at_once(*[add_same_room] * 8)
    outcomes = [outcome(r, "already taken", "taken") for r in results]
    assert sorted(outcomes) == ["ok"] + ["taken"] * 7
