"""The partner API's foundation: tokens (the page, the service, what a token may do), problems,
Idempotency-Key, cursor pagination, and the companies and licences endpoints."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from api.idempotency import idempotency_records_purge
from api.models import ApiToken, IdempotencyRecord
from api.services import api_token_create, api_token_revoke
from api.tokens import PREFIX, secret_well_formed
from portal import services as portal_services
from portal.models import AuditEvent, Company, PartnerMembership
from tests.api.conftest import ApiClient, Token, assert_problem, token_for
from tests.conftest import add_company, add_licence, run_at_once

NEW_COMPANY = {"name": "Nimbus Ltd", "contact_email": "it@nimbus.example"}


# --- tokens: the service ---------------------------------------------------------------------


def test_a_token_secret_is_prefixed_checksummed_and_stored_hashed(personas):
    token, secret = api_token_create(actor=personas.manager, name="Sync", scopes=["read"])
    assert secret.startswith(PREFIX) and secret_well_formed(secret)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps([str(v) for v in ApiToken.objects.values().get().values()])
    # One character changed breaks the checksum: scanners (and the API) reject it unseen.
    typo = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert not secret_well_formed(typo)
    assert token.partner == personas.partner
    assert token.created_by == personas.manager.membership


def test_only_managers_create_tokens(personas):
    for user in (personas.regular, personas.read_only, personas.ops, None):
        with pytest.raises(PermissionDenied):
            api_token_create(actor=user, name="Sync", scopes=["read"])


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("", ["read"], "name"), ("Sync", [], "scopes"), ("Sync", ["admin"], "scopes")],
)
def test_a_token_needs_a_name_and_known_scopes(personas, name, scopes, field):
    with pytest.raises(ValidationError) as exc:
        api_token_create(actor=personas.manager, name=name, scopes=scopes)
    assert field in exc.value.message_dict


def test_creating_and_revoking_a_token_is_audited(personas):
    token, _ = api_token_create(actor=personas.manager, name="Sync", scopes=["read", "write"])
    api_token_revoke(actor=personas.manager, token=token)
    api_token_revoke(actor=personas.manager, token=token)  # a double click: nothing more
    events = AuditEvent.objects.filter(object_id=str(token.public_id)).order_by("id")
    assert [(e.action, e.partner) for e in events] == [
        ("api_token.create", personas.partner),
        ("api_token.revoke", personas.partner),
    ]
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=personas.other_manager, token=token)


# --- what a token may do -----------------------------------------------------------------------


def test_a_token_reads_and_writes_as_its_member(api, personas):
    assert api.get("companies").status_code == 200
    response = api.post("companies", NEW_COMPANY)
    assert response.status_code == 201, response.content
    assert Company.objects.get(name="Nimbus Ltd").partner == personas.partner


def test_a_read_token_cannot_write(api, read_token):
    reader = api.as_(read_token)
    assert reader.get("companies").status_code == 200
    body = assert_problem(reader.post("companies", NEW_COMPANY), 403)
    assert "write scope" in body["detail"]
    assert not Company.objects.filter(name="Nimbus Ltd").exists()


def test_a_read_only_members_token_cannot_write_whatever_its_scopes(
    api, personas, read_only_member_token
):
    assert read_only_member_token.token.scopes == ["read", "write"]
    member = api.as_(read_only_member_token)
    assert member.get("companies").status_code == 200
    assert_problem(member.post("companies", NEW_COMPANY), 403)
    company = personas.company
    assert_problem(member.patch(f"companies/{company.public_id}", {"name": "Renamed"}), 403)
    company.refresh_from_db()
    assert company.name == "Acme A"


def test_a_deactivated_members_tokens_stop_working(api, personas, regular_token):
    regular = api.as_(regular_token)
    assert regular.get("companies").status_code == 200
    membership = PartnerMembership.objects.get(user=personas.regular)
    portal_services.member_set_active(actor=personas.manager, membership=membership, active=False)
    assert_problem(regular.get("companies"), 401)
    portal_services.member_set_active(actor=personas.manager, membership=membership, active=True)
    assert regular.get("companies").status_code == 200


def test_an_expired_token_answers_401(api, personas):
    token, secret = api_token_create(
        actor=personas.manager,
        name="Short",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client = api.as_(Token(token, secret))
    assert client.get("companies").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(client.get("companies"), 401)


def test_a_revoked_token_answers_401(api, manager_token, personas):
    api_token_revoke(actor=personas.manager, token=manager_token.token)
    assert_problem(api.get("companies"), 401)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nope", "Basic dXNlcjpwdw==", f"Bearer {PREFIX}{'a' * 38}"],
)
def test_no_or_a_bad_token_answers_401_problem(client, personas, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/companies", headers=headers)
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"]


def test_last_used_is_stamped_at_most_once_a_minute(api, manager_token, clock):
    token = manager_token.token
    assert token.last_used_at is None
    api.get("companies")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    clock.shift(timedelta(seconds=30))
    api.get("companies")
    token.refresh_from_db()
    assert token.last_used_at == first
    clock.shift(timedelta(seconds=31))
    api.get("companies")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_the_rate_limit_answers_429_with_retry_after(api, settings, other_token):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert api.get("companies").status_code == 200
    response = api.get("companies")
    assert_problem(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 60
    # Per token: another token is not limited by this one's requests.
    assert api.as_(other_token).get("companies").status_code == 200


def test_every_write_is_audited_with_the_token_id(api, manager_token, personas):
    company_id = api.post("companies", NEW_COMPANY).json()["id"]
    api.patch(f"companies/{company_id}", {"reference": "PO-7"})
    events = AuditEvent.objects.filter(object_id=company_id)
    assert {e.action for e in events} >= {"company.create", "company.update"}
    for event in events:
        assert event.actor == personas.manager
        assert event.data["api_token"] == str(manager_token.token.public_id)
    # The same service from the portal's page records no token.
    portal_services.company_update(actor=personas.manager, company=personas.company, name="X")
    event = AuditEvent.objects.filter(action="company.update").latest("id")
    assert "api_token" not in event.data


# --- problems ----------------------------------------------------------------------------------


def test_a_rule_of_the_service_is_a_422_with_its_field(api):
    body = assert_problem(
        api.post("companies", {"name": "  ", "contact_email": "a@b.example"}), 422
    )
    assert body["errors"] == {"name": ["Enter the company's name."]}
    body = assert_problem(api.post("companies", {"name": "A", "contact_email": "nope"}), 422)
    assert list(body["errors"]) == ["contact_email"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact_email": "a@b.example"}, "name"),
        ({"name": 5, "contact_email": "a@b.example"}, "name"),
        ({"name": "x" * 201, "contact_email": "a@b.example"}, "name"),
        ([1, 2], "name"),
        ("{not json", "__all__"),
        ('{"name": "A\\u0000", "contact_email": "a@b.example"}', "__all__"),
    ],
)
def test_an_invalid_body_is_a_422_never_a_500(api, personas, body, field):
    problem = assert_problem(api.post("companies", body), 422)
    assert field in problem["errors"]
    assert Company.objects.count() == 2  # the personas' two


def test_another_partners_object_and_a_missing_one_are_the_same_404(api, personas):
    other = assert_problem(api.get(f"companies/{personas.other_company.public_id}"), 404)
    missing = assert_problem(api.get(f"companies/{uuid.uuid4()}"), 404)
    assert other == missing
    assert_problem(api.get("companies/not-a-uuid"), 422)
    assert_problem(api.patch(f"companies/{personas.other_company.public_id}", {"name": "X"}), 404)


@pytest.mark.parametrize("query", [{"cursor": "%%%"}, {"cursor": "WzFd"}, {"limit": "0"}])
def test_a_bad_cursor_or_limit_is_a_422(api, personas, query):
    body = assert_problem(api.get("companies", query), 422)
    assert set(body["errors"]) <= {"cursor", "limit"}


def test_a_control_character_in_the_search_is_ignored(api, personas):
    response = api.get("companies", {"q": "Acme\x00"})
    assert response.status_code == 200


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_response(api):
    first = api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="create-nimbus")
    again = api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="create-nimbus")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Company.objects.filter(name="Nimbus Ltd").count() == 1


def test_the_same_key_with_another_body_is_a_422(api):
    api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="k")
    body = assert_problem(
        api.post("companies", {**NEW_COMPANY, "name": "Other"}, HTTP_IDEMPOTENCY_KEY="k"), 422
    )
    assert "Idempotency-Key" in body["errors"]
    assert not Company.objects.filter(name="Other").exists()


def test_keys_are_per_token_and_a_failed_request_is_replayed_too(api, personas, other_token):
    api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="k")
    assert (
        api.as_(other_token).post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    assert Company.objects.filter(name="Nimbus Ltd").count() == 2
    bad = {"name": "", "contact_email": "x@y.example"}
    assert api.post("companies", bad, HTTP_IDEMPOTENCY_KEY="bad").status_code == 422
    assert api.post("companies", bad, HTTP_IDEMPOTENCY_KEY="bad")["Idempotent-Replayed"] == "true"


def test_a_key_is_forgotten_after_24_hours(api, clock):
    api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="daily")
    clock.shift(timedelta(hours=23))
    assert idempotency_records_purge() == 0
    assert api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="daily").status_code == 201
    assert Company.objects.filter(name="Nimbus Ltd").count() == 1
    clock.shift(timedelta(hours=2))
    assert idempotency_records_purge() == 1
    assert idempotency_records_purge() == 0
    assert api.post("companies", NEW_COMPANY, HTTP_IDEMPOTENCY_KEY="daily").status_code == 201
    assert Company.objects.filter(name="Nimbus Ltd").count() == 2


def test_a_post_without_a_valid_token_claims_no_key(client, personas):
    client.post(
        "/api/v1/companies",
        NEW_COMPANY,
        content_type="application/json",
        headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"},
    )
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_company(personas, manager_token):
    def post():
        return (
            Client()
            .post(
                "/api/v1/companies",
                NEW_COMPANY,
                content_type="application/json",
                headers={**manager_token.header, "Idempotency-Key": "race"},
            )
            .status_code
        )

    results = run_at_once(post, post, post)
    assert Company.objects.filter(name="Nimbus Ltd").count() == 1
    assert 201 in results
    assert set(results) <= {201, 409}, results


# --- companies and licences ------------------------------------------------------------------


def test_companies_list_filters_like_the_tabs_and_searches(api, personas, paid_company):
    add_company(personas.partner, "Closed Co", reference="REF-9")
    open_co = add_company(
        personas.partner, "Open Co", evaluation_ends_on=timezone.localdate() + timedelta(days=3)
    )

    def names(**query):
        response = api.get("companies", query)
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["items"]]

    assert names() == ["Acme A", "Closed Co", "Open Co"]
    assert names(state="paid") == ["Acme A"]
    assert names(state="trial_open") == ["Open Co"]
    assert names(state="trial_closed") == ["Closed Co"]
    assert names(q="ref-9") == ["Closed Co"]
    assert_problem(api.get("companies", {"state": "gone"}), 422)
    item = api.get(f"companies/{open_co.public_id}").json()
    assert item["state"] == "trial_open"
    assert item["id"] == str(open_co.public_id)


def test_companies_are_paged_with_a_cursor(api, personas):
    for n in range(5):
        add_company(personas.partner, f"Co {n}")
    seen, url, pages = [], "companies?limit=2", 0
    while url:
        body = api.get(url).json()
        seen += [c["name"] for c in body["items"]]
        url, pages = body["next"], pages + 1
        if url:
            assert url.startswith("http://testserver/api/v1/companies?")
    assert pages == 3
    assert seen == ["Acme A", "Co 0", "Co 1", "Co 2", "Co 3", "Co 4"]


def test_the_companies_list_runs_a_constant_number_of_queries(
    api, personas, django_assert_max_num_queries
):
    api.get("companies")  # the tab counts cached, the token stamped used
    with django_assert_max_num_queries(3):
        api.get("companies", {"limit": 200})
    for n in range(30):
        add_licence(add_company(personas.partner, f"Co {n}"))
    api.get("companies")
    with django_assert_max_num_queries(3):
        response = api.get("companies", {"limit": 200, "state": "paid"})
    assert len(response.json()["items"]) == 30


def test_create_and_update_a_company(api, personas):
    response = api.post("companies", {**NEW_COMPANY, "country": "GB", "reference": "PO-1"})
    created = response.json()
    assert created["state"] == "trial_open"
    assert created["country"] == "GB"
    response = api.patch(f"companies/{created['id']}", {"contact_name": "Ann", "name": None})
    assert response.status_code == 200, response.content
    assert response.json()["contact_name"] == "Ann"
    assert response.json()["name"] == "Nimbus Ltd"
    assert_problem(api.patch(f"companies/{created['id']}", {"country": "ZZ"}), 422)


def test_a_companys_licences(api, personas, paid_company, django_assert_max_num_queries):
    api.get(f"companies/{paid_company.public_id}/licences")
    with django_assert_max_num_queries(3):
        body = api.get(f"companies/{paid_company.public_id}/licences").json()
    assert {(item["kind"], item["quantity"], item["active"]) for item in body["items"]} == {
        ("enterprise_user", 3, True),
        ("room", 1, True),
    }
    assert body["next"] is None
    other = personas.other_company
    assert_problem(api.get(f"companies/{other.public_id}/licences"), 404)


# --- the OpenAPI document and the docs --------------------------------------------------------


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def test_the_openapi_document_and_the_docs_need_no_token_and_no_cdn(client, personas):
    raw = client.get("/api/v1/openapi.json").content
    # No key twice in an object (Swagger UI refuses such a document).
    schema = json.loads(raw, object_pairs_hook=_unique_keys)
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    create = schema["paths"]["/api/v1/companies"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "application/problem+json" in create["responses"]["422"]["content"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui-init.js")
    assert "script-src 'self'" in docs["Content-Security-Policy"]


# --- the API tokens page ----------------------------------------------------------------------


def test_the_tokens_page_shows_the_secret_once(login, personas):
    client = login(personas.manager)
    response = client.post(
        "/api-tokens/new/",
        {"name": "Billing sync", "scopes": ["read", "write"], "expires_in": "30"},
    )
    assert response.status_code == 201  # created: the secret's one showing
    token = ApiToken.objects.get(name="Billing sync")
    secret = response.context["secret"]
    assert secret_well_formed(secret) and secret in response.content.decode()
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )
    assert token.scopes == ["read", "write"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    listing = client.get("/api-tokens/").content.decode()
    assert "Billing sync" in listing and token.hint in listing and secret not in listing
    # The secret works.
    assert ApiClient(Client(), Token(token, secret)).get("companies").status_code == 200


def test_the_tokens_page_refuses_a_token_without_scopes(login, personas):
    client = login(personas.manager)
    response = client.post("/api-tokens/new/", {"name": "Sync", "expires_in": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["scopes"]
    assert not ApiToken.objects.exists()


def test_revoking_from_the_page_asks_first_then_revokes(login, personas, manager_token):
    client = login(personas.manager)
    url = f"/api-tokens/{manager_token.token.public_id}/revoke/"
    assert "Revoke the API token" in client.get(url).content.decode()
    manager_token.token.refresh_from_db()
    assert manager_token.token.revoked_at is None
    response = client.post(url, follow=True)
    assert "revoked" in response.content.decode()
    manager_token.token.refresh_from_db()
    assert manager_token.token.revoked_at is not None
    assert_problem(ApiClient(Client(), manager_token).get("companies"), 401)


def test_another_partners_token_page_is_a_404(login, personas, other_token):
    client = login(personas.manager)
    assert client.get(f"/api-tokens/{other_token.token.public_id}/revoke/").status_code == 404
    assert client.post(f"/api-tokens/{other_token.token.public_id}/revoke/").status_code == 404
    other_token.token.refresh_from_db()
    assert other_token.token.revoked_at is None
    assert other_token.token.name not in client.get("/api-tokens/").content.decode()


def test_only_managers_see_the_tokens_link(login, personas):
    assert "/api-tokens/" in login(personas.manager).get("/companies/").content.decode()
    assert "/api-tokens/" not in login(personas.regular).get("/companies/").content.decode()


def test_the_tokens_page_runs_a_constant_number_of_queries(
    login, personas, django_assert_max_num_queries
):
    client = login(personas.manager)
    client.get("/api-tokens/")
    for n in range(10):
        token_for(personas.manager, name=f"T{n}")
    with django_assert_max_num_queries(8):
        response = client.get("/api-tokens/")
    assert response.content.decode().count("/revoke/") == 10


def test_ops_revoke_a_token_in_admin_through_the_service(login, personas, manager_token):
    client = login(personas.ops)
    response = client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [manager_token.token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    manager_token.token.refresh_from_db()
    assert manager_token.token.revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == personas.ops
    page = client.get(f"/admin/api/apitoken/{manager_token.token.pk}/change/").content.decode()
    assert manager_token.token.secret_hash not in page
