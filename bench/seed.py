"""Seed a large tenant fast, with set-based SQL (generate_series), on PostgreSQL.

One partner with 500 companies; one of them ("Bigco") has 20,000 users (5,000 still invited,
their invitations sent over the last 90 days), 5,000 team VMRs, 5,000 endpoints (a fifth of them
Personal) and 2,000,000 call records over the last 12 months.

The steady state and growth measurements (bench/measure/growth.py) change this tenant for good:
`steady_state` has the retention job do the backlog as on the night before, and `grow` adds
copies of the tenant (500 companies, one of them the size of Bigco, its call history already
in that steady state). `pristine` tells a reused database that went through them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from consumers.conference_ids import conference_ids_backfill
from consumers.models import CallRecord
from consumers.services.retention import call_history_retention_run, retention_cutoff
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
    # The moment every seeded time is relative to, kept as the partner's creation: copies of the
    # tenant added later (grow) are seeded relative to it too.
    at = timezone.now()
    with transaction.atomic():
        partner = Partner.objects.create(
            name="Bench Partner", support_email="help@bench.example", created_at=at
        )
        user = get_user_model().objects.create_user(
            username=MANAGER_EMAIL, email=MANAGER_EMAIL, password=MANAGER_PASSWORD
        )
        PartnerMembership.objects.create(user=user, partner=partner, role=Role.MANAGER)
        params = _seed_tenant_copy(partner, at, copy=0)
    _seed_call_records(params)
    # Not vacuumed here: bench/run.py settles the database (vacuum_analyze) before each
    # measurement, the first one included.
    big = Company.objects.get(pk=params["company"])
    return {"partner": partner, "big": big, "manager": user}


def _evaluation(i: int) -> date | None:
    """A third of the companies in an open evaluation, a third closed, a third without one."""
    today = timezone.localdate()
    return {1: today + timedelta(days=30), 2: today - timedelta(days=5)}.get(i % 3)


def _seed_tenant_copy(partner: Partner, at: datetime, copy: int) -> dict[str, object]:
    """The companies, licences and consumers (call records apart); copy 0 is the tenant itself,
    copies 1, 2, ... have names and slugs of their own. Returns the big company's SQL params."""
    companies = _seed_companies(partner, copy)
    big = companies[0]
    _seed_licences(companies, big)
    domain = company_default_domain(company=big)
    params = {"company": big.pk, "domain": domain.name, "domain_id": domain.pk, "now": at}
    _seed_consumers(params)
    _seed_consumer_rows(params)
    conference_ids_backfill()  # the rooms' conference IDs, as the services give them
    return params


