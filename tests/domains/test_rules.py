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
    ],
)
def test_bad_names_are_refused(value, code):
    with pytest.raises(ValidationError) as info:
        normalize_domain(value)
    assert info.value.code == code


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


def test_a_domain_belongs_to_one_company(personas, other):
    services.calling_domain_add(actor=personas.other_manager, company=other, name="shared.example")
    with pytest.raises(ValidationError, match="another customer"):
        services.calling_domain_add(
            actor=personas.regular, company=personas.company, name="SHARED.example."
        )
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CallingDomain.objects.create(company=personas.company, name="shared.example")


def test_plain_company_gets_its_default_domain_on_first_use(personas):
    company = add_company(personas.partner, "Fresh")
    default = services.company_default_domain(company=company)
    assert default.name == "fresh.onpexip.com" and default.is_verified
    assert services.company_default_domain(company=company).pk == default.pk
