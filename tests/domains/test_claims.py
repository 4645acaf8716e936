"""Claims of calling domains, the Microsoft 365 model (issue 15, defect 1): pending claims never
block anyone and never reveal another tenant; the first company to publish its TXT record gets
the name, and a verified name belongs to one company; unverified claims expire after 30 days,
with a warning a week before."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from functools import partial

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from domains import services
from domains.models import (
    CLAIM_LIFETIME,
    CLAIM_WARNING_NOTICE,
    CallingDomain,
    DomainStatus,
    InteropConfiguration,
    Microsoft365Domain,
    VerificationMethod,
)
from portal.display import day, moment
from portal.models import AuditEvent
from tests.conftest import T0, add_company, raised, requires_postgres, run_at_once
from tests.mailing import deliver

TAKEN = "example.org is already verified for another customer of the service."
# What no message to partner A may contain about partner B's company.
THEIRS = ("Bravo", "Partner B", "bravo.example")


def claim(company, actor, name="example.org"):
    return services.calling_domain_add(actor=actor, company=company, name=name)


def publish(dns_server, domain):
    dns_server.add_txt(domain.name, f"pexip-verification={domain.verification_token}")


def verify(domain):
    return services.calling_domain_verify(actor=None, calling_domain=domain)


def reveals_nothing(text: str) -> bool:
    return not any(word in text for word in THEIRS)


@pytest.fixture
def ours(personas, dns_server):
    """Partner A's company's claim of example.org."""
    return claim(personas.company, personas.regular)


@pytest.fixture
def theirs(personas, dns_server):
    """Partner B's company's claim of the same name."""
    return claim(personas.other_company, personas.other_manager)


# --- pending claims never block anyone ----------------------------------------------------------


def test_two_companies_may_claim_the_same_name(personas, ours, theirs):
    assert ours.status == theirs.status == DomainStatus.PENDING
    assert ours.verification_token != theirs.verification_token
    assert CallingDomain.objects.filter(name="example.org").count() == 2
    with pytest.raises(ValidationError, match="already one of this company's domains"):
        claim(personas.company, personas.regular, "EXAMPLE.org.")


def test_the_first_to_publish_its_txt_record_gets_the_name(personas, dns_server, ours, theirs):
    publish(dns_server, theirs)
    publish(dns_server, ours)  # both hold a record: only the first verification counts
    assert verify(theirs).status == DomainStatus.VERIFIED
    mine = verify(ours)
    assert mine.status == DomainStatus.PENDING and mine.verified_at is None
    assert mine.last_error == TAKEN
    # The periodic check tries again and records the same, still without a TXT lookup.
    dns_server.queries.clear()
    CallingDomain.objects.filter(pk=mine.pk).update(last_checked_at=None, last_error="")
    assert services.calling_domains_check_pending() == {"checked": 1, "verified": 0}
    mine.refresh_from_db()
    assert mine.status == DomainStatus.PENDING and mine.last_error == TAKEN
    assert not [q for q in dns_server.queries if "example.org" in q[0]]
    with pytest.raises(ValidationError) as refused:
        claim(add_company(personas.partner, "Charlie"), personas.regular)
    assert refused.value.message_dict["name"] == [TAKEN]
    assert reveals_nothing(TAKEN)


def test_a_name_verified_for_another_company_is_never_verified_automatically(
    personas, dns_server, django_capture_on_commit_callbacks
):
    company, actor = personas.company, personas.regular
    sub = claim(company, actor, "video.example.com")
    theirs = claim(personas.other_company, personas.other_manager, "video.example.com")
    publish(dns_server, theirs)
    assert verify(theirs).is_verified
    # Our company proves the root: its pending subdomain would follow, but the name is taken.
    root = claim(company, actor, "example.com")
    publish(dns_server, root)
    with django_capture_on_commit_callbacks(execute=True):
        assert verify(root).is_verified
    sub.refresh_from_db()
    assert sub.status == DomainStatus.PENDING and sub.verification_method is None
    # Nor does our verified Microsoft 365 domain of the same name count.
    Microsoft365Domain.objects.create(
        company=company, name="video.example.com", status=DomainStatus.VERIFIED
    )
    assert services.auto_verification(company=company, name="video.example.com") is None
    sub = verify(sub)
    assert sub.status == DomainStatus.PENDING
    assert (
        sub.last_error
        == "video.example.com is already verified for another customer of the service."
    )
    # Ours: still decided by the usual rules.
    assert (
        services.auto_verification(company=company, name="other.example.com")
        == VerificationMethod.PARENT_DOMAIN
    )


def test_an_add_of_a_name_verified_elsewhere_is_refused_on_every_automatic_rule(personas):
    CallingDomain.objects.create(
        company=personas.other_company,
        name="example.org",
        status=DomainStatus.VERIFIED,
        verification_method=VerificationMethod.DNS_TXT,
    )
    Microsoft365Domain.objects.create(
        company=personas.company, name="example.org", status=DomainStatus.VERIFIED
    )
    with pytest.raises(ValidationError, match="already verified for another customer"):
        claim(personas.company, personas.regular)
    assert not CallingDomain.objects.filter(company=personas.company, name="example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_two_verifications_racing_end_with_one_verified_and_a_clear_error(personas, dns_server):
    """Ours checks while theirs is verified but not yet committed: the check sees nothing, the
    UPDATE waits on the verified-name index, and once theirs commits it records the error."""
    requires_postgres()
    ours = claim(personas.company, personas.regular)
    theirs = claim(personas.other_company, personas.other_manager)
    publish(dns_server, ours)
    publish(dns_server, theirs)
    held = threading.Event()

    def verify_theirs_and_commit_once_ours_waits():
        with transaction.atomic():
            verify(theirs)
            held.set()
            return _wait_for_a_lock_waiter()

    def verify_ours():
        held.wait(timeout=20)
        return verify(ours)

    waited, mine = run_at_once(verify_theirs_and_commit_once_ours_waits, verify_ours, timeout=60)
    assert waited is True, "ours waited on theirs: the race was run"
    assert isinstance(mine, CallingDomain), mine
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert theirs.status == DomainStatus.VERIFIED
    assert ours.status == DomainStatus.PENDING and ours.last_error == TAKEN
    assert not AuditEvent.objects.filter(
        action="calling_domain.verified", object_id=str(ours.public_id)
    ).exists()


def _wait_for_a_lock_waiter(timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction the statistics views are a snapshot: take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_and_adds_never_give_a_server_error(personas, dns_server):
    requires_postgres()
    claims = [
        claim(add_company(personas.partner, f"Racer {i}"), personas.regular) for i in range(4)
    ]
    for domain in claims:
        publish(dns_server, domain)
    mail.outbox.clear()
    assert raised(run_at_once(*[partial(verify, domain) for domain in claims], timeout=60)) == []
    statuses = list(CallingDomain.objects.values_list("status", "last_error"))
    assert statuses.count((DomainStatus.VERIFIED, "")) == 1
    assert statuses.count((DomainStatus.PENDING, TAKEN)) == 3
    assert len([m for m in mail.outbox if "example.org is verified" in m.subject]) == 1
    # The same company adding a name twice at once: one row, one clear refusal.
    add = partial(claim, personas.company, personas.regular, "twice.example")
    errors = raised(run_at_once(add, add, timeout=30))
    assert [e.messages for e in errors] == [
        ["twice.example is already one of this company's domains."]
    ]
    assert CallingDomain.objects.filter(name="twice.example").count() == 1


# --- pending claims expire ----------------------------------------------------------------------


def expire(now=None):
    """The expiry job, and the emails it wrote delivered from the outbox."""
    result = services.calling_domain_claims_expire(now=now)
    deliver()
    return result


def expiry_mails():
    return [m for m in mail.outbox if "unless it is verified" in m.subject]


def test_an_unverified_claim_is_warned_at_23_days_and_removed_at_30(clock, personas, dns_server):
    pending = claim(personas.company, personas.regular)
    kept = claim(personas.company, personas.regular, "kept.example")
    publish(dns_server, kept)
    kept = verify(kept)
    mail.outbox.clear()
    assert CLAIM_LIFETIME == timedelta(days=30) and CLAIM_WARNING_NOTICE == timedelta(days=7)
    assert pending.claim_expires_at == T0 + timedelta(days=30) and kept.claim_expires_at is None

    clock.move_to(T0 + timedelta(days=23) - timedelta(minutes=1))
    assert expire() == {"removed": 0, "warned": 0}
    clock.move_to(T0 + timedelta(days=23))
    assert expire() == {"removed": 0, "warned": 1}
    assert expire() == {"removed": 0, "warned": 0}, "a second run sends nothing"
    (message,) = expiry_mails()
    assert message.subject == ("Acme A: example.org is removed on 3 Feb 2027 unless it is verified")
    assert message.to == ["contact@acme.example"] and message.cc == ["help@a.example"]
    for part in (message.body, message.alternatives[0][0]):
        assert "will be removed on" in part and "3 Feb 2027" in part
        assert f"pexip-verification={pending.verification_token}" in part
        assert "within 30 days" in part

    clock.move_to(T0 + timedelta(days=30) - timedelta(minutes=1))
    assert expire() == {"removed": 0, "warned": 0}
    clock.move_to(T0 + timedelta(days=30))
    assert expire() == {"removed": 1, "warned": 0}
    assert expire() == {"removed": 0, "warned": 0}, "a second run removes nothing"
    assert not CallingDomain.objects.filter(pk=pending.pk).exists()
    assert CallingDomain.objects.filter(pk=kept.pk).exists()
    event = AuditEvent.objects.get(action="calling_domain.claim_expired")
    assert event.object_id == str(pending.public_id) and event.data == {"name": "example.org"}
    assert event.company == personas.company and event.actor is None
    assert len(expiry_mails()) == 1


def test_a_claim_verified_in_time_is_neither_warned_nor_removed(clock, personas, dns_server):
    pending = claim(personas.company, personas.regular)
    clock.move_to(T0 + timedelta(days=29))
    publish(dns_server, pending)
    verify(pending)
    clock.move_to(T0 + timedelta(days=90))
    mail.outbox.clear()
    assert expire() == {"removed": 0, "warned": 0}
    assert expiry_mails() == []


def test_a_claim_due_for_removal_is_removed_without_a_late_warning(clock, personas, dns_server):
    claim(personas.company, personas.regular)
    clock.move_to(T0 + timedelta(days=31))  # the job was down through the warning window
    mail.outbox.clear()
    assert expire() == {"removed": 1, "warned": 0}
    assert expiry_mails() == []


def test_a_claim_in_use_is_kept(clock, personas, dns_server):
    pending = claim(personas.company, personas.regular)
    # Not possible through the services (a pending domain carries nothing): made by hand.
    InteropConfiguration.objects.create(
        company=personas.company,
        name="Teams",
        tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
        calling_domain=pending,
    )
    clock.move_to(T0 + timedelta(days=31))
    assert expire()["removed"] == 0
    assert CallingDomain.objects.filter(pk=pending.pk).exists()


def test_a_warning_the_mail_server_refused_is_sent_later_and_once(
    clock, personas, dns_server, smtp_server
):
    pending = claim(personas.company, personas.regular)
    clock.move_to(T0 + timedelta(days=24))
    smtp_server.refuse = True
    assert expire()["warned"] == 1
    pending.refresh_from_db()
    assert pending.expiry_warned_at is not None, "claimed, its email waits in the outbox"
    smtp_server.refuse = False
    clock.shift(timedelta(minutes=1))  # the outbox's first retry is due
    assert expire()["warned"] == 0
    assert expire()["warned"] == 0
    warnings = [m for m in smtp_server.messages if "unless it is verified" in m["Subject"]]
    assert len(warnings) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_and_remove_each_claim_once(personas, dns_server):
    requires_postgres()
    now = timezone.now()
    companies = [add_company(personas.partner, f"Claimant {i}") for i in range(6)]
    for i, company in enumerate(companies):
        domain = claim(company, personas.regular)
        age = timedelta(days=24) if i < 3 else timedelta(days=31)
        CallingDomain.objects.filter(pk=domain.pk).update(created_at=now - age)
    mail.outbox.clear()
    results = run_at_once(*[partial(expire, now)] * 4, timeout=60)
    assert raised(results) == []
    assert sum(r["warned"] for r in results) == 3
    assert sum(r["removed"] for r in results) == 3
    assert len(expiry_mails()) == 3
    assert AuditEvent.objects.filter(action="calling_domain.claim_expired").count() == 3
    assert CallingDomain.objects.filter(name="example.org").count() == 3
    assert expire(now) == {"removed": 0, "warned": 0}


def test_the_expiry_job_is_a_periodic_job():
    from portal.celery import PERIODIC_JOBS, app

    app.loader.import_default_modules()
    assert "domains.tasks.calling_domain_claims_expire" in {t for t, _ in PERIODIC_JOBS.values()}
    assert "domains.tasks.calling_domain_claims_expire" in app.tasks


# --- over HTTP ----------------------------------------------------------------------------------


def durl(name, company, *args):
    return reverse(f"domains:{name}", args=[company.public_id, *args])


def test_over_http_neither_company_is_told_about_the_other(
    personas, login, dns_server, django_capture_on_commit_callbacks
):
    theirs = claim(personas.other_company, personas.other_manager)
    client = login(personas.regular)
    company = personas.company
    added = client.post(durl("domain_add", company), {"name": "example.org"}, follow=True)
    page = added.content.decode()
    assert "example.org added. The DNS records to publish were emailed" in page
    assert "another customer" not in page and reveals_nothing(page)
    ours = CallingDomain.objects.get(company=company, name="example.org")
    assert ours.status == DomainStatus.PENDING

    publish(dns_server, theirs)
    publish(dns_server, ours)
    verify(theirs)  # partner B proves it first
    with django_capture_on_commit_callbacks(execute=True):
        client.post(durl("domain_verify", company, ours.public_id))
    detail = client.get(durl("domain_detail", company, ours.public_id)).content.decode()
    assert TAKEN in detail and "status-verified" not in detail and reveals_nothing(detail)
    listing = client.get(durl("domain_list", company)).content.decode()
    assert TAKEN in listing and reveals_nothing(listing)

    other = add_company(personas.partner, "Charlie")
    refused = client.post(durl("domain_add", other), {"name": "Example.ORG"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["name"] == [TAKEN]
    assert reveals_nothing(refused.content.decode())
    assert (
        not CallingDomain.objects.filter(company=other).exclude(name=other.service_domain).exists()
    )


def test_the_domain_pages_show_when_an_unverified_claim_expires(clock, personas, login, ours):
    client = login(personas.regular)
    expires_at = T0 + CLAIM_LIFETIME
    expires = moment(expires_at)
    detail = client.get(durl("domain_detail", personas.company, ours.public_id)).content.decode()
    assert f"this one on {expires}, unless it is verified before" in detail
    listing = client.get(durl("domain_list", personas.company)).content.decode()
    assert f"Removed {day(expires_at)} unless verified" in listing
    form = client.get(durl("domain_add", personas.company)).content.decode()
    assert "not verified within 30 days is removed" in form


def test_http_domain_input_is_mapped_or_refused_clearly(personas, login):
    client = login(personas.regular)
    company = personas.company
    for value, error in [
        ("1.2.3.4", "1.2.3.4 is an IP address"),
        ("[2001:db8::1]", "[2001:db8::1] is an IP address"),
        ("xn--a.com", "xn--a.com is not a valid domain name"),
    ]:
        response = client.post(durl("domain_add", company), {"name": value})
        assert response.status_code == 200
        assert error in str(response.context["form"].errors["name"])
    response = client.post(durl("domain_add", company), {"name": "ｅｘａｍｐｌｅ．com"})
    assert response.status_code == 302
    assert CallingDomain.objects.filter(company=company, name="example.com").exists()


def test_another_partner_holding_the_same_name_gets_404_on_our_claim(personas, login, ours, theirs):
    client = login(personas.other_manager)
    for name in ("domain_detail", "domain_status", "domain_dns_check"):
        assert client.get(durl(name, personas.company, ours.public_id)).status_code == 404
    assert client.post(durl("domain_verify", personas.company, ours.public_id)).status_code == 404
    own = client.get(durl("domain_detail", personas.other_company, theirs.public_id))
    assert theirs.verification_token in own.content.decode()
    assert ours.verification_token not in own.content.decode()
    assert "Acme" not in own.content.decode()


def test_a_claim_of_a_name_verified_elsewhere_gets_no_warning_and_expires(
    clock, personas, dns_server, ours, theirs
):
    """Publishing the record cannot win a name another company verified: no warning asks it."""
    publish(dns_server, theirs)
    assert verify(theirs).is_verified
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=23))
    assert expire() == {"removed": 0, "warned": 0} and not expiry_mails()
    clock.move_to(T0 + timedelta(days=30))
    assert expire() == {"removed": 1, "warned": 0}
    assert not CallingDomain.objects.filter(pk=ours.pk).exists()