def _seed_companies(partner: Partner, copy: int = 0) -> list[Company]:
    name = f"Copy {copy} " if copy else ""
    slug = f"copy{copy}-" if copy else ""
    return Company.objects.bulk_create(
        [
            Company(
                partner=partner,
                name=f"{name}Company {i:03}" if i else f"{name}Bigco",
                slug=f"{slug}company-{i:03}" if i else f"{slug}bigco",
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
               'CC-' || (g %% 20), '', %(now)s - (g || ' minutes')::interval, %(now)s
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
                   %(now)s - (g || ' minutes')::interval, %(now)s
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
               %(now)s - ((c.id %% 90) || ' days')::interval
                     - ((c.id %% 1440) || ' minutes')::interval,
               %(now)s - ((c.id %% 90) || ' days')::interval
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


# Call records: 2,000,000 over 12 months, spread over the endpoints.
_CALLS = """
    WITH eps AS (
        SELECT c.id, (row_number() OVER (ORDER BY c.id)) - 1 AS n,
               s.usage_model = 'personal' AS personal
        FROM consumers_consumer c JOIN consumers_endpointsettings s ON s.consumer_id = c.id
        WHERE c.company_id = %(company)s AND c.kind = 'endpoint'
    ), calls AS (
        SELECT eps.id AS consumer_id, eps.personal, g,
               %(now)s - (g::double precision / %(count)s) * interval '365 days' AS started_at,
               'peer' || (g %% 10000) || '@remote.example' AS remote_address,
               'Peer ' || (g %% 10000) AS remote_display_name,
               ('10.' || (g %% 250) || '.' || (g %% 199) || '.' || (g %% 97))::inet AS remote_ip
        FROM generate_series(0, %(count)s - 1) g JOIN eps ON eps.n = g %% %(endpoints)s
    )
    INSERT INTO consumers_callrecord (consumer_id, started_at, duration_seconds, direction,
        remote_address, remote_display_name, remote_ip, anonymized_at, created_at)
"""


def _seed_call_records(params: dict[str, object]) -> None:
    _sql(
        _CALLS
        + """
        SELECT consumer_id, started_at, (g %% 3600),
               CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END,
               remote_address, remote_display_name, remote_ip, NULL, %(now)s
        FROM calls
        """,
        {**params, "count": CALL_RECORDS, "endpoints": ENDPOINTS},
    )


def _seed_call_records_done(params: dict[str, object], tonight: datetime) -> None:
    """The same call records as the retention job leaves them after its run the night before
    `tonight`: older than that night's cutoff, anonymised (Shared endpoints) or gone
    (Personal). The records that age tonight are left out, so that a copy adds nothing to the
    night's work: it grows the table, not the rows the job changes."""
    last_night = tonight - timedelta(days=1)
    _sql(
        _CALLS
        + """
        SELECT consumer_id, started_at, (g %% 3600),
               CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END,
               CASE WHEN done THEN '' ELSE remote_address END,
               CASE WHEN done THEN '' ELSE remote_display_name END,
               CASE WHEN done THEN NULL ELSE remote_ip END,
               CASE WHEN done THEN %(done_at)s END, %(now)s
        FROM (SELECT *, started_at < %(done_before)s AS done FROM calls) c
        WHERE started_at >= %(due_before)s OR (done AND NOT personal)
        """,
        {
            **params,
            "count": CALL_RECORDS,
            "endpoints": ENDPOINTS,
            "done_before": retention_cutoff(last_night),
            "done_at": last_night,
            "due_before": retention_cutoff(tonight),
        },
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


def steady_night(seeded: dict[str, object]) -> datetime:
    """The night the steady state is measured on: the seed's moment, moved back (at most three
    days) to a day of the month from the 2nd to the 28th, where the cutoff three calendar months
    back moves by exactly one day from one night to the next (month ends clamp: the night of 1
    March ages the records of 28 November to 1 December at once, and 31 May nothing)."""
    night = seeded["partner"].created_at
    while not 2 <= night.day <= 28:
        night -= timedelta(days=1)
    return night


def steady_state(tonight: datetime) -> int:
    """The tenant as the nightly retention job leaves it: the job itself, run for real
    (committed) as on the night before `tonight`, then VACUUM ANALYZE, as autovacuum follows a
    change of most of the table. Returns the records changed (none when already done)."""
    run = call_history_retention_run(now=tonight - timedelta(days=1))
    changed = run.anonymized + run.deleted
    if changed:
        vacuum_analyze()
    return changed


def pristine(seeded: dict[str, object]) -> bool:
    """The tenant as seed() left it: its 500 companies and the retention backlog still there
    (not so once the steady state and growth measurements have run)."""
    backlog = CallRecord.objects.filter(
        anonymized_at__isnull=True,
        started_at__lt=retention_cutoff(steady_night(seeded) - timedelta(days=1)),
    )
    return tenant_scale(seeded) == 1 and backlog.exists()


def tenant_scale(seeded: dict[str, object]) -> int:
    """How many times the seeded tenant the partner now holds (1 + the copies grow added)."""
    return Company.objects.filter(partner=seeded["partner"]).count() // COMPANIES


def grow(seeded: dict[str, object], scale: int, tonight: datetime) -> None:
    """Copies of the tenant added until the partner holds `scale` times it: 500 more companies
    each, one of them the size of Bigco with its 2M call records, seeded relative to the same
    moment as the tenant and in the steady state of `tonight` (see _seed_call_records_done).
    Then VACUUM ANALYZE (on pages not yet done, so it costs what was added)."""
    partner = seeded["partner"]
    for copy in range(tenant_scale(seeded), scale):
        with transaction.atomic():
            params = _seed_tenant_copy(partner, partner.created_at, copy)
        _seed_call_records_done(params, tonight)
    vacuum_analyze()


def vacuum_analyze() -> None:
    """The database as a day in service leaves it: VACUUM ANALYZE, as autovacuum follows bulk
    writes (and would otherwise start in the middle of a measurement, on one of the 2 cores),
    then a CHECKPOINT, which writes out the pages the writes and the vacuum dirtied, as
    PostgreSQL's checkpointer would have long before. Without it, the first statements timed
    after millions of rows were written (the seed, a grow, a rolled-back retention run) write
    those pages back to find room for their own (seen: the batch delete's statements 2x slower
    at 4x, their reads matched by as many writes)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def _sql(sql: str, params: dict[str, object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
