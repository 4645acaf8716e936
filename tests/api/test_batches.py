"""The batch tool through the API: create a preview with the batch page's fields, confirm it
(the run is the batch task), follow its status, read its report as JSON and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from consumers.models import BatchJob, Consumer, ConsumerStatus
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(make):
    return make.team_vmrs(3)


def _create(api, company, **body):
    return api.post(f"companies/{company.public_id}/batches", body)


def test_a_batch_previews_then_runs_once_confirmed(
    api, personas, rooms, django_capture_on_commit_callbacks
):
    addresses = [rooms[0].address, rooms[1].address.upper(), "ghost@nowhere.example"]
    response = _create(api, personas.company, action="delete", kind="team_vmr", addresses=addresses)
    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["status"], batch["total"], batch["action"]) == ("preview", 3, "delete")
    assert batch["summary"] == {"will": 2, "wont": 1, "failed": 0}
    assert Consumer.objects.filter(pk__in=[r.pk for r in rooms]).count() == 3  # nothing yet

    report = api.get(f"batches/{batch['id']}/report").json()
    assert [(i["address"], i["will_run"], i["message"]) for i in report["items"]] == [
        (rooms[0].address, True, "will be deleted"),
        (rooms[1].address, True, "will be deleted"),
        ("ghost@nowhere.example", False, "not found"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"batches/{batch['id']}/confirm")
    assert confirmed.status_code == 202, confirmed.content
    status = api.get(f"batches/{batch['id']}").json()
    assert (status["status"], status["succeeded"], status["percent"]) == ("done", 2, 100)
    assert list(Consumer.objects.filter(company=personas.company)) == [rooms[2]]
    failed = api.get(f"batches/{batch['id']}/report", {"show": "will"}).json()["items"]
    assert [i["outcome"] for i in failed] == ["succeeded", "succeeded"]

    again = assert_problem(api.post(f"batches/{batch['id']}/confirm"), 422)
    assert "already confirmed" in again["errors"]["__all__"][0]


def test_the_report_csv_is_the_batch_pages_download(api, personas, rooms):
    batch = _create(
        api, personas.company, action="delete", kind="team_vmr", text=rooms[0].address
    ).json()
    response = api.get(f"batches/{batch['id']}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["address", "planned", "outcome", "message"],
        [rooms[0].address, "yes", "pending", "will be deleted"],
    ]


def test_reactivation_follows_the_seat_allocation(api, full_company):
    company, sleeper = full_company
    batch = _create(
        api, company, action="reactivate", kind="team_vmr", consumer_ids=[str(sleeper.public_id)]
    ).json()
    item = api.get(f"batches/{batch['id']}/report").json()["items"][0]
    assert item["will_run"] is False
    assert "no licence seat left" in item["message"]


def test_all_matching_a_filter_and_cancel(api, personas, rooms):
    Consumer.objects.filter(pk=rooms[0].pk).update(status=ConsumerStatus.INACTIVE)
    batch = _create(
        api,
        personas.company,
        action="delete",
        kind="team_vmr",
        matching={"status": "inactive"},
    ).json()
    assert batch["total"] == 1
    cancelled = api.post(f"batches/{batch['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert_problem(api.post(f"batches/{batch['id']}/confirm"), 422)
    assert Consumer.objects.filter(pk=rooms[0].pk).exists()


def test_a_bad_selection_is_a_422_that_creates_nothing(api, personas, rooms):
    company = personas.company
    bad_line = assert_problem(
        _create(api, company, action="delete", kind="team_vmr", addresses=["not an address"]), 422
    )
    assert bad_line["errors"]["addresses"] == [
        "Line 1: 'not an address' is not an address like name@example.com"
    ]
    two = assert_problem(
        _create(
            api, company, action="delete", kind="team_vmr", addresses=[rooms[0].address], text="x"
        ),
        422,
    )
    assert "exactly one" in two["errors"]["__all__"][0]
    assert_problem(_create(api, company, action="delete", kind="team_vmr"), 422)
    # A search that cannot be searched never widens the batch to every consumer.
    control = assert_problem(
        _create(api, company, action="delete", kind="team_vmr", matching={"q": "a\x01"}), 422
    )
    assert "cannot be searched" in control["errors"]["matching.q"][0]
    assert_problem(
        _create(api, company, action="explode", kind="team_vmr", text="a@b.example"), 422
    )
    assert not BatchJob.objects.exists()


def test_report_pages_follow_next_with_constant_queries(
    api, personas, make, django_assert_max_num_queries
):
    rooms = make.team_vmrs(7)
    batch = _create(
        api,
        personas.company,
        action="delete",
        kind="team_vmr",
        addresses=[r.address for r in rooms],
    ).json()
    url = f"batches/{batch['id']}/report"
    api.get(url)
    with django_assert_max_num_queries(4) as few:
        page = api.get(url, {"limit": 2}).json()
    labels = [i["address"] for i in page["items"]]
    while page["next"]:
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = api.get(page["next"]).json()
        labels += [i["address"] for i in page["items"]]
    assert labels == [r.address for r in rooms]


def test_a_read_token_cannot_create_or_confirm(api, personas, rooms, read_token):
    batch = _create(
        api, personas.company, action="delete", kind="team_vmr", text=rooms[0].address
    ).json()
    reader = api.as_(read_token)
    assert reader.get(f"batches/{batch['id']}").status_code == 200
    assert_problem(
        _create(reader, personas.company, action="delete", kind="team_vmr", text="a@b.example"),
        403,
    )
    assert_problem(reader.post(f"batches/{batch['id']}/confirm"), 403)
    assert_problem(reader.post(f"batches/{batch['id']}/cancel"), 403)
    assert BatchJob.objects.get(public_id=batch["id"]).status == "preview"


def test_another_partners_batch_is_404(api, personas, rooms, other_token):
    batch = _create(
        api, personas.company, action="delete", kind="team_vmr", text=rooms[0].address
    ).json()
    theirs = api.as_(other_token)
    for path in ("", "/report", "/report.csv"):
        assert_problem(theirs.get(f"batches/{batch['id']}{path}"), 404)
    for path in ("/confirm", "/cancel"):
        assert_problem(theirs.post(f"batches/{batch['id']}{path}"), 404)
    assert_problem(
        _create(theirs, personas.company, action="delete", kind="team_vmr", text="a@b.example"),
        404,
    )
    assert BatchJob.objects.get(public_id=batch["id"]).status == "preview"
