"""The batch update tool: preview, confirm, run in chunks, report."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from consumers import services
from consumers.models import (
    Address,
    AddressPurpose,
    BatchItem,
    BatchJob,
    Consumer,
    ConsumerStatus,
    ItemOutcome,
)
from consumers.services import batch as batches
from licensing.models import LicenceKind
from portal.models import AuditEvent
from tests.conftest import add_licence, requires_postgres, wait_for


def burl(name, company, batch=None):
    args = [company.public_id] + ([batch.public_id] if batch else [])
    return reverse(f"consumers:{name}", args=args)


def make_rooms(personas, n, prefix="room"):
    company = personas.company
    return [
        services.team_vmr_create(
            actor=personas.regular, company=company, alias=f"{prefix}-{i:04}", display_name=f"R{i}"
        )
        for i in range(n)
    ]


def bulk_users(company, n, status=ConsumerStatus.ACTIVE):
    """Many users quickly (bulk insert), for batches of hundreds."""
    from domains.services import company_default_domain

    domain = company_default_domain(company=company)
    consumers = Consumer.objects.bulk_create(
        [
            Consumer(
                company=company,
                kind="user",
                alias=f"bulk.user{i:05}",
                domain=domain.name,
                calling_domain=domain,
                display_name=f"Bulk {i}",
                status=status,
            )
            for i in range(n)
        ]
    )
    Address.objects.bulk_create(
        [Address(address=c.address, consumer=c, purpose=AddressPurpose.PRIMARY) for c in consumers]
        + [
            Address(address=c.vmr_address, consumer=c, purpose=AddressPurpose.PERSONAL_VMR)
            for c in consumers
        ]
    )
    return consumers


def test_delete_ticked_rows_with_preview_then_run(
    personas, login, django_capture_on_commit_callbacks
):
    rooms = make_rooms(personas, 3)
    add_licence(personas.other_company)
    foreign = services.team_vmr_create(
        actor=personas.other_manager,
        company=personas.other_company,
        alias="foreign-room",
        display_name="F",
    )
    client = login(personas.regular)
    response = client.post(
        burl("batch_new", personas.company),
        {
            "kind": "team_vmr",
            "source": "selection",
            "action": "delete",
            "ids": [str(r.public_id) for r in rooms[:2]] + [str(foreign.public_id)],
        },
    )
    batch = BatchJob.objects.get()
    assert response["Location"] == burl("batch_detail", personas.company, batch)
    preview = client.get(response["Location"])
    assert b"<strong>2</strong> will be deleted" in preview.content
    assert b"not found" in preview.content, "another partner's id is simply not found"
    assert Consumer.objects.count() == 4, "nothing changes before confirmation"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(burl("batch_confirm", personas.company, batch))
    batch.refresh_from_db()
    assert (batch.status, batch.processed, batch.succeeded, batch.failed) == ("done", 3, 2, 0)
    assert set(Consumer.objects.values_list("alias", flat=True)) == {"room-0002", "foreign-room"}
    assert AuditEvent.objects.filter(action="team_vmr.delete").count() == 2
    done = client.get(burl("batch_detail", personas.company, batch))
    assert b"2 succeeded, 0 failed" in done.content
    report = b"".join(client.get(burl("batch_report", personas.company, batch))).decode()
    assert "room-0000@acme-a.onpexip.com,yes,succeeded,deleted" in report
    assert ",no,skipped,not found" in report


def test_reactivate_preview_says_how_many_lack_a_seat(
    personas, login, django_capture_on_commit_callbacks
):
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 2)
    users = bulk_users(company, 5, status=ConsumerStatus.INACTIVE)
    text = "\n".join(u.address for u in users)
    client = login(personas.regular)
    client.post(burl("batch_new", company), {"kind": "user", "action": "reactivate", "text": text})
    batch = BatchJob.objects.get()
    items = list(batch.items.order_by("position"))
    assert [i.will_run for i in items] == [True, True, False, False, False]
    assert items[4].message == "no licence seat left for 3 of 5"
    client.post(burl("batch_cancel", company, batch))
    assert not Consumer.objects.filter(status=ConsumerStatus.ACTIVE).exists()

    add_licence(company, LicenceKind.ENTERPRISE_USER, 3)  # a replacement plan was ordered
    client.post(burl("batch_new", company), {"kind": "user", "action": "reactivate", "text": text})
    batch = BatchJob.objects.filter(status="preview").get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(burl("batch_confirm", company, batch))
    assert Consumer.objects.filter(status=ConsumerStatus.ACTIVE).count() == 5


def test_address_list_reasons(personas):
    company = personas.company
    rooms = make_rooms(personas, 2)
    services.consumer_deactivate(actor=personas.regular, consumer=rooms[0])
    user = services.user_invite(
        actor=personas.regular,
        company=company,
        email="u@x.example",
        full_name="U",
        alias="user.one",
    )
    add_licence(personas.other_company)
    other = [
        services.team_vmr_create(
            actor=personas.other_manager,
            company=personas.other_company,
            alias="theirs-room",
            display_name="T",
        )
    ]
    addresses = batches.parse_address_list(
        "address\n"
        f"{rooms[0].address}\n{rooms[1].address.upper()}\n{user.address}\n{user.vmr_address}\n"
        f"{other[0].address}\nghost@acme-a.onpexip.com\n{rooms[0].address}\n"
    )
    batch = batches.batch_preview(
        actor=personas.regular,
        company=company,
        kind="team_vmr",
        action="reactivate",
        addresses=addresses,
    )
    messages = [i.message for i in batch.items.order_by("position")]
    assert messages == [
        "will be reactivated as a trial until " + str(company.evaluation_ends_on),
        "already active",
        "is a User, not a Team VMR",
        "is a personal VMR address: list the user's address",
        "another company's address",
        "not found",
        "listed twice",
    ]


def test_bad_lines_are_all_reported_and_nothing_is_created(personas, login):
    client = login(personas.regular)
    response = client.post(
        burl("batch_new", personas.company),
        {
            "kind": "user",
            "action": "delete",
            "text": "good.one@acme-a.onpexip.com\nnot an address\n\nalso-bad\nx@y\n",
        },
    )
    errors = response.context["form"].non_field_errors()
    assert "Line 2:" in errors[0] and "Line 4:" in errors[1] and "Line 5:" in errors[2]
    assert not BatchJob.objects.exists()


def test_select_all_matching_the_filter_across_pages(
    personas, login, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_SIZE = 5
    make_rooms(personas, 12, prefix="alpha")
    make_rooms(personas, 3, prefix="beta")
    client = login(personas.regular)
    client.post(
        burl("batch_new", personas.company),
        {
            "kind": "team_vmr",
            "source": "selection",
            "action": "delete",
            "all_matching": "1",
            "q": "alpha",
            "status": "",
            "pending": "",
        },
    )
    batch = BatchJob.objects.get()
    assert batch.total == 12
    with django_capture_on_commit_callbacks(execute=True):
        client.post(burl("batch_confirm", personas.company, batch))
    assert set(Consumer.objects.values_list("alias", flat=True)) == {
        "beta-0000",
        "beta-0001",
        "beta-0002",
    }


def test_progress_fragment_polls_until_done_and_rerun_is_harmless(personas, login, monkeypatch):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 4)
    rooms = make_rooms(personas, 10)
    batch = batches.batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind="team_vmr",
        action="delete",
        consumer_ids=[str(r.public_id) for r in rooms],
    )
    batches.batch_confirm(actor=personas.regular, batch=batch)  # on_commit not run: queued
    client = login(personas.read_only)
    fragment = client.get(burl("batch_progress", personas.company, batch))
    assert b"data-poll-url" in fragment.content and b"0 of 10 done" in fragment.content
    batches.batch_run(batch_id=batch.pk)
    fragment = client.get(burl("batch_progress", personas.company, batch))
    assert b"data-poll-url" not in fragment.content and b"10 succeeded" in fragment.content
    before = list(BatchItem.objects.values_list("outcome", "message"))
    batches.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.processed, batch.succeeded) == (10, 10)
    assert list(BatchItem.objects.values_list("outcome", "message")) == before


def test_endpoints_go_in_smaller_chunks_with_their_call_history(personas, monkeypatch):
    from django.utils import timezone

    from consumers.models import CallRecord

    paid = personas.company
    add_licence(paid, LicenceKind.ROOM, 5)

    monkeypatch.setattr(batches, "ENDPOINT_CHUNK_SIZE", 2)
    monkeypatch.setattr(batches, "CHUNK_SIZE", 1000)
    endpoints = [
        services.endpoint_create(
            actor=personas.regular, company=paid, alias=f"ep-batch{i}", display_name=f"E{i}"
        )
        for i in range(5)
    ]
    CallRecord.objects.bulk_create(
        [
            CallRecord(consumer=ep, started_at=timezone.now(), direction="in")
            for ep in endpoints
            for _ in range(3)
        ]
    )
    batch = batches.batch_preview(
        actor=personas.regular,
        company=paid,
        kind="endpoint",
        action="delete",
        consumer_ids=[str(ep.public_id) for ep in endpoints],
    )
    batches.batch_confirm(actor=personas.regular, batch=batch)
    chunks = []
    real_run_chunk = batches._run_chunk
    monkeypatch.setattr(
        batches,
        "_run_chunk",
        lambda batch, chunk, actor: (
            chunks.append(len(chunk)) or real_run_chunk(batch, chunk, actor)
        ),
    )
    batch = batches.batch_run(batch_id=batch.pk)
    assert chunks == [2, 2, 1]
    assert (batch.status, batch.succeeded) == ("done", 5)
    assert not Consumer.objects.filter(kind="endpoint").exists()
    assert not CallRecord.objects.exists()
    connection.check_constraints()


def test_items_fail_independently(personas, monkeypatch):
    rooms = make_rooms(personas, 3)
    batch = batches.batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind="team_vmr",
        action="reactivate",
        consumer_ids=[str(r.public_id) for r in rooms],
    )
    assert not batch.items.filter(will_run=True).exists()
    for room in rooms:
        services.consumer_deactivate(actor=personas.regular, consumer=room)
    batch = batches.batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind="team_vmr",
        action="reactivate",
        consumer_ids=[str(r.public_id) for r in rooms],
    )
    batches.batch_confirm(actor=personas.regular, batch=batch)
    rooms[1].delete()  # gone between preview and run
    batch = batches.batch_run(batch_id=batch.pk)
    outcomes = list(batch.items.order_by("position").values_list("outcome", "message"))
    assert outcomes[1] == (ItemOutcome.FAILED, "no longer exists")
    assert outcomes[0][0] == outcomes[2][0] == ItemOutcome.SUCCEEDED
    assert (batch.succeeded, batch.failed) == (2, 1)


def test_five_hundred_users_in_one_batch(personas, login, django_capture_on_commit_callbacks):
    users = bulk_users(personas.company, 500)
    client = login(personas.regular)
    client.post(
        burl("batch_new", personas.company),
        {"kind": "user", "action": "delete", "text": "\n".join(u.address for u in users)},
    )
    batch = BatchJob.objects.get()
    assert batch.total == 500 and batch.items.filter(will_run=True).count() == 500
    with django_capture_on_commit_callbacks(execute=True):
        client.post(burl("batch_confirm", personas.company, batch))
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded) == ("done", 500)
    assert not Consumer.objects.filter(kind="user").exists()


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_do_not_oversubscribe(personas):
    requires_postgres()
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 10)
    users = bulk_users(company, 20, status=ConsumerStatus.INACTIVE)
    first = batches.batch_preview(
        actor=personas.regular,
        company=company,
        kind="user",
        action="reactivate",
        consumer_ids=[str(u.public_id) for u in users[:10]],
    )
    second = batches.batch_preview(
        actor=personas.manager,
        company=company,
        kind="user",
        action="reactivate",
        consumer_ids=[str(u.public_id) for u in users[10:]],
    )
    BatchJob.objects.filter(pk__in=[first.pk, second.pk]).update(status="queued")
    barrier = threading.Barrier(2)

    def run(batch):
        try:
            barrier.wait(timeout=10)
            batches.batch_run(batch_id=batch.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Consumer.objects.filter(status=ConsumerStatus.ACTIVE).count() == 10
    assert BatchItem.objects.filter(outcome=ItemOutcome.SUCCEEDED).count() == 10
    assert BatchItem.objects.filter(outcome=ItemOutcome.FAILED).count() == 10


def test_a_real_worker_runs_the_batch(personas, celery_worker_process):
    celery_worker_process.start()
    rooms = make_rooms(personas, 5)
    batch = batches.batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind="team_vmr",
        action="delete",
        consumer_ids=[str(r.public_id) for r in rooms],
    )
    batches.batch_confirm(actor=personas.regular, batch=batch)
    wait_for(
        lambda: BatchJob.objects.get(pk=batch.pk).status == "done",
        timeout=30,
        message="the worker finishes the batch",
    )
    assert not Consumer.objects.filter(kind="team_vmr").exists()
