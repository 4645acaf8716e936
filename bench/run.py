"""`make bench`: seed a large tenant on PostgreSQL, measure pages and jobs beside their floors,
print a table and write bench/results/latest.json.

Each measurement runs several times (median and spread). Jobs that change data run inside a
transaction that is rolled back, so every run sees the same data.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SLOW_RUNS = int(os.environ.get("BENCH_SLOW_RUNS", "3"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "30"))
# The cache is Redis, as in production (docker-compose.yml): the company list keeps its tab
# counts there, and gunicorn's workers must share it.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(BENCH_DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def configure_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": BENCH_DATABASE_URL,
            "REDIS_URL": BENCH_REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "EMAIL_URL": "dummymail://",
            "TWO_FACTOR_REQUIRED": "0",
            "AXES_ENABLED": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.floors"  # the portal's URLs plus the floor views


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
    }


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    """One function timed on its own (for what has no floor to take turns with)."""
    return timed_together({"it": fn}, runs)["it"]


def timed_together(
    fns: dict[str, Callable[[], object]],
    runs: int,
    prepare: dict[str, Callable[[], object]] | None = None,
) -> dict[str, dict]:
    """Each function timed `runs` times, in turns (a, b, a, b, ...): a page and its floor are
    compared under the same conditions, however the machine's speed drifts during the run.
    `prepare[name]`, if given, runs before each run of that function, untimed."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            if prepare and name in prepare:
                prepare[name]()
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: stats(values) for name, values in samples.items()}


@contextmanager
def rolled_back():
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def count_queries(fn: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


# --- floors: the same work without the portal's layers ---------------------------------------


def retention_floor(now: datetime) -> None:
    from django.db import connection

    from consumers.retention import retention_cutoff

    cutoff = retention_cutoff(now)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE consumers_callrecord cr SET remote_address = '', remote_display_name = '',
                      remote_ip = NULL, anonymized_at = %s
               FROM consumers_endpointsettings ep
               WHERE ep.consumer_id = cr.consumer_id AND ep.usage_model = 'shared'
                 AND cr.anonymized_at IS NULL AND cr.started_at < %s""",
            [now, cutoff],
        )
        cursor.execute(
            """DELETE FROM consumers_callrecord cr USING consumers_endpointsettings ep
               WHERE ep.consumer_id = cr.consumer_id AND ep.usage_model = 'personal'
                 AND cr.started_at < %s""",
            [cutoff],
        )


def delete_floor(ids: list[int]) -> None:
    """The same delete in SQL: the consumers with their rows, and their audit events (and the
    endpoints twinned with a deleted user let go of it, as the portal must)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO portal_auditevent (partner_id, company_id, actor_id, action,
                   object_type, object_id, data, created_at)
               SELECT co.partner_id, c.company_id, NULL, c.kind || '.delete', 'consumer',
                      c.public_id::text, '{}'::jsonb, now()
               FROM consumers_consumer c JOIN portal_company co ON co.id = c.company_id
               WHERE c.id = ANY(%s)""",
            [ids],
        )
        cursor.execute(
            "UPDATE consumers_endpointsettings SET personal_user_id = NULL "
            "WHERE personal_user_id = ANY(%s)",
            [ids],
        )
        for table in (
            "consumers_address",
            "consumers_invitation",
            "consumers_teamvmrsettings",
            "consumers_endpointsettings",
            "consumers_callrecord",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE consumer_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM consumers_consumer WHERE id = ANY(%s)", [ids])


def preview_floor(company_id: int, public_ids: list[object]) -> None:
    """The batch tool's plan for a delete in SQL: one item per listed consumer, in the order
    given, with what will happen to it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO consumers_batchjob (public_id, company_id, kind, action, status,
                   total, processed, succeeded, failed, created_at)
               VALUES (gen_random_uuid(), %s, 'user', 'delete', 'preview', %s, 0, 0, 0, now())
               RETURNING id""",
            [company_id, len(public_ids)],
        )
        batch_id = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO consumers_batchitem (batch_id, position, label, consumer_id, will_run,
                   outcome, message)
               SELECT %s, u.n - 1, coalesce(c.alias || '@' || c.domain, u.id::text), c.id,
                      c.id IS NOT NULL, 'pending',
                      CASE WHEN c.id IS NULL THEN 'not found' ELSE 'will be deleted' END
               FROM unnest(%s::uuid[]) WITH ORDINALITY AS u(id, n)
               LEFT JOIN consumers_consumer c
                 ON c.public_id = u.id AND c.company_id = %s AND c.kind = 'user'""",
            [batch_id, [str(p) for p in public_ids], company_id],
        )


