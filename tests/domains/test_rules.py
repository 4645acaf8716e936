"""Domain names and the automatic verification rules, table-driven."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains import services
from domains.models import CallingDomain, DomainStatus, Microsoft365Domain, VerificationMethod
from domains.names import normalize_domain, root_domain
from tests.conftest import add_company


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Example.ORG", "example.org"),
        ("example.org.", "example.org"),
        ("  video.example.com  ", "video.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.c-d.example.co.uk", "a-b.c-d.example.co.uk"),
        # UTS #46 mapping of the whole name: full-width letters and dots, ideographic stops
        ("ｅｘａｍｐｌｅ．com", "example.com"),
        ("ＥＸＡＭＰＬＥ．ＣＯＭ．", "example.com"),
        ("video。example.org", "video.example.org"),
        ("ｂüｃｈｅｒ．example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008: ß is kept, not mapped to ss
        ("123.example", "123.example"),  # a numeric label is fine below the top level
        ("1a.example", "1a.example"),
    ],
)
def test_names_are_normalised(value, expected):
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("localhost", "single_label"),
        ("-bad.example", "label"),
        ("bad-.example", "label"),
        ("under_score.example", "label"),
        ("bad\u2603label.example", "idna"),
        ("a..example", "label"),
        ("x" * 64 + ".example", "label_length"),
        ("https://example.org", "syntax"),
        ("user@example.org", "syntax"),
        ("exa mple.org", "syntax"),
        (("a" * 60 + ".") * 5 + "org", "length"),
        ("example.org:5061", "syntax"),
        ("exa\tmple.org", "syntax"),
        # IP literals, IPv4 (and what resolvers read as IPv4) and IPv6, bracketed or not
        ("1.2.3.4", "ip_address"),
        ("1.2.3.4.", "ip_address"),
        ("１．２．３．４", "ip_address"),
        ("127.1", "ip_address"),
        ("0x7f.0.0.1", "ip_address"),
        ("999.999.999.999", "ip_address"),
        ("[1.2.3.4]", "ip_address"),
        ("::1", "ip_address"),
        ("[::1]", "ip_address"),
        ("2001:db8::1", "ip_address"),
        ("[2001:DB8::1]", "ip_address"),
        ("example.123", "numeric_tld"),
        # IDNA 2008: A-labels are decoded, and must be valid and canonical
        ("xn--a.com", "idna"),
        ("xn--.com", "idna"),
        ("xn--abc-.com", "idna"),
        ("xn---bbk.com", "idna"),
        ("ab--cd.example", "idna"),
        ("a\u200db.example", "idna"),
        ("\u0661\u0662a.example", "idna"),  # bidi rule
    ],
)
def test_bad_names_are_refused(value, code):
    with pytest.raises(ValidationError) as info:
        normalize_domain(value)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.2.3.4", "1.2.3.4 is an IP address: enter a domain name, like example.com."),
        ("[::1]", "[::1] is an IP address: enter a domain name, like example.com."),
        ("xn--a.com", "xn--a.com is not a valid domain name ("),
        ("under_score.example", "under_score is not a valid part of a domain name"),
        ("example.org:5061", "Enter only the domain name, like example.com"),
        ("example.123", "example.123 is not a domain name: its last part cannot be a number"),
    ],
)
def test_refusals_say_what_is_wrong(value, message):
    with pytest.raises(ValidationError) as info:
        normalize_domain(value)
    assert info.value.messages[0].startswith(message)


def test_every_path_reads_domains_the_same_way(personas):
    """Calling domains, Microsoft 365 domains and the domain of a new address all go through
    normalize_domain: the same name is accepted (mapped) or refused everywhere."""
    company, actor = personas.company, personas.regular
    for bad in ("1.2.3.4", "[::1]", "xn--a.com"):
        for path in (
            lambda v: services.calling_domain_add(actor=actor, company=company, name=v),
            lambda v: services.microsoft365_domain_add(actor=actor, company=company, name=v),
            lambda v: services.calling_domain_for_address(company=company, name=v),
        ):
            with pytest.raises(ValidationError):
                path(bad)
    assert not CallingDomain.objects.exclude(name=company.service_domain).exists()
    assert not Microsoft365Domain.objects.exists()
    added = services.calling_domain_add(actor=actor, company=company, name="ｅｘａｍｐｌｅ．com")
    assert added.name == "example.com"
    m365 = services.microsoft365_domain_add(
        actor=actor, company=company, name="ｅｘａｍｐｌｅ．com"
    )
    assert m365.name == "example.com"
    CallingDomain.objects.filter(pk=added.pk).update(status=DomainStatus.VERIFIED)
    gate = services.calling_domain_for_address(company=company, name="ＥＸＡＭＰＬＥ．com")
    assert gate.pk == added.pk


@pytest.mark.parametrize(
    ("name", "root"),
    [
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.org", "example.org"),
        ("co.uk", None),
        ("foo.bar.github.io", "bar.github.io"),
        ("www.xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_root_is_the_registrable_domain(name, root):
    assert root_domain(name) == root


@pytest.fixture
def other(personas):
    return personas.other_company


def verified(company, name, *, m365=False):
    model = Microsoft365Domain if m365 else CallingDomain
    extra = {} if m365 else {"verification_method": VerificationMethod.DNS_TXT}
    return model.objects.create(company=company, name=name, status=DomainStatus.VERIFIED, **extra)


RULES = [
    # (setup, name to add, expected method) -- setup: list of (owner, name, kind)
    ([], "video.acme-a.onpexip.com", VerificationMethod.SERVICE_DOMAIN),
    ([], "acme-a.onpexip.com", VerificationMethod.SERVICE_DOMAIN),
    ([], "example.org", None),
    ([("mine", "example.org", "m365")], "example.org", VerificationMethod.MICROSOFT365),
    ([("mine", "example.org", "m365")], "video.example.org", VerificationMethod.PARENT_DOMAIN),
    ([("mine", "example.org", "calling")], "video.example.org", VerificationMethod.PARENT_DOMAIN),
    ([("mine", "example.org", "calling")], "a.b.example.org", VerificationMethod.PARENT_DOMAIN),
    ([("mine", "video.example.org", "calling")], "example.org", None),  # never upwards
    ([("mine", "a.example.org", "calling")], "b.example.org", None),  # a sibling is no root
    ([("theirs", "example.org", "calling")], "video.example.org", None),  # never another's
    ([("theirs", "example.net", "m365")], "example.net", None),
    (
        [("mine", "example.co.uk", "calling")],
        "video.example.co.uk",
        VerificationMethod.PARENT_DOMAIN,
    ),
    ([("mine", "a.example.co.uk", "calling")], "b.example.co.uk", None),
    (
        [("mine", "xn--bcher-kva.example", "calling")],
        "video.bücher.example",
        VerificationMethod.PARENT_DOMAIN,
    ),
    ([("mine_pending", "example.org", "m365")], "example.org", None),
]


@pytest.mark.parametrize(("setup", "name", "expected"), RULES)
def test_automatic_verification_rules(personas, other, setup, name, expected):
    for owner, dname, kind in setup:
        company = other if owner == "theirs" else personas.company
        if owner == "mine_pending":
            Microsoft365Domain.objects.create(company=company, name=dname)
        else:
            verified(company, dname, m365=(kind == "m365"))
    domain = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name=name
    )
    assert domain.verification_method == expected
    assert domain.status == (DomainStatus.VERIFIED if expected else DomainStatus.PENDING)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("onpexip.com", "shared domain"),
        ("bravo-b.onpexip.com", "can use acme-a.onpexip.com"),
        ("x.bravo-b.onpexip.com", "can use acme-a.onpexip.com"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
    ],
)
def test_domains_that_cannot_be_added(personas, name, message):
    with pytest.raises(ValidationError, match=message):
        services.calling_domain_add(actor=personas.regular, company=personas.company, name=name)


def test_a_verified_domain_belongs_to_one_company(personas, other):
    """The database holds it: pending claims of one name may be many (one per company), a
    verified one only one."""
    from django.db import IntegrityError, transaction

    services.calling_domain_add(actor=personas.other_manager, company=other, name="shared.example")
    mine = services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="SHARED.example."
    )
    assert mine.name == "shared.example" and mine.status == DomainStatus.PENDING
    with pytest.raises(ValidationError, match="already one of this company's domains"):
        services.calling_domain_add(
            actor=personas.regular, company=personas.company, name="shared.example"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CallingDomain.objects.create(company=personas.company, name="shared.example")
    CallingDomain.objects.filter(company=other).update(status=DomainStatus.VERIFIED)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallingDomain.objects.filter(pk=mine.pk).update(status=DomainStatus.VERIFIED)


def test_plain_company_gets_its_default_domain_on_first_use(personas):
    company = add_company(personas.partner, "Fresh")
    default = services.company_default_domain(company=company)
    assert default.name == "fresh.onpexip.com" and default.is_verified
    assert services.company_default_domain(company=company).pk == default.pk
