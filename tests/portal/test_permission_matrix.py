"""The permission matrix: every view of the URLconf × every persona × GET and POST, each with its
expected outcome, from one table. A view without an entry fails the test."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from tests.portal.test_isolation import objects_of_partner_a
from tests.urlwalk import iter_views, url_for

PUBLIC = "public"  # anyone; the page guards itself (token, signed link, service token)
SIGNED_IN = "signed_in"  # any signed-in user, partner or not (the second-factor step)
MEMBER = "member"  # every role of the partner, read-only included
WRITER = "writer"  # regular and manager
MANAGER = "manager"  # managers only

MATRIX = {
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "invitation_accept": PUBLIC,
    "endpoint_provision": PUBLIC,
    "call_records_ingest": PUBLIC,
    "healthz": PUBLIC,  # liveness and readiness: no login, no partner data
    "readyz": PUBLIC,
    "two_factor": SIGNED_IN,
    "portal:home": MEMBER,
    "portal:company_list": MEMBER,
    "portal:company_create": WRITER,
    "partner_licence_consumers_export": MEMBER,
    "portal:company_detail": MEMBER,
    "portal:company_edit": WRITER,
    "portal:company_delete": WRITER,
    "portal:company_activity": MEMBER,
    "portal:member_list": MANAGER,
    "portal:member_invite": MANAGER,
    "portal:member_role": MANAGER,
    "portal:member_deactivate": MANAGER,
    "portal:member_reactivate": MANAGER,
    "portal:member_reset_2fa": MANAGER,
    "portal:member_resend": MANAGER,
    "api:token_list": MANAGER,
    "api:token_create": MANAGER,
    "api:token_revoke": MANAGER,
    "api:webhook_list": MANAGER,
    "api:webhook_create": MANAGER,
    "api:webhook_detail": MANAGER,
    "api:webhook_edit": MANAGER,
    "api:webhook_delete": MANAGER,
    "api:webhook_redeliver": MANAGER,
    "consumers:batch_new": WRITER,
    "consumers:batch_detail": MEMBER,
    "consumers:batch_progress": MEMBER,
    "consumers:batch_confirm": WRITER,
    "consumers:batch_cancel": WRITER,
    "consumers:batch_report": MEMBER,
    "consumers:user_list": MEMBER,
    "consumers:user_invite": WRITER,
    "consumers:user_bulk_invite": WRITER,
    "consumers:team_vmr_list": MEMBER,
    "consumers:team_vmr_add": WRITER,
    "consumers:endpoint_list": MEMBER,
    "consumers:endpoint_add": WRITER,
    "consumers:consumer_detail": MEMBER,
    "consumers:consumer_edit": WRITER,
    "consumers:consumer_delete": WRITER,
    "consumers:consumer_activate": WRITER,
    "consumers:endpoint_detail": MEMBER,
    "consumers:endpoint_usage_model": WRITER,
    "consumers:endpoint_regenerate_password": WRITER,
    "consumers:endpoint_rotate_provisioning": WRITER,
    "consumers:endpoint_qr": MEMBER,
    "consumers:endpoint_qr_print": MEMBER,
    "consumers:endpoint_config": WRITER,  # holds the SIP password
    "consumers:endpoint_calls": MEMBER,
    "consumers:invitation_resend": WRITER,
    "consumers:invitation_revoke": WRITER,
    "domains:domain_list": MEMBER,
    "domains:domain_add": WRITER,
    "domains:domain_detail": MEMBER,
    "domains:domain_status": MEMBER,
    "domains:domain_dns_check": MEMBER,
    "domains:domain_verify": WRITER,
    "domains:domain_resend_email": WRITER,
    "domains:domain_delete": WRITER,
    "domains:m365_add": WRITER,
    "domains:m365_verify": WRITER,
    "domains:m365_delete": WRITER,
    "domains:interop_add": WRITER,
    "domains:interop_delete": WRITER,
    "licensing:licence_list": MEMBER,
    "consumers:licence_consumers_export": MEMBER,
    "handouts:handout": MEMBER,  # every role exports handouts
    "handouts:export_detail": MEMBER,
    "handouts:export_download": MEMBER,
}

PERSONAS = ("anonymous", "read_only", "regular", "manager", "other_manager", "ops")
ALLOWED_ROLES = {
    MEMBER: {"read_only", "regular", "manager"},
    WRITER: {"regular", "manager"},
    MANAGER: {"manager"},
}


def expected(access: str, persona: str, owned: bool) -> str:
    if access == PUBLIC:
        return "any"
    if persona == "anonymous":
        return "login"
    if access == SIGNED_IN:
        return "allowed"
    if persona == "ops":
        return "not_found"  # operations staff work in Django admin, not in the portal
    if persona == "other_manager":
        return "not_found" if owned else "allowed"
    return "allowed" if persona in ALLOWED_ROLES[access] else "forbidden"


def outcome_matches(want: str, response) -> bool:
    code = response.status_code
    if code >= 500:
        return False
    is_login = code == 302 and "/accounts/login/" in response.get("Location", "")
    if want == "any":
        return True
    if want == "login":
        return is_login
    if want == "not_found":
        return code in (404, 405)  # 405 comes before any lookup: it reveals nothing
    if want == "forbidden":
        return code == 403
    return code not in (403, 404) and not is_login  # allowed


VIEWS = {entry.name: entry for entry in iter_views()}


def test_every_view_has_an_entry_in_the_matrix():
    assert VIEWS.keys() - MATRIX.keys() == set(), "add the new views to MATRIX"
    assert MATRIX.keys() - VIEWS.keys() == set(), "remove views that no longer exist"


# One test a view, so that xdist spreads the views over its workers. The loopback DNS server
# answers the DNS panel's and Verify's lookups at once (NXDOMAIN) instead of timing out.
@pytest.mark.parametrize("name", VIEWS)
def test_permission_matrix(personas, dns_server, name):
    entry = VIEWS[name]
    access = MATRIX.get(name)
    assert access is not None, f"{name}: add it to MATRIX"
    url = url_for(entry, objects_of_partner_a(personas))
    failures = []
    for persona in PERSONAS:
        client = Client()
        for method in ("get", "post"):
            if persona != "anonymous" and not client.session.get("_auth_user_id"):
                client.force_login(getattr(personas, persona))  # again after the logout view
            # Each request in a savepoint rolled back, so that an allowed delete does not
            # change what the next persona sees.
            with transaction.atomic():
                response = getattr(client, method)(url)
                transaction.set_rollback(True)
            want = expected(access, persona, owned=bool(entry.params))
            if not outcome_matches(want, response):
                failures.append(
                    f"{method.upper()} as {persona}: expected {want}, got {response.status_code}"
                )
    assert failures == []