def purge_floor(cutoff: datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.id FROM consumers_consumer c JOIN consumers_invitation i
               ON i.consumer_id = c.id WHERE i.accepted_at IS NULL AND i.sent_at <= %s""",
            [cutoff],
        )
        delete_floor([r[0] for r in cursor.fetchall()])


# --- the measurements ----------------------------------------------------------------------------


PAGE_RUNS = RUNS * 20  # a page takes milliseconds: many runs give a steady median


def measure_page(
    client,  # type: ignore[no-untyped-def]
    url: str,
    floor_url: str,
    layers: dict[str, str] | None = None,
    before_each: Callable[[], object] | None = None,
) -> dict[str, object]:
    """Server time through Django's test client (the whole request handling), the portal's
    page beside its floor view, timed in turns; and the SQL queries of each.

    `layers`: more views timed in the same turns (the floor with portal layers added).
    `before_each`: run before each request of the page, outside its timing."""

    def page() -> object:
        return client.get(url)

    for target in (url, floor_url, *(layers or {}).values()):
        response = client.get(target)  # warm up
        assert response.status_code == 200, (target, response.status_code)
    timings = timed_together(
        {
            "portal": page,
            "floor": lambda: client.get(floor_url),
            **{name: (lambda u=u: client.get(u)) for name, u in (layers or {}).items()},
        },
        PAGE_RUNS,
        prepare={"portal": before_each} if before_each else None,
    )
    if before_each:
        before_each()
    result: dict[str, object] = {
        "portal": timings["portal"],
        "floor": timings["floor"],
        "queries": count_queries(page),
        "floor_queries": count_queries(lambda: client.get(floor_url)),
    }
    if layers:
        result["steps"] = {
            "floor": timings["floor"],
            **{name: timings[name] for name in layers},
            "the page": timings["portal"],
        }
    return result


def measure_pages(seeded: dict[str, object], results: dict[str, object]) -> None:
    from django.test import Client

    from portal.counts_cache import forget_company_counts

    big, partner = seeded["big"], seeded["partner"]
    client = Client()
    client.force_login(seeded["manager"])
    users_url = f"/companies/{big.public_id}/users/"
    floor_users = f"/floor/users/{big.pk}/"
    results["users_tab"] = measure_page(client, users_url, floor_users)
    results["users_search"] = measure_page(
        client, users_url + "?q=user1234", floor_users + "?q=user1234"
    )
    floor_companies = f"/floor/companies/{partner.pk}/"
    # With the floor, the floor with the portal's layers added one at a time, to show where
    # the page's time goes: the access check (membership and role), then the layout.
    results["company_list"] = measure_page(
        client,
        "/companies/",
        floor_companies,
        layers={
            "floor + access check": floor_companies + "with-access/",
            "floor + access check + layout": floor_companies + "in-layout/",
        },
    )
    # The list's first view after one of the partner's companies or licences changed: its tab
    # counts are counted afresh (portal.counts_cache). The change drops the old counts; that
    # is the change's cost, so it happens before each view, untimed.
    results["company_list_recount"] = measure_page(
        client,
        "/companies/",
        floor_companies,
        before_each=lambda: forget_company_counts([partner.public_id]),
    )


def run_in_rollback(fn: Callable[[], object]) -> Callable[[], object]:
    def wrapped() -> object:
        with rolled_back():
            return fn()

    return wrapped


def measure_retention(seeded: dict[str, object], results: dict[str, object]) -> None:
    from django.utils import timezone

    from consumers import retention

    now = timezone.now()
    results["retention"] = timed_together(
        {
            "portal": run_in_rollback(lambda: retention.call_history_retention_run(now=now)),
            "floor": run_in_rollback(lambda: retention_floor(now)),
        },
        SLOW_RUNS,
    )
    with rolled_back():
        run = retention.call_history_retention_run(now=now)
    results["retention"]["rows"] = {"anonymized": run.anonymized, "deleted": run.deleted}


def measure_invitations(seeded: dict[str, object], results: dict[str, object]) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from consumers import invitations

    now = timezone.now()

    def resend_stats(at: datetime) -> dict[str, object]:
        holder: dict[str, object] = {}

        def go() -> None:
            with rolled_back(), CaptureQueriesContext(connection) as ctx:
                holder["run"] = invitations.invitation_reminders_send(now=at)
            holder["queries"] = len(ctx.captured_queries)

        timing = timed(go, SLOW_RUNS)
        sent = holder["run"].sent + holder["run"].initial
        return {
            "time": timing,
            "invitations": sent,
            "queries_per_invitation": holder["queries"] / max(sent, 1),
        }

    results["invitation_resend"] = {
        "full": resend_stats(now),
        "smaller": resend_stats(now - timedelta(days=45)),
    }

    def purge_stats(at: datetime) -> dict[str, object]:
        holder: dict[str, object] = {}

        def go() -> None:
            with rolled_back(), CaptureQueriesContext(connection) as ctx:
                holder["purged"] = invitations.invitations_purge(now=at)
            holder["queries"] = len(ctx.captured_queries)

        timings = timed_together(
            {
                "portal": go,
                "floor": run_in_rollback(lambda: purge_floor(at - invitations.INVITE_PURGE_AFTER)),
            },
            SLOW_RUNS,
        )
        purged = holder["purged"]
        return {
            "time": timings["portal"],
            "floor": timings["floor"],
            "invitations": purged,
            "queries_per_invitation": holder["queries"] / max(purged, 1),
        }

    results["invitation_purge"] = {
        "full": purge_stats(now),
        "smaller": purge_stats(now - timedelta(days=20)),
    }


def measure_batch_delete(seeded: dict[str, object], results: dict[str, object]) -> None:
    from consumers import batch as batches
    from consumers.models import Consumer

    big = seeded["big"]
    victims = list(
        Consumer.objects.filter(company=big, kind="user", status="active")
        .order_by("pk")
        .values_list("pk", "public_id")[:10_000]
    )

    def preview() -> object:
        return batches.batch_preview(
            actor=seeded["manager"],
            company=big,
            kind="user",
            action="delete",
            consumer_ids=[str(p) for _pk, p in victims],
        )

    def run() -> None:
        with rolled_back():
            job = preview()
            type(job).objects.filter(pk=job.pk).update(status="queued")
            start = time.perf_counter()
            done = batches.batch_run(batch_id=job.pk)
            run_samples.append(time.perf_counter() - start)
            assert done.succeeded == len(victims), done.succeeded

    run_samples: list[float] = []
    previews = timed_together(
        {
            "portal": run_in_rollback(preview),
            "floor": run_in_rollback(lambda: preview_floor(big.pk, [p for _pk, p in victims])),
        },
        SLOW_RUNS,
    )
    # The run's own time is taken inside run() (the preview it needs is not part of it).
    deletes = timed_together(
        {"run": run, "floor": run_in_rollback(lambda: delete_floor([pk for pk, _p in victims]))},
        SLOW_RUNS,
    )
    results["batch_delete"] = {
        "portal": stats(run_samples),
        "floor": deletes["floor"],
        "items": len(victims),
    }
    results["batch_preview"] = {**previews, "items": len(victims)}


def measure_handout(seeded: dict[str, object], results: dict[str, object]) -> None:
    from weasyprint import HTML

    from consumers.models import Consumer
    from handouts import services as handouts

    big = seeded["big"]
    html = handouts.handout_render_html(company=big)
    results["handout_pdf"] = {
        **timed_together(
            {
                "portal": lambda: handouts.handout_render_pdf(company=big),
                "floor": lambda: HTML(string=html, base_url=str(ROOT)).write_pdf(),
            },
            2,
        ),
        "consumers": Consumer.objects.filter(company=big, status="active").count(),
    }


def measure_load(seeded: dict[str, object], results: dict[str, object]) -> None:
    results["load"] = load_test(seeded, seeded["big"])


MEASUREMENTS: dict[str, Callable[[dict[str, object], dict[str, object]], None]] = {
    "pages": measure_pages,
    "retention": measure_retention,
    "invitations": measure_invitations,
    "batch_delete": measure_batch_delete,
    "handout": measure_handout,
    "load": measure_load,
}


def main() -> int:
    """BENCH_ONLY=pages,batch_delete runs some of the measurements; BENCH_REUSE=1 keeps a
    database seeded by an earlier run (both are for working on one target: a full `make bench`
    always seeds afresh and measures everything)."""
    started = time.perf_counter()
    only = [m for m in os.environ.get("BENCH_ONLY", "").split(",") if m]
    unknown = set(only) - set(MEASUREMENTS)
    if unknown:
        print(f"BENCH_ONLY: unknown {sorted(unknown)}; choose from {sorted(MEASUREMENTS)}")
        return 2
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not reuse:
        print(f"Bench database: {BENCH_DATABASE_URL} (dropped and created again)")
        recreate_database()
    configure_django()

    from django.core.cache import cache
    from django.core.management import call_command

    try:
        cache.get("bench")
    except Exception as exc:  # the Redis client's own error types
        print(f"Redis at {BENCH_REDIS_URL} does not answer ({exc}): start it (see README).")
        return 2

    from bench import seed

    call_command("migrate", verbosity=0)
    seeded = seed.existing() if reuse else None
    results: dict[str, object] = {}
    if seeded is None:
        t0 = time.perf_counter()
        seeded = seed.seed()
        results["seed_seconds"] = time.perf_counter() - t0
        print(f"Seeded in {results['seed_seconds']:.1f} s")
    else:
        print(f"Reusing the tenant seeded earlier in {BENCH_DATABASE_URL}")

    for name, measure in MEASUREMENTS.items():
        if only and name not in only:
            continue
        measure(seeded, results)
        print(f"Measured {name}")

    results["total_seconds"] = time.perf_counter() - started
    results["machine"] = machine()
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table, misses = render_table(results)
    print(table)
    if only or reuse:
        print("\n(partial or reused run: bench/results/latest.* left as they were)")
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
        (RESULTS / "latest.md").write_text(table + "\n")
        print(f"\nWritten {RESULTS / 'latest.json'} in {results['total_seconds']:.0f} s")
    if misses:
        print("\nTargets missed:\n- " + "\n- ".join(misses))
    return 0


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_test(seeded: dict[str, object], big) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """wrk against gunicorn on loopback for LOAD_SECONDS per page."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
    from django.test import Client

    port = free_port()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        client = Client()
        client.force_login(seeded["manager"])
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        out = {}
        for name, path in (
            ("company_list", "/companies/"),
            ("users_tab", f"/companies/{big.public_id}/users/"),
        ):
            result = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    "-c8",
                    f"-d{LOAD_SECONDS}s",
                    "--latency",
                    "-H",
                    f"Cookie: {cookie}",
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                timeout=LOAD_SECONDS + 60,
            )
            out[name] = parse_wrk(result.stdout)
        return out
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def parse_wrk(text: str) -> dict[str, object]:
    def unit_ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = unit_ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    )
    return {"requests_per_second": rps, "p99_ms": p99, "requests": requests, "errors": errors}


