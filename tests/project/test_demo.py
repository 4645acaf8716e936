"""The demo (`make run`): its seeded data and its processes.

The seed is idempotent and gives the first visit something alive: dial-in numbers, call history
and invitations at day 9, 29 and 59. The processes are the real ones `make run` starts (runserver,
a Celery worker with beat on the filesystem broker, SQLite): an invitation due for its day-10
re-send is re-sent without anyone running a command, and Ctrl-C stops every process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from consumers.models import (
    INVITE_FIRST_RESEND,
    INVITE_PURGE_AFTER,
    INVITE_SECOND_RESEND,
    CallRecord,
    Consumer,
    ConsumerKind,
    Invitation,
)
from handouts.models import DialInNumber
from portal.celery import PERIODIC_JOBS, beat_schedule
from portal.models import AuditEvent, OutboxMessage
from project.demo import CALLS_PER_ENDPOINT, DIAL_IN_NUMBERS, FIRST_RESEND_AFTER_SEED
from tests.conftest import free_port
from tests.makefile import demo_environment

ROOT = Path(__file__).resolve().parents[2]


def seed() -> None:
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (DialInNumber, CallRecord, Consumer, Invitation, AuditEvent, OutboxMessage)
    )


def test_seed_demo_twice_seeds_the_living_demo_once(db):
    seed()
    first = counts()
    seed()
    assert counts() == first, "a second run adds nothing"

    assert [(str(n.country), n.label) for n in DialInNumber.objects.current()] == sorted(
        (country, label) for country, label, _number in DIAL_IN_NUMBERS
    )
    endpoints = Consumer.objects.filter(kind=ConsumerKind.ENDPOINT)
    assert endpoints.exists()
    for endpoint in endpoints:
        assert endpoint.call_records.count() == CALLS_PER_ENDPOINT, endpoint.address


def test_the_seeded_invitations_sit_at_day_9_29_and_59(db):
    seed()
    now = timezone.now()
    pending = {
        (now - i.sent_at).days: i
        for i in Invitation.objects.pending().filter(sent_at__lt=now - timedelta(days=1))
    }
    assert sorted(pending) == [9, 29, 59]
    day9, day29, day59 = pending[9], pending[29], pending[59]
    # Day 9: its first re-send is minutes away, so the demo's jobs send it soon after start.
    assert day9.first_reminder_at is None
    assert now < day9.next_resend_at() <= now + FIRST_RESEND_AFTER_SEED
    # Day 29: re-sent at day 10, the day-30 re-send next.
    assert day29.first_reminder_at == day29.sent_at + INVITE_FIRST_RESEND
    assert day29.next_resend_at() == day29.sent_at + INVITE_SECOND_RESEND
    # Day 59: re-sent at 10 and 30, deleted within a day.
    assert day59.second_reminder_at == day59.sent_at + INVITE_SECOND_RESEND
    assert day59.next_resend_at() is None
    assert now < day59.purge_at() <= now + timedelta(days=1)
    assert day59.purge_at() == day59.sent_at + INVITE_PURGE_AFTER
    # Their history reads as it happened: invited, then each re-send on its day.
    events = AuditEvent.objects.filter(object_id=str(day59.consumer.public_id)).order_by(
        "created_at"
    )
    assert [(e.action, e.created_at) for e in events] == [
        ("user.invite", day59.sent_at),
        ("user.invitation_reminder", day59.sent_at + INVITE_FIRST_RESEND),
        ("user.invitation_reminder", day59.sent_at + INVITE_SECOND_RESEND),
    ]


def test_the_demo_schedule_runs_every_job_at_start_then_every_interval():
    demo = beat_schedule(60)
    assert set(demo) == set(PERIODIC_JOBS)
    for name, entry in demo.items():
        assert entry["task"] == PERIODIC_JOBS[name][0]
        assert entry["schedule"] == timedelta(seconds=60)
        assert entry["last_run_at"] < timezone.now() - timedelta(days=1), "due at once"
    production = beat_schedule(0)
    assert {name: e["schedule"] for name, e in production.items()} == {
        name: when for name, (_task, when) in PERIODIC_JOBS.items()
    }
    assert not any("last_run_at" in e for e in production.values())


# --- the processes `make run` starts -------------------------------------------------------------


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and proc.name.isdigit() and int(proc.name) != os.getpid():
            found.append(f"{proc.name}: {cmdline}")
    return found


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )


def wait_until(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}; demo log:\n{log.read_text()[-6000:]}")


def readyz(port: int) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            return answer.read()
    except OSError:
        return None


def test_make_runs_processes_resend_a_due_invitation_and_stop_together(tmp_path):
    port = free_port()
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_ALLOW")) and k not in {"TEST_REDIS_URL"}
    }
    env = {
        **inherited,
        **demo_environment(),
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "EMAIL_URL": f"filemail://{tmp_path / 'mail'}",
        "CELERY_BROKER_URL": f"filesystem://localhost{tmp_path / 'broker'}",
    }
    assert env["DEBUG"] == "0" and env["PERIODIC_JOBS_EVERY"] == "60"
    env.pop("SITE_URL", None)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    # The day-9 invitation, a little older: its day-10 re-send is due now.
    manage(
        env,
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone;"
        "from consumers.models import Invitation;"
        "Invitation.objects.filter(email='nina.novak@acme.example').update("
        "sent_at=timezone.now() - timedelta(days=10, minutes=1))",
    )
    log = tmp_path / "demo.log"
    demo = subprocess.Popen(
        [sys.executable, "scripts/run_demo.py", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:

        def reminder() -> str | None:
            for path in (tmp_path / "mail").glob("*.log"):
                text = path.read_text()
                if "To: nina.novak@acme.example" in text and "Subject: Reminder:" in text:
                    return text
            return None

        text = wait_until(reminder, 90, "the day-10 re-send in the mail folder", log)
        assert f"http://127.0.0.1:{port}/invite/" in text, "links follow PORT"
        ready = wait_until(lambda: readyz(port), 60, "/readyz to answer 200", log)
        assert re.search(rb'"worker": \{"ok": true', ready) and re.search(
            rb'"beat": \{"ok": true', ready
        )
    finally:
        demo.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
    assert demo.returncode == 0, log.read_text()[-3000:]
    time.sleep(0.5)
    for mark in (str(tmp_path), f"127.0.0.1:{port}"):  # the worker and beat; the web server
        assert processes_mentioning(mark) == [], "Ctrl-C leaves no process behind"
