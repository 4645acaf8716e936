from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError

from portal.celery import JOB_SKIPPED, PERIODIC_JOBS, app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run every periodic job once, in-process (what beat would schedule). A job that fails "
        "does not stop the others; the command exits non-zero at the end if any failed."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("jobs", nargs="*", help="Only these jobs (names as in the schedule).")

    def handle(self, *args, jobs: list[str], **options) -> None:  # type: ignore[no-untyped-def]
        app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery is lazy)
        unknown = set(jobs) - set(PERIODIC_JOBS)
        if unknown:
            self.stderr.write(f"Unknown jobs: {', '.join(sorted(unknown))}")
            raise SystemExit(2)
        selected = [name for name in PERIODIC_JOBS if not jobs or name in jobs]
        failed = [name for name in selected if not self.run(name)]
        if not PERIODIC_JOBS:
            self.stdout.write("No periodic jobs are defined.")
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}", returncode=1)

    def run(self, name: str) -> bool:
        """Run one job (under its lock, like beat's runs); False when it failed."""
        task_name, _schedule = PERIODIC_JOBS[name]
        try:
            # In-process (EagerResult); `throw` raises the job's exception here.
            outcome = app.tasks[task_name].apply(throw=True).result
        except Exception as exc:
            logger.exception("periodic job %s failed", name)
            self.stderr.write(f"{name}: FAILED ({type(exc).__name__}: {exc})")
            return False
        if outcome == JOB_SKIPPED:
            self.stdout.write(f"{name}: skipped (already running elsewhere)")
        else:
            self.stdout.write(f"{name}: done ({outcome!r})")
        return True
