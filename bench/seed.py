"""Seed a large tenant fast, with set-based SQL (generate_series), on PostgreSQL.

One partner with 500 companies; one of them ("Bigco") has 20,000 users (5,000 still invited,
their invitations sent over the last 90 days), 5,000 team VMRs, 5,000 endpoints (a fifth of them
Personal) and 2,000,000 call records over the last 12 months.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from consumers.conference_ids import conference_ids_backfill
from domains.services import company_default_domain
from licensing.models import LicenceKind, License
from portal.models import Company, Partner, PartnerMembership, Role

COMPANIES = 500
USERS = 20_000
INVITED = 5_000
TEAM_VMRS = 5_000
ENDPOINTS = 5_000
CALL_RECORDS = 2_000_000
MANAGER_EMAIL = "bench.manager@bench.example"
MANAGER_PASSWORD = "bench-portal-2026"


def seed() -> dict[str, object]:
    with transaction.atomic():
        partner = Partner.objects.create(name="Bench Partner", support_email="help@bench.example")
        user = get_user_model().objects.create_user(
            username=MANAGER_EMAIL, email=MANAGER_EMAIL, password=MANAGER_PASSWORD
        )
        PartnerMembership.objects.create(user=user, partner=partner, role=Role.MANAGER)
        companies = _seed_companies(partner)
        big = companies[0]
        _seed_licences(companies, big)
        domain = company_default_domain(company=big)
        params = {"company": big.pk, "domain": domain.name, "domain_id": domain.pk}
        _seed_consumers(params)
        _seed_consumer_rows(params)
        conference_ids_backfill()  # the rooms' conference IDs, as the services give them
    _seed_call_records(params)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"partner": partner, "big": big, "manager": user}


def _evaluation(i: int) -> date | None:
    """A third of the companies in an open evaluation, a third closed, a third without one."""
    today = timezone.localdate()
    return {1: today + timedelta(days=30), 2: today - timedelta(days=5)}.get(i % 3)


def _seed_companies(partner: Partner) -> list[Company]:
    return Company.objects.bulk_create(
        [
            Company(
                partner=partner,
                name=f"Company {i:03}" if i else "Bigco",
                slug=f"company-{i:03}" if i else "bigco",
                contact_email=f"contact{i}@bench.example",
                reference=f"REF-{i:04}",
                evaluation_ends_on=_evaluation(i),
            )
            for i in range(COMPANIES)
        ]
    )


def _licence(company: Company, kind: str, quantity: int, days_ago: int) -> License:
    today = timezone.localdate()
    return License(
        company=company,
        kind=kind,
        quantity=quantity,
        starts_on=today - timedelta(days=days_ago),
        ends_on=today + timedelta(days=300),
    )


def _seed_licences(companies: list[Company], big: Company) -> None:
    License.objects.bulk_create(
        [_licence(c, LicenceKind.ENTERPRISE_USER, 50, 30) for c in companies[3::3]]
        + [
            _licence(big, LicenceKind.ENTERPRISE_USER, USERS + TEAM_VMRS, 400),
            _licence(big, LicenceKind.ROOM, ENDPOINTS, 400),
        ]
    )


def _seed_consumers(params: dict[str, object]) -> None:
    """The big company's users (some invited), team VMRs and endpoints, in SQL."""
    _sql(
        """
        INSERT INTO consumers_consumer (public_id, company_id, kind, alias, domain,
            calling_domain_id, display_name, status, inactive_reason, is_trial, cost_centre,
            description_tag, created_at, updated_at)
        SELECT gen_random_uuid(), %(company)s, 'user', 'user' || lpad(g::text, 5, '0'),
               %(domain)s, %(domain_id)s, 'User ' || g,
               CASE WHEN g <= %(invited)s THEN 'invited' ELSE 'active' END, '', false,
               'CC-' || (g %% 20), '', now() - (g || ' minutes')::interval, now()
        FROM generate_series(1, %(users)s) g
        """,
        {**params, "users": USERS, "invited": INVITED},
    )
    for kind, prefix, count in (
        ("team_vmr", "room", TEAM_VMRS),
        ("endpoint", "endpoint", ENDPOINTS),
    ):
        _sql(
            f"""
            INSERT INTO consumers_consumer (public_id, company_id, kind, alias, domain,
                calling_domain_id, display_name, status, inactive_reason, is_trial,
                cost_centre, description_tag, created_at, updated_at)
            SELECT gen_random_uuid(), %(company)s, '{kind}',
                   '{prefix}' || lpad(g::text, 5, '0'), %(domain)s, %(domain_id)s,
                   '{prefix.title()} ' || g, 'active', '', false, '', '',
                   now() - (g || ' minutes')::interval, now()
            FROM generate_series(1, %(count)s) g
            """,
            {**params, "count": count},
        )


