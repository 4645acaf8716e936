"""Handouts through the API: an export starts (202 with its status URL), is followed, and
downloads once ready (409 before)."""

from __future__ import annotations

import pytest

from handouts.models import HandoutExport
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def _start(api, company, **body):
    return api.post(f"companies/{company.public_id}/handout-exports", body)


def test_an_export_starts_is_followed_and_downloads(
    api, personas, make, django_capture_on_commit_callbacks
):
    make.team_vmr("board-room", display_name="Board room")
    response = _start(api, personas.company, format="html")
    assert response.status_code == 202, response.content
    export = response.json()
    assert export["status"] == "queued"
    assert export["download_url"] is None
    assert response["Location"] == f"http://testserver/api/v1/handout-exports/{export['id']}"
    assert_problem(api.get(f"handout-exports/{export['id']}/download"), 409)

    # The task runs once the request's transaction commits.
    HandoutExport.objects.filter(public_id=export["id"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = _start(api, personas.company, format="html", sections=["team_vmrs"])
    export = response.json()
    status = api.get(response["Location"]).json()
    assert status["status"] == "done"
    assert status["download_url"].endswith(f"/api/v1/handout-exports/{export['id']}/download")
    download = api.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/html")
    assert download["Content-Security-Policy"].startswith("default-src 'none'")
    html = b"".join(download.streaming_content).decode()
    assert "Board room" in html


def test_a_read_only_token_may_export_handouts_as_in_the_portal(api, personas, read_token):
    response = _start(api.as_(read_token), personas.company)
    assert response.status_code == 202, response.content
    assert response.json()["format"] == "pdf"


def test_bad_options_are_422(api, personas):
    assert "format" in str(assert_problem(_start(api, personas.company, format="docx"), 422))
    assert_problem(_start(api, personas.company, sections=["gossip"]), 422)
    assert not HandoutExport.objects.exists()


def test_a_failed_export_says_why(api, personas):
    export = HandoutExport.objects.create(
        company=personas.company, fmt="pdf", status="failed", error="out of memory"
    )
    body = assert_problem(api.get(f"handout-exports/{export.public_id}/download"), 409)
    assert "out of memory" in body["detail"]


def test_another_partners_exports_are_404(api, personas):
    theirs = HandoutExport.objects.create(company=personas.other_company, fmt="pdf")
    assert_problem(_start(api, personas.other_company), 404)
    assert_problem(api.get(f"handout-exports/{theirs.public_id}"), 404)
    assert_problem(api.get(f"handout-exports/{theirs.public_id}/download"), 404)
