"""Safeguards and feedback (issue 17, item 7): what a partner admin sees before an action that
cannot be undone, and the answer they get after one. Each is checked on the server (a forced
POST gets the same answer as the page), the browser side is tests/e2e/test_safeguards.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from consumers.models import Consumer, ConsumerKind, ConsumerStatus
from domains import services as domain_services
from licensing.models import LicenceKind
from portal.models import AuditEvent, Company
from tests.conftest import T0, add_licence
from tests.mailing import deliver

HX = {"HX-Request": "true"}


def curl(name: str, company: Company, *args) -> str:
    return reverse(f"consumers:{name}", args=[company.public_id, *args])


def durl(name: str, company: Company, *args) -> str:
    return reverse(f"domains:{name}", args=[company.public_id, *args])


def delete_url(company: Company) -> str:
    return reverse("portal:company_delete", args=[company.public_id])


# --- deleting a company: what goes with it, and its name typed to confirm -----------------------


def test_the_company_delete_page_lists_what_goes_with_it(personas, make, login):
    company = personas.company
    make.user("ann.one")
    make.user("bob.two")
    make.team_vmr("room-one")
    add_licence(company, LicenceKind.ROOM, 2)
    response = login(personas.regular).get(delete_url(company))
    impact = {label: count for count, label in response.context["impact"]}
    assert impact == {
        "User": 2,
        "Team VMR": 1,
        "Endpoint": 0,
        "Calling domain": 1,  # the company's service subdomain
        "Licence": 1,
    }
    page = response.content.decode()
    assert "cannot be undone" in page
    assert 'name="confirm_name"' in page and 'data-must-match="Acme A"' in page


@pytest.mark.parametrize("typed", [None, "", "acme a", "Acme", "Acme A B"])
def test_a_company_is_not_deleted_without_its_name_typed(personas, make, login, typed):
    """The server checks the typed name: a forced POST (no script, or past a disabled button)
    deletes nothing and says why, once."""
    company = personas.company
    make.team_vmr("room-one")
    data = {} if typed is None else {"confirm_name": typed}
    response = login(personas.regular).post(delete_url(company), data)
    assert response.status_code == 200
    assert Company.objects.filter(pk=company.pk).exists() and Consumer.objects.exists()
    assert not AuditEvent.objects.filter(action="company.delete").exists()
    errors = response.context["form"].errors["confirm_name"]
    assert len(errors) == 1
    if typed:
        assert "exactly as shown" in errors[0]
        assert response.content.decode().count("exactly as shown") == 1


def test_the_company_is_deleted_once_its_name_is_typed(personas, make, login):
    company = personas.company
    make.team_vmr("room-one")
    response = login(personas.regular).post(delete_url(company), {"confirm_name": "  Acme   A "})
    assert response.status_code == 302 and response["Location"] == reverse("portal:company_list")
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Consumer.objects.exists()
    [event] = AuditEvent.objects.filter(action="company.delete")
    assert event.actor == personas.regular


def test_another_partner_gets_404_even_with_the_right_name(personas, login):
    client = login(personas.other_manager)
    assert client.get(delete_url(personas.company)).status_code == 404
    response = client.post(delete_url(personas.company), {"confirm_name": "Acme A"})
    assert response.status_code == 404
    assert Company.objects.filter(pk=personas.company.pk).exists()


def test_read_only_staff_cannot_delete_a_company(personas, login):
    response = login(personas.read_only).post(
        delete_url(personas.company), {"confirm_name": "Acme A"}
    )
    assert response.status_code == 403
    assert Company.objects.filter(pk=personas.company.pk).exists()


# --- batch delete -------------------------------------------------------------------------------


def test_a_batch_delete_preview_says_it_cannot_be_undone(personas, make, login):
    rooms = make.team_vmrs(2)
    client = login(personas.regular)
    text = "\n".join(r.address for r in rooms)
    for action, warned in (("delete", True), ("reactivate", False)):
        response = client.post(
            curl("batch_new", personas.company),
            {"kind": "team_vmr", "action": action, "source": "list", "text": text},
        )
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert ("Deleting cannot be undone" in page) is warned, action
        assert "Nothing has changed yet" in page
    assert Consumer.objects.count() == 2


# --- Verify answers in place --------------------------------------------------------------------


@pytest.fixture
def pending(personas, dns_server):
    return domain_services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="example.org"
    )


def seconds(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S")


def test_verify_shows_a_spinner_then_the_result_with_the_time_to_the_second(
    clock, personas, login, pending, django_capture_on_commit_callbacks
):
    client = login(personas.regular)
    company = personas.company
    page = client.get(durl("domain_detail", company, pending.public_id)).content.decode()
    assert 'hx-indicator="#verify-spinner"' in page
    assert re.search(r'id="verify-spinner" class="spinner htmx-indicator"', page)

    clock.shift(timedelta(seconds=7))
    verify = durl("domain_verify", company, pending.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        panel = client.post(verify, headers=HX).content.decode()
    assert "Checking…" in panel and 'class="spinner"' in panel, "the panel polls meanwhile"
    status = client.get(durl("domain_status", company, pending.public_id), headers=HX)
    answer = status.content.decode()
    assert "Pending verification" in answer and "hx-trigger" not in answer, "polling stops"
    checked = seconds(T0 + timedelta(seconds=7))
    assert "Last checked" in answer and f", {checked}</time>" in answer

    # A repeat click a few seconds later visibly answers again: the time moves on.
    clock.shift(timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(verify, headers=HX)
    again = client.get(durl("domain_status", company, pending.public_id), headers=HX)
    assert f", {seconds(T0 + timedelta(seconds=12))}</time>" in again.content.decode()


def test_a_successful_verify_shows_when_and_removes_the_button(
    clock, personas, login, pending, dns_server, django_capture_on_commit_callbacks
):
    client = login(personas.regular)
    company = personas.company
    dns_server.add_txt("example.org", f"pexip-verification={pending.verification_token}")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(durl("domain_verify", company, pending.public_id), headers=HX)
    answer = client.get(
        durl("domain_status", company, pending.public_id), headers=HX
    ).content.decode()
    assert "Verified" in answer and f", {seconds(T0)}</time>" in answer
    assert '<span id="verify-action" hx-swap-oob="true"></span>' in answer
    page = client.get(durl("domain_detail", company, pending.public_id)).content.decode()
    assert 'id="verify-action"' not in page and "hx-swap-oob" not in page


# --- Add buttons the licence gate would refuse ---------------------------------------------------


@pytest.mark.parametrize(
    ("list_name", "label"),
    [
        ("user_list", "Invite User"),
        ("team_vmr_list", "Add Team VMR"),
        ("endpoint_list", "Add Endpoint"),
    ],
)
def test_add_buttons_the_licence_gate_would_refuse_are_disabled_with_the_reason(
    personas, login, full_company, list_name, label
):
    company, _ = full_company
    page = login(personas.regular).get(curl(list_name, company)).content.decode()
    add_url = {
        "user_list": curl("user_invite", company),
        "team_vmr_list": curl("team_vmr_add", company),
        "endpoint_list": curl("endpoint_add", company),
    }[list_name]
    assert f'href="{add_url}"' not in page
    assert re.search(rf'<button type="button" class="primary" disabled[^>]*>{label}</button>', page)
    reason = re.search(r'<p class="notice error add-refused" id="add-refused">(.*?)</p>', page)
    assert reason, page
    assert reason.group(1).startswith("Cannot add:")
    expected = (
        "all 1 Enterprise User seats are in use"
        if list_name != "endpoint_list"
        else "the company has no active Room licence"
    )
    assert expected in reason.group(1)
    assert reverse("licensing:licence_list", args=[company.public_id]) in reason.group(1)


def test_add_buttons_stay_links_while_a_seat_or_a_trial_covers_the_next_one(
    personas, login, paid_company
):
    client = login(personas.regular)
    page = client.get(curl("team_vmr_list", paid_company)).content.decode()
    assert f'href="{curl("team_vmr_add", paid_company)}"' in page and "add-refused" not in page
    trial = client.get(curl("user_list", personas.company)).content.decode()  # open evaluation
    assert "add-refused" not in trial


def test_read_only_staff_see_no_add_button_and_no_gate(personas, login, full_company):
    company, _ = full_company
    response = login(personas.read_only).get(curl("team_vmr_list", company))
    assert response.context["add_gate"] is None and "add-refused" not in response.content.decode()


def test_a_list_with_a_refused_gate_keeps_a_constant_number_of_queries(
    personas, login, full_company, django_assert_max_num_queries
):
    company, _ = full_company
    client = login(personas.regular)
    client.get(curl("team_vmr_list", company))
    with django_assert_max_num_queries(14) as few:
        client.get(curl("team_vmr_list", company))
    for i in range(30):
        Consumer.objects.create(
            company=company,
            kind=ConsumerKind.TEAM_VMR,
            alias=f"old-room-{i:03}",
            domain=company.service_domain,
            status=ConsumerStatus.INACTIVE,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(curl("team_vmr_list", company))
    assert "add-refused" in response.content.decode()


# --- a forced submit shows its error once -------------------------------------------------------


def test_a_forced_add_past_the_disabled_button_shows_the_refusal_once(
    personas, login, full_company
):
    company, _ = full_company
    response = login(personas.regular).post(
        curl("team_vmr_add", company),
        {"display_name": "Forced", "alias": "forced-room", "domain": company.service_domain},
    )
    assert response.status_code == 200
    assert not Consumer.objects.filter(alias="forced-room").exists()
    page = response.content.decode()
    assert page.count("all 1 Enterprise User seats are in use") == 1
    assert reverse("licensing:licence_list", args=[company.public_id]) in page


def test_other_form_errors_still_show_on_a_refused_add(personas, login, full_company):
    company, _ = full_company
    response = login(personas.regular).post(
        curl("team_vmr_add", company), {"display_name": "X", "alias": "1bad", "domain": ""}
    )
    assert response.status_code == 200 and response.context["form"].errors


# --- reactivation says what was refused ---------------------------------------------------------


def test_a_refused_reactivation_says_it_was_the_reactivation(personas, login, full_company):
    company, sleeper = full_company
    response = login(personas.regular).post(
        curl("consumer_activate", company, sleeper.public_id), follow=True
    )
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith(
        f"Cannot reactivate {sleeper.address}: all 1 Enterprise User seats are in use"
    )
    assert message in response.content.decode()
    sleeper.refresh_from_db()
    assert sleeper.status == ConsumerStatus.INACTIVE


# --- the Personal confirmation, only when switching to Personal ---------------------------------


def test_the_personal_confirmation_shows_only_when_switching_to_personal(
    personas, login, make, endpoint
):
    client = login(personas.regular)
    detail = curl("endpoint_detail", personas.company, endpoint.public_id)
    shared = client.get(detail).content.decode()
    # Shared now: the warning and "I understand…" are there, for the script to show only
    # while Personal is chosen.
    block = re.search(r'<div class="switch-confirm" data-show-when="usage_model=personal">', shared)
    assert block and "I understand" in shared[block.start() :]
    assert 'data-show-when="usage_model=personal"' in shared

    make.personal(endpoint)
    personal = client.get(detail).content.decode()
    assert "I understand" not in personal and "switch-confirm" not in personal
    # Saving Personal again (another twinned user) needs no confirmation.
    other = make.user("other.owner")
    response = client.post(
        curl("endpoint_usage_model", personas.company, endpoint.public_id),
        {"usage_model": "personal", "personal_user": str(other.public_id)},
    )
    assert response.status_code == 302
    assert endpoint.endpoint.__class__.objects.get(consumer=endpoint).personal_user == other


def test_switching_to_personal_still_needs_the_confirmation(personas, login, make, endpoint):
    owner = make.user("lobby.owner")
    response = login(personas.regular).post(
        curl("endpoint_usage_model", personas.company, endpoint.public_id),
        {"usage_model": "personal", "personal_user": str(owner.public_id)},
    )
    assert response.status_code == 400
    assert "Confirm that call history" in response.content.decode()


# --- the DNS email lists only what the customer publishes ---------------------------------------


def test_a_service_subdomain_needs_no_dns_records_and_its_email_says_so(
    personas, login, django_capture_on_commit_callbacks
):
    company = personas.company
    domain = domain_services.calling_domain_add(
        actor=personas.regular, company=company, name=f"sales.{company.service_domain}"
    )
    assert domain.is_verified
    deliver()
    [message] = [m for m in mail.outbox if "DNS records for sales." in m.subject]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "nothing to publish" in part.lower()
        assert "SRV" not in part and "_sip" not in part and "pexip-verification" not in part
    page = login(personas.regular).get(durl("domain_detail", company, domain.public_id))
    text = page.content.decode()
    assert "Nothing to publish" in text and "_sips._tcp" not in text
    assert "Live DNS check" not in text


def test_a_hosted_domain_still_lists_its_txt_and_srv_records(personas, dns_server):
    domain_services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="example.org"
    )
    deliver()
    [message] = [m for m in mail.outbox if "DNS records for example.org" in m.subject]
    assert "_sips._tcp.example.org" in message.body and "pexip-verification=" in message.body
    assert "nothing to publish" not in message.body.lower()
