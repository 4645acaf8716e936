"""The daily expiry job: what happens when an evaluation or a licence runs out.

Deactivating the consumers that no longer have a seat is the seat holders' part (consumers,
through licensing.holders); this module sends the trial emails and runs the whole job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from portal import emails
from portal.events import event_emit
from portal.models import Company, evaluation_open_q

from .holders import seat_holders
from .models import License

logger = logging.getLogger(__name__)

# Reminders go out 23 and 7 days before an evaluation ends; the "ended" email within a week.
TRIAL_FIRST_REMINDER = timedelta(days=23)
TRIAL_LAST_REMINDER = timedelta(days=7)
TRIAL_ENDED_NOTICE = timedelta(days=7)
TRIAL_EMAIL_BATCH = 1000
# What claims an evaluation's end: stamped with the end date its one email was sent for.
TRIAL_ENDED_STAMP = "trial_ended_for"


def _trial_email_plans(today: date) -> list[tuple[str, Callable[..., None], Q]]:
    """(the stamp that claims it, the email, which evaluations are due)."""
    return [
        (
            "trial_reminder_23_for",
            emails.trial_reminder,
            Q(
                evaluation_ends_on__gt=today + TRIAL_LAST_REMINDER,
                evaluation_ends_on__lte=today + TRIAL_FIRST_REMINDER,
            ),
        ),
        (
            "trial_reminder_7_for",
            emails.trial_reminder,
            evaluation_open_q(today) & Q(evaluation_ends_on__lte=today + TRIAL_LAST_REMINDER),
        ),
        (
            TRIAL_ENDED_STAMP,
            emails.trial_ended,
            ~evaluation_open_q(today) & evaluation_open_q(today - TRIAL_ENDED_NOTICE),
        ),
    ]


def trial_reminders_send(*, today: date) -> int:
    """Reminders 23 and 7 days before evaluation ends, and one when it has ended.

    Each is claimed with a conditional UPDATE stamping the evaluation end date it was sent for,
    and its email is written to the outbox in the same transaction (the outbox retries a
    mail server that is down), so a second or concurrent run sends nothing, and an extended
    evaluation gets its own.
    """
    sent = 0
    for stamp, email, window in _trial_email_plans(today):
        due = Company.objects.filter(window).exclude(**{stamp: F("evaluation_ends_on")})
        due = due.exclude(licences__in=License.objects.active_on(today)).distinct()
        for company_id in list(due.values_list("id", flat=True)[:TRIAL_EMAIL_BATCH]):
            try:
                sent += _trial_email_send(company_id, stamp, email, today)
            except Exception:
                logger.exception("trial email %s for company %s failed", stamp, company_id)
    return sent


def _claim(company_id: int, stamp: str) -> bool:
    """Stamp the company's current evaluation end as emailed about; False if it already was."""
    return bool(
        Company.objects.filter(pk=company_id, evaluation_ends_on__isnull=False)
        .exclude(**{stamp: F("evaluation_ends_on")})
        .update(**{stamp: F("evaluation_ends_on")})
    )


@transaction.atomic
def _trial_email_send(company_id: int, stamp: str, email: Callable[..., None], today: date) -> int:
    if not _claim(company_id, stamp):
        return 0
    company = Company.objects.select_related("partner").get(pk=company_id)
    days_left = (company.evaluation_ends_on - today).days
    email(company, days_left=days_left)
    if stamp != TRIAL_ENDED_STAMP:
        _expiring_event(company, days_left)
    return 1


def _expiring_event(company: Company, days_left: int) -> None:
    """The job's warning as an event: the company's evaluation (its trial licence) ends soon."""
    data = {
        "company_id": str(company.public_id),
        "licence": "evaluation",
        "ends_on": company.evaluation_ends_on.isoformat(),
        "days_left": days_left,
    }
    event_emit("licence.expiring", partner=company.partner_id, company=company, data=data)


def evaluation_end_notify(*, company: Company, today: date, deactivated: int) -> None:
    """An evaluation's end is one event, so one email: the seat holders call this in the
    transaction that made `deactivated` trial consumers inactive, and it claims the "Trial
    ended" email of this end date (the daily job sends that email to a company that had no
    trial consumers; whichever comes first sends it, the other finds it claimed). An
    evaluation closed without an end date (ops cleared it) has no "Trial ended" to claim: the
    deactivation email says it instead."""
    if company.evaluation_ends_on is None:
        emails.consumers_deactivated(company, count=deactivated, reason="the evaluation has ended")
    elif _claim(company.pk, TRIAL_ENDED_STAMP):
        days_left = (company.evaluation_ends_on - today).days
        emails.trial_ended(company, days_left=days_left, deactivated=deactivated)


def licences_expiry_run(*, today: date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    holders = seat_holders()
    return {
        "trial_deactivated": holders.release_trials(today=today),
        "over_capacity_deactivated": holders.release_over_capacity(today=today),
        "emails": trial_reminders_send(today=today),
    }