def render_table(r: dict[str, object]) -> tuple[str, list[str]]:
    misses: list[str] = []
    lines = [
        "| measurement | portal (median, min–max) | floor (median) | ratio | target "
        "| SQL queries |",
        "|---|---|---|---|---|---|",
    ]

    def ms(s: dict[str, float]) -> str:
        return f"{s['median'] * 1000:.1f} ms ({s['min'] * 1000:.1f}–{s['max'] * 1000:.1f})"

    def sec(s: dict[str, float]) -> str:
        return f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f})"

    for key, label, has_target in (
        ("users_tab", "Users tab, first page (20,000 users)", True),
        ("users_search", "Users tab, search", True),
        ("company_list", "Company list (500 companies)", True),
        # Not a target of its own: the list is the page above; this is its first view after a
        # company or licence changed, when the tab counts are counted again.
        ("company_list_recount", "Company list, first view after a change", False),
    ):
        if key not in r:
            continue
        m = r[key]
        ratio = m["portal"]["median"] / m["floor"]["median"]
        if has_target:
            ok = ratio <= 2 and m["portal"]["median"] < 0.1
            verdict = f"≤2×, <100 ms {'✓' if ok else '✗'}"
            if not ok:
                misses.append(f"{label}: {ratio:.1f}x floor, {m['portal']['median'] * 1000:.0f} ms")
        else:
            verdict = "— (shown, no target)"
        lines.append(
            f"| {label} | {ms(m['portal'])} | {m['floor']['median'] * 1000:.1f} ms | "
            f"{ratio:.2f}× | {verdict} | {m['queries']} (floor {m['floor_queries']}) |"
        )
    steps = r.get("company_list", {}).get("steps")
    for key, label, target in (
        ("retention", "Retention job (2M call records)", 1.5),
        ("batch_delete", "Batch delete, 10,000 users (the confirmed run)", 1.5),
        # Not one of the targets (its batch target is the delete): shown so that the
        # whole batch tool is in the table, the preview beside a one-statement SQL plan.
        ("batch_preview", "Batch preview of that delete (the plan shown before confirming)", None),
    ):
        if key not in r:
            continue
        m = r[key]
        ratio = m["portal"]["median"] / m["floor"]["median"]
        if target is None:
            verdict = "— (shown, no target)"
        else:
            ok = ratio <= target
            verdict = f"≤{target}× {'✓' if ok else '✗'}"
            if not ok:
                misses.append(f"{label}: {ratio:.2f}x its SQL floor")
        lines.append(
            f"| {label} | {sec(m['portal'])} | {m['floor']['median']:.2f} s | "
            f"{ratio:.2f}× | {verdict} | — |"
        )
    for key, label in (
        ("invitation_resend", "Invitation re-send job"),
        ("invitation_purge", "Invitation purge job"),
    ):
        if key not in r:
            continue
        m = r[key]
        full, smaller = m["full"], m["smaller"]
        constant = full["queries_per_invitation"] <= smaller["queries_per_invitation"] * 1.05 + 0.01
        floor = ""
        ratio = "—"
        target = "queries per invitation constant"
        within = True
        if "floor" in full:
            floor = f"{full['floor']['median']:.2f} s"
            ratio_value = full["time"]["median"] / full["floor"]["median"]
            ratio = f"{ratio_value:.2f}×"
            within = ratio_value <= 1.5
            target = "≤1.5×, " + target
            if not within:
                misses.append(f"{label}: {ratio_value:.2f}x its SQL floor")
        if not constant:
            misses.append(f"{label}: queries per invitation grow")
        lines.append(
            f"| {label} ({full['invitations']} / {smaller['invitations']} invitations) | "
            f"{sec(full['time'])} | {floor or '—'} | {ratio} | {target} "
            f"{'✓' if constant and within else '✗'} | {full['queries_per_invitation']:.3f} / "
            f"{smaller['queries_per_invitation']:.3f} per invitation |"
        )
    if "handout_pdf" in r:
        m = r["handout_pdf"]
        ratio = m["portal"]["median"] / m["floor"]["median"]
        ok = ratio <= 1.2
        if not ok:
            misses.append(f"Handout PDF: {ratio:.2f}x bare WeasyPrint")
        lines.append(
            f"| Handout PDF ({m['consumers']} consumers) | {sec(m['portal'])} | "
            f"{m['floor']['median']:.2f} s | {ratio:.2f}× | ≤1.2× {'✓' if ok else '✗'} | — |"
        )
    load = r.get("load", {})
    if "skipped" in load:
        lines.append(f"| Load | {load['skipped']} | | | | |")
    else:
        for name, res in load.items():
            ok = res["errors"] == 0
            if not ok:
                misses.append(f"Load on {name}: {res['errors']} errors")
            lines.append(
                f"| Load, {name} ({LOAD_SECONDS} s, wrk 8 connections, gunicorn 3 workers) | "
                f"{res['requests_per_second']:.0f} req/s, p99 {res['p99_ms']:.0f} ms | | | "
                f"0 errors {'✓' if ok else '✗ ' + str(res['errors'])} | |"
            )
    if steps:
        lines.append(
            "\nCompany list, layer by layer (median server time): "
            + " → ".join(f"{name} {t['median'] * 1000:.1f} ms" for name, t in steps.items())
            + "."
        )
    seed = f"Seed: {r['seed_seconds']:.0f} s. " if "seed_seconds" in r else ""
    lines.append(
        f"\n{seed}Machine: {r['machine']['cpu']}, "
        f"{r['machine']['cores']} cores, Python {r['machine']['python']}."
    )
    return "\n".join(lines), misses


if __name__ == "__main__":
    sys.exit(main())
