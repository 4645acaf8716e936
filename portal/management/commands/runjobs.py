from __future__ import annotations

from django.core.management.base import BaseCommand

from portal.celery import PERIODIC_JOBS, app


class Command(BaseCommand):
    help = "Run every periodic job once, in-process (what beat would schedule)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("jobs", nargs="*", help="Only these jobs (names as in the schedule).")

    def handle(self, *args, jobs: list[str], **options) -> None:  # type: ignore[no-untyped-def]
        app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery is lazy)
        unknown = set(jobs) - set(PERIODIC_JOBS)
        if unknown:
            self.stderr.write(f"Unknown jobs: {', '.join(sorted(unknown))}")
            raise SystemExit(2)
        for name, (task_name, _schedule) in PERIODIC_JOBS.items():
            if jobs and name not in jobs:
                continue
            result = app.tasks[task_name].apply()
            result.get(propagate=True)
            self.stdout.write(f"{name}: done ({result.result!r})")
        if not PERIODIC_JOBS:
            self.stdout.write("No periodic jobs are defined.")
