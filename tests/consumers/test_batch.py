"""The batch update tool: preview, confirm, run in chunks, report."""

from __future__ import annotations

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
from portal.display import day
from portal.models import AuditEvent
from tests.conftest import Make, add_licence, raised, requires_postgres, run_at_once, wait_for

# What htmx sends with each of its requests: the one signal for a partial-page answer.
HX = {"HX-Request": "true"}


def burl(name, company, batch=None):
    args = [company.public_id] + ([batch.public_id] if batch else [])
    return reverse(f"consumers:{name}", args=args)


def make_rooms(personas, n, prefix="room"):
    return Make(personas).team_vmrs(n, prefix=prefix)


def preview(actor, action, consumers):
    """The batch preview of action on these consumers (of one company, all of one kind)."""
    return batches.batch_preview(
        actor=actor,
        company=consumers[0].company,
        kind=consumers[0].kind,
        action=action,
        consumer_ids=[str(c.public_id) for c in consumers],
    )


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
    personas, foreign_room, login, django_capture_on_commit_callbacks
):
    rooms = make_rooms(personas, 3)
    client = login(personas.regular)
    response = client.post(
        burl("batch_new", personas.company),
        {
            "kind": "team_vmr",
            "source": "selection",
            "action": "delete",
            "ids": [str(r.public_id) for r in rooms[:2]] + [str(foreign_room.public_id)],
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
    assert set(Consumer.objects.values_list("alias", flat=True)) == {
        "room-0002",
        foreign_room.alias,
    }
    assert AuditEvent.objects.filter(action="team_vmr.delete").count() == 2
    done = client.get(burl("batch_detail", personas.company, batch))
    assert b"2 succeeded, 0 failed" in done.content
    report = b"".join(client.get(burl("batch_report", personas.company, batch))).decode()
    assert "room-0000@acme-a.onpexip.com,yes,succeeded,deleted" in report
    assert ",no,skipped,not found" in report


def test_reactivate_preview_says_how_many_lack_a_seat(
    personas, closed_company, login, django_capture_on_commit_callbacks
):
    company = closed_company
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


def test_address_list_reasons(personas, make, foreign_room):
    company = personas.company
    rooms = make_rooms(personas, 2)
    services.consumer_deactivate(actor=personas.regular, consumer=rooms[0])
    user = make.user("user.one")
    addresses = batches.parse_address_list(
        "address\n"
        f"{rooms[0].address}\n{rooms[1].address.upper()}\n{user.address}\n{user.vmr_address}\n"
        f"{foreign_room.address}\nghost@acme-a.onpexip.com\n{rooms[0].address}\n"
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
        "will be reactivated as a trial until " + day(company.evaluation_ends_on),
        "already active",
        "is a User, not a Team VMR",
        "is a personal VMR address: list the user's address",
        "not found",  # another partner's address: the same as one that does not exist
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


def test_progress_polls_until_done_then_reloads_the_page_and_rerun_is_harmless(
    personas, login, monkeypatch
):
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
    progress = burl("batch_progress", personas.company, batch)
    page = client.get(burl("batch_detail", personas.company, batch))
    assert f'hx-get="{progress}" hx-trigger="every 1.5s"'.encode() in page.content
    fragment = client.get(progress, headers=HX)
    assert fragment.content.decode().startswith('<section id="batch-progress"')
    assert b'hx-trigger="every 1.5s"' in fragment.content and b"0 of 10 done" in fragment.content
    assert "HX-Refresh" not in fragment.headers and "HX-Request" in fragment["Vary"]
    without_htmx = client.get(progress)
    assert without_htmx["Location"] == burl("batch_detail", personas.company, batch)
    batches.batch_run(batch_id=batch.pk)
    done = client.get(progress, headers=HX)
    # The items table shows each outcome: htmx reloads the whole page instead of swapping.
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
    page = client.get(burl("batch_detail", personas.company, batch))
    assert b"hx-trigger" not in page.content and b"10 succeeded" in page.content
    before = list(BatchItem.objects.values_list("outcome", "message"))
    batches.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.processed, batch.succeeded) == (10, 10)
    assert list(BatchItem.objects.values_list("outcome", "message")) == before


def test_endpoints_go_in_smaller_chunks_with_their_call_history(personas, make, monkeypatch):
    from django.utils import timezone

    from consumers.models import CallRecord

    paid = personas.company
    add_licence(paid, LicenceKind.ROOM, 5)

    monkeypatch.setattr(batches, "ENDPOINT_CHUNK_SIZE", 2)
    monkeypatch.setattr(batches, "CHUNK_SIZE", 1000)
    endpoints = [make.endpoint(f"ep-batch{i}") for i in range(5)]
    CallRecord.objects.bulk_create(
        [
            CallRecord(consumer=ep, started_at=timezone.now(), direction="in")
            for ep in endpoints
            for _ in range(3)
        ]
    )
    batch = preview(personas.regular, "delete", endpoints)
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
    batch = preview(personas.regular, "reactivate", rooms)
    assert not batch.items.filter(will_run=True).exists()
    for room in rooms:
        services.consumer_deactivate(actor=personas.regular, consumer=room)
    batch = preview(personas.regular, "reactivate", rooms)
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
def test_two_batches_at_once_do_not_oversubscribe(personas, closed_company):
    requires_postgres()
    company = closed_company
    add_licence(company, LicenceKind.ENTERPRISE_USER, 10)
    users = bulk_users(company, 20, status=ConsumerStatus.INACTIVE)
    first = preview(personas.regular, "reactivate", users[:10])
    second = preview(personas.manager, "reactivate", users[10:])
    BatchJob.objects.filter(pk__in=[first.pk, second.pk]).update(status="queued")
    results = run_at_once(
        lambda: batches.batch_run(batch_id=first.pk),
        lambda: batches.batch_run(batch_id=second.pk),
        timeout=120,
    )
    assert raised(results) == []
    assert Consumer.objects.filter(status=ConsumerStatus.ACTIVE).count() == 10
    assert BatchItem.objects.filter(outcome=ItemOutcome.SUCCEEDED).count() == 10
    assert BatchItem.objects.filter(outcome=ItemOutcome.FAILED).count() == 10


def test_a_real_worker_runs_the_batch(personas, celery_worker_process):
    celery_worker_process.start()
    rooms = make_rooms(personas, 5)
    batch = preview(personas.regular, "delete", rooms)
    batches.batch_confirm(actor=personas.regular, batch=batch)
    wait_for(
        lambda: BatchJob.objects.get(pk=batch.pk).status == "done",
        timeout=30,
        message="the worker finishes the batch",
    )
    assert not Consumer.objects.filter(kind="team_vmr").exists()


def test_a_selection_with_nothing_ticked_is_a_form_error(personas, login):
    client = login(personas.regular)
    response = client.post(
        burl("batch_new", personas.company),
        {"kind": "team_vmr", "source": "selection", "action": "delete"},
    )
    assert response.status_code == 200
    assert b"Select at least one consumer." in response.content
    assert not BatchJob.objects.exists()
