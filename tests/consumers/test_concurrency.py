"""Concurrent adds never oversubscribe licences (PostgreSQL row lock on the company)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from consumers import services
from consumers.models import Consumer
from licensing.models import LicenceKind
from tests.conftest import add_licence, requires_postgres


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_adds_against_ten_free_seats(personas):
    requires_postgres()
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 10)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def add(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.team_vmr_create(
                actor=personas.regular,
                company=company,
                alias=f"race-room-{i:02}",
                display_name=f"Race {i}",
            )
            result = "ok"
        except ValidationError as exc:
            result = "no seat" if "seats are in use" in exc.messages[0] else exc.messages[0]
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["no seat"] * 10 + ["ok"] * 10
    assert Consumer.objects.filter(company=company).count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_address_make_one_consumer(personas):
    requires_postgres()
    company = personas.company  # evaluation open: no seat limit in the way
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def add() -> None:
        try:
            barrier.wait(timeout=10)
            services.team_vmr_create(
                actor=personas.regular, company=company, alias="same-room", display_name="Same"
            )
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append("taken" if "already taken" in str(exc) else str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok"] + ["taken"] * 7
