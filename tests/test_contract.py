"""The names outside acceptance checks call (shared CONTRACT.md) exist and keep their shape."""

from __future__ import annotations

import importlib
import inspect

import pytest

SERVICES = {
    "consumers.addresses.normalize_alias": ["value", "hosted_domain"],
    "consumers.services.user_invite": ["actor", "company", "email", "full_name", "alias", "domain"],
    "consumers.services.team_vmr_create": ["actor", "company", "alias", "display_name", "domain"],
    "consumers.services.endpoint_create": [
        "actor",
        "company",
        "alias",
        "display_name",
        "domain",
        "usage_model",
    ],
    "consumers.services.consumer_delete": ["actor", "consumer"],
    "consumers.services.consumer_activate": ["actor", "consumer"],
    "consumers.services.invitation_accept": ["token"],
    "domains.services.calling_domain_add": ["actor", "company", "name"],
    "domains.services.calling_domain_verify": ["actor", "calling_domain"],
    "domains.services.microsoft365_domain_add": ["actor", "company", "name"],
    "domains.services.microsoft365_domain_mark_verified": ["actor", "microsoft365_domain"],
    "handouts.services.handout_render_html": ["company"],
    "handouts.services.handout_render_pdf": ["company"],
}
TASKS = [
    "consumers.tasks.invitation_reminders_send",
    "consumers.tasks.invitations_purge",
    "consumers.tasks.call_history_retention_run",
    "domains.tasks.calling_domains_check_pending",
    "licensing.tasks.licences_expiry_run",
]


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("dotted", "params"), SERVICES.items())
def test_service_names_and_keyword_arguments(dotted, params):
    signature = inspect.signature(resolve(dotted))
    for param in params:
        assert param in signature.parameters, f"{dotted} lost {param}"
        kind = signature.parameters[param].kind
        if dotted.endswith("normalize_alias") and param == "value":
            assert kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        else:
            assert kind is inspect.Parameter.KEYWORD_ONLY, f"{dotted}: {param} is keyword-only"


@pytest.mark.parametrize("dotted", TASKS)
def test_periodic_jobs_are_celery_tasks_in_the_schedule(dotted):
    from portal.celery import PERIODIC_JOBS, app

    task = resolve(dotted)
    assert task.name == dotted and task.name in app.tasks
    assert dotted in {name for name, _schedule in PERIODIC_JOBS.values()}


def test_invitation_accept_is_reachable_from_services(make):
    from consumers import services, tokens
    from consumers.models import ConsumerStatus

    consumer = make.user("contract.c")
    token = tokens.token_for(consumer.invitation.token_nonce)
    assert services.invitation_accept(token=token).status == ConsumerStatus.ACTIVE