def _seed_consumer_rows(params: dict[str, object]) -> None:
    """Their addresses, invitations, team VMR and endpoint settings."""
    _sql(
        """
        INSERT INTO consumers_address (address, consumer_id, purpose)
        SELECT alias || '@' || domain, id, 'primary' FROM consumers_consumer
        WHERE company_id = %(company)s
        UNION ALL
        SELECT alias || '.vmr@' || domain, id, 'personal_vmr' FROM consumers_consumer
        WHERE company_id = %(company)s AND kind = 'user'
        """,
        params,
    )
    # Invitations of the invited users, sent over the last 90 days (none reminded yet).
    _sql(
        """
        INSERT INTO consumers_invitation (consumer_id, email, full_name, token_nonce,
            token_hash, sent_at, created_at)
        SELECT c.id, c.alias || '@invitee.example', c.display_name, md5(c.id::text),
               encode(sha256(c.public_id::text::bytea), 'hex'),
               now() - ((c.id %% 90) || ' days')::interval
                     - ((c.id %% 1440) || ' minutes')::interval,
               now() - ((c.id %% 90) || ' days')::interval
        FROM consumers_consumer c
        WHERE c.company_id = %(company)s AND c.kind = 'user' AND c.status = 'invited'
        """,
        params,
    )
    _sql(
        """
        INSERT INTO consumers_teamvmrsettings (consumer_id, host_pin, guest_pin)
        SELECT id, '', '' FROM consumers_consumer
        WHERE company_id = %(company)s AND kind = 'team_vmr'
        """,
        params,
    )
    _sql(
        """
        INSERT INTO consumers_endpointsettings (consumer_id, usage_model, device_make,
            device_model, serial_number, sip_password, provisioning_nonce)
        SELECT id, CASE WHEN id %% 5 = 0 THEN 'personal' ELSE 'shared' END, 'Cisco',
               'Room Kit', 'SN' || id, md5(random()::text), md5(id::text)
        FROM consumers_consumer WHERE company_id = %(company)s AND kind = 'endpoint'
        """,
        params,
    )


def _seed_call_records(params: dict[str, object]) -> None:
    # Call records: 2,000,000 over 12 months, spread over the endpoints.
    _sql(
        """
        WITH eps AS (
            SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS n FROM consumers_consumer
            WHERE company_id = %(company)s AND kind = 'endpoint'
        )
        INSERT INTO consumers_callrecord (consumer_id, started_at, duration_seconds, direction,
            remote_address, remote_display_name, remote_ip, created_at)
        SELECT eps.id, now() - (g::double precision / %(count)s) * interval '365 days',
               (g %% 3600), CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END,
               'peer' || (g %% 10000) || '@remote.example', 'Peer ' || (g %% 10000),
               ('10.' || (g %% 250) || '.' || (g %% 199) || '.' || (g %% 97))::inet, now()
        FROM generate_series(0, %(count)s - 1) g JOIN eps ON eps.n = g %% %(endpoints)s
        """,
        {**params, "count": CALL_RECORDS, "endpoints": ENDPOINTS},
    )


def existing() -> dict[str, object] | None:
    """The tenant a previous seed left behind (BENCH_REUSE=1), or None."""
    partner = Partner.objects.filter(name="Bench Partner").first()
    if partner is None:
        return None
    return {
        "partner": partner,
        "big": Company.objects.get(partner=partner, slug="bigco"),
        "manager": get_user_model().objects.get(username=MANAGER_EMAIL),
    }


def _sql(sql: str, params: dict[str, object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
