"""Double-clicked or concurrent adds of Microsoft 365 domains and interop configurations: one
wins, the others get the message a sequential duplicate gets (never a server error)."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import ValidationError

from domains import services
from domains.models import InteropConfiguration, Microsoft365Domain
from tests.conftest import raised, requires_postgres, run_at_once

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.mark.django_db(transaction=True)
def test_the_same_microsoft365_domain_added_at_once_is_added_once(personas):
    requires_postgres()
    add = partial(
        services.microsoft365_domain_add,
        actor=personas.regular,
        company=personas.company,
        name="tenant.example",
    )
    errors = raised(run_at_once(*[add] * 6))
    assert Microsoft365Domain.objects.count() == 1
    assert len(errors) == 5
    assert all(isinstance(e, ValidationError) and "already listed" in str(e) for e in errors)


@pytest.mark.django_db(transaction=True)
def test_the_same_interop_tenant_added_at_once_is_added_once(personas):
    requires_postgres()
    add = partial(
        services.interop_configuration_create,
        actor=personas.regular,
        company=personas.company,
        name="Teams",
        tenant_id=TENANT,
        calling_domain=personas.company.service_domain,
    )
    services.calling_domain_for_address(company=personas.company, name=None)  # exists first
    errors = raised(run_at_once(*[add] * 6))
    assert InteropConfiguration.objects.count() == 1
    assert len(errors) == 5
    assert all(isinstance(e, ValidationError) and "already has" in str(e) for e in errors)
