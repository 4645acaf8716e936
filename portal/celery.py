"""The Celery application and the one place that defines every periodic job."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Name -> (task, schedule). `manage.py runjobs` runs the same list once, in this order.
PERIODIC_JOBS: dict[str, tuple[str, object]] = {
    "invitation-reminders": ("consumers.tasks.invitation_reminders_send", crontab(minute=5)),
    "invitations-purge": ("consumers.tasks.invitations_purge", crontab(hour=3, minute=15)),
    "calling-domains-check": (
        "domains.tasks.calling_domains_check_pending",
        crontab(minute="*/15"),
    ),
    "calling-domain-claims-expiry": (
        "domains.tasks.calling_domain_claims_expire",
        crontab(minute=40),
    ),
    "call-history-retention": (
        "consumers.tasks.call_history_retention_run",
        crontab(hour=1, minute=30),
    ),
    "licences-expiry": ("licensing.tasks.licences_expiry_run", crontab(hour=2, minute=0)),
}

app.conf.beat_schedule = {
    name: {"task": task, "schedule": schedule} for name, (task, schedule) in PERIODIC_JOBS.items()
}
