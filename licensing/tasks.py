from __future__ import annotations

from typing import Any

from celery import shared_task

from . import expiry


@shared_task
def licences_expiry_run() -> dict[str, Any]:
    return expiry.licences_expiry_run()
