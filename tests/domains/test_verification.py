"""DNS TXT verification against a real DNS server on loopback (dnslib), queried by dnspython."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.core import mail

from domains import dns_lookup as engine
from domains import services
from domains.models import CallingDomain, DomainStatus, Microsoft365Domain
from tests.conftest import T0, raised, requires_postgres, run_at_once


@pytest.fixture
def pending(personas, dns_server):
    return services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="example.org"
    )


def txt(domain):
    return f"pexip-verification={domain.verification_token}"


CASES = [
    # (how the record is published, expected outcome)
    ("apex", engine.VERIFIED),
    ("underscore", engine.VERIFIED),
    ("split", engine.VERIFIED),
    ("among_others", engine.VERIFIED),
    ("wrong_token", engine.NOT_VERIFIED),
    ("nxdomain", engine.NOT_VERIFIED),
    ("no_answer", engine.NOT_VERIFIED),
    ("timeout", engine.TRANSIENT),
    ("servfail", engine.TRANSIENT),
]


def publish(dns_server, domain, how):
    name = domain.name
    value = txt(domain)
    if how == "apex":
        dns_server.add_txt(name, value)
    elif how == "underscore":
        dns_server.add_txt(f"_pexip-verification.{name}", value)
    elif how == "split":  # one TXT record made of several strings
        dns_server.add_txt(name, value[:20], value[20:])
    elif how == "among_others":
        dns_server.add_txt(name, "v=spf1 -all")
        dns_server.add_txt(name, f"google-site-verification=abc {value}")
    elif how == "wrong_token":
        dns_server.add_txt(name, "pexip-verification=not-the-token")
    elif how == "no_answer":
        dns_server.add_a(name)
    elif how == "timeout":
        dns_server.silent.update({name, f"_pexip-verification.{name}"})
    elif how == "servfail":
        dns_server.servfail.update({name, f"_pexip-verification.{name}"})


@pytest.mark.parametrize(("how", "outcome"), CASES)
def test_txt_check_outcomes(pending, dns_server, how, outcome):
    publish(dns_server, pending, how)
    result = engine.txt_evaluate(pending.name, pending.verification_token)
    assert result.outcome == outcome, result.reason
    assert dns_server.queries, "the loopback server was asked"


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("wrong_token", "none is pexip-verification="),
        ("nxdomain", "does not exist in DNS (NXDOMAIN)"),
        ("no_answer", "No TXT record was found"),
        ("timeout", "Temporary DNS problem"),
        ("servfail", "Temporary DNS problem"),
    ],
)
def test_not_verified_stays_pending_with_a_clear_reason(
    pending, dns_server, how, reason, django_capture_on_commit_callbacks
):
    publish(dns_server, pending, how)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        domain = services.calling_domain_verify(actor=None, calling_domain=pending)
    assert domain.status == DomainStatus.PENDING
    assert reason in domain.last_error
    assert domain.verification_method is None and domain.verified_at is None
    assert mail.outbox == []


def test_becoming_verified_emails_the_contact_once_and_is_kept(
    pending, dns_server, personas, django_capture_on_commit_callbacks
):
    publish(dns_server, pending, "underscore")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        domain = services.calling_domain_verify(actor=personas.regular, calling_domain=pending)
    assert domain.status == DomainStatus.VERIFIED and domain.verification_method == "dns_txt"
    assert [m.subject for m in mail.outbox] == ["Acme A: example.org is verified"]
    assert mail.outbox[0].to == ["contact@acme.example"]
    dns_server.reset()  # the record is removed later
    with django_capture_on_commit_callbacks(execute=True):
        again = services.calling_domain_verify(actor=None, calling_domain=domain)
    assert again.status == DomainStatus.VERIFIED
    assert len(mail.outbox) == 1


def test_a_transient_failure_changes_nothing_but_the_error(pending, dns_server):
    before = (
        CallingDomain.objects.filter(pk=pending.pk)
        .values("status", "verification_method", "verified_at", "verification_token")
        .get()
    )
    publish(dns_server, pending, "servfail")
    domain = services.calling_domain_verify(actor=None, calling_domain=pending)
    after = (
        CallingDomain.objects.filter(pk=pending.pk)
        .values("status", "verification_method", "verified_at", "verification_token")
        .get()
    )
    assert before == after
    assert "Temporary DNS problem" in domain.last_error


def test_a_verified_root_verifies_pending_subdomains(
    personas, dns_server, django_capture_on_commit_callbacks
):
    sub = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="video.example.org"
    )
    root = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="example.org"
    )
    assert sub.status == root.status == DomainStatus.PENDING
    publish(dns_server, root, "apex")
    with django_capture_on_commit_callbacks(execute=True):
        services.calling_domain_verify(actor=None, calling_domain=root)
    sub.refresh_from_db()
    assert sub.status == DomainStatus.VERIFIED and sub.verification_method == "parent_domain"


def test_microsoft365_domains_use_the_same_engine_and_ops_can_mark_them(
    personas, dns_server, django_capture_on_commit_callbacks
):
    m365 = services.microsoft365_domain_add(
        actor=personas.regular, company=personas.company, name="contoso.example"
    )
    assert (
        services.microsoft365_domain_verify(actor=personas.regular, microsoft365_domain=m365).status
        == "pending"
    )
    dns_server.add_txt("contoso.example", f"pexip-verification={m365.verification_token}")
    with django_capture_on_commit_callbacks(execute=True):
        m365 = services.microsoft365_domain_verify(actor=personas.regular, microsoft365_domain=m365)
    assert m365.is_verified and not m365.verified_by_ops
    other = services.microsoft365_domain_add(
        actor=personas.regular, company=personas.company, name="fabrikam.example"
    )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.microsoft365_domain_mark_verified(
            actor=personas.manager, microsoft365_domain=other
        )
    other = services.microsoft365_domain_mark_verified(
        actor=personas.ops, microsoft365_domain=other
    )
    assert other.is_verified and other.verified_by_ops
    domain = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="fabrikam.example"
    )
    assert domain.verification_method == "microsoft365"
    assert Microsoft365Domain.objects.filter(status="verified").count() == 2


def test_the_beat_job_checks_due_domains_and_backs_off(clock, personas, dns_server):
    young = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="young.example"
    )
    old = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="old.example"
    )
    CallingDomain.objects.filter(pk=old.pk).update(created_at=T0 - timedelta(days=10))
    assert services.calling_domains_check_pending()["checked"] == 2
    assert services.calling_domains_check_pending()["checked"] == 0, "second run: nothing"
    clock.move_to(T0 + timedelta(minutes=16))
    assert services.calling_domains_check_pending()["checked"] == 1  # only the young one
    clock.move_to(T0 + timedelta(hours=6, minutes=1))
    dns_server.add_txt("old.example", f"pexip-verification={old.verification_token}")
    result = services.calling_domains_check_pending()
    assert result == {"checked": 2, "verified": 1}
    young.refresh_from_db()
    assert young.status == DomainStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_verify_sends_one_email(personas, dns_server):
    requires_postgres()
    domain = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="race.example"
    )
    dns_server.add_txt("race.example", f"pexip-verification={domain.verification_token}")
    mail.outbox.clear()
    verify = partial(services.calling_domain_verify, actor=None, calling_domain=domain)
    assert raised(run_at_once(*[verify] * 4, timeout=30)) == []
    domain.refresh_from_db()
    assert domain.status == DomainStatus.VERIFIED
    assert [m.subject for m in mail.outbox].count("Acme A: race.example is verified") == 1
