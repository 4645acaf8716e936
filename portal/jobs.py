"""Queueing background tasks from services.

A service queues the task that will call another service back (a new calling domain queues its
DNS email, a confirmed batch queues its run). Importing the task module for that would close an
import circle (the task module imports the services), so services queue tasks by their Celery
name. The names are checked when they are queued: an unknown one raises at once, and a test
queues every task name the apps use.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .celery import app


def task_by_name(name: str) -> Any:
    if name not in app.tasks:
        # Celery discovers the apps' task modules lazily (on the worker, at start); a web
        # process loads them on first use.
        app.loader.import_default_modules()
    return app.tasks[name]


def enqueue_on_commit(name: str, *args: Any) -> None:
    """Queue the task `name` with `args` once the current transaction commits (at once outside
    one), so the worker never sees a row that is not committed yet, or one rolled back."""
    task = task_by_name(name)
    transaction.on_commit(lambda: task.delay(*args))
