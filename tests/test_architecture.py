"""The code's shape, checked where a search can (docs/ARCHITECTURE.md): the import layers, short
functions, and each rule's old copies not written again."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "licensing", "domains", "consumers", "handouts", "project")
MAX_FUNCTION_LINES = 50


def app_sources() -> dict[str, str]:
    """{path relative to the repository: source} of the apps' Python modules, migrations
    and settings left out."""
    sources = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative == "portal/settings.py":
                continue
            sources[relative] = path.read_text(encoding="utf-8")
    return sources


def test_imports_flow_downwards_without_cycles():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_function_in_the_apps_is_longer_than_fifty_lines():
    long = []
    for path, source in app_sources().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


# (what must appear only in its one home, that home, why)
ONE_HOME = [
    (r"\.is_staff\b|[\"']is_staff[\"']", {"portal/access.py"}, "ops checks: ensure_is_ops"),
    (r"starts_on__lte", {"portal/models.py"}, "a licence period: period_active_q"),
    (
        r"evaluation_ends_on(__gte|__gt\b| >=)",
        {"portal/models.py", "licensing/expiry.py"},
        "evaluation open: evaluation_open_q (the expiry job's reminder windows are their own)",
    ),
    (r"[\[(]\s*[\"']invited[\"'],\s*[\"']active[\"']", set(), "seat statuses: holds_seat"),
    (r"VMR_SUFFIX|\.vmr@", {"consumers/models.py"}, "personal VMR addresses: address_rows"),
    (
        r"\bnormalize_alias\(",
        {"consumers/addresses.py"},
        "callers derive 'hosted' from the domain: normalize_alias_for",
    ),
    (r"\btxt_has_token\(", {"domains/dns_lookup.py"}, "the TXT outcome: txt_evaluate"),
    (r"(?<!def )\bseats_allocate\(", {"consumers/seats.py"}, "seat allocation: seat_allocation"),
    (
        r"EmailMultiAlternatives|(?<!def )\bsend_mail\(",
        {"portal/emails.py", "portal/outbox.py"},
        "every email: portal.emails, sent from its outbox",
    ),
    (r"\bcsv\.writer\(", {"portal/csvexport.py"}, "every CSV export: csv_response"),
    (r"\.delay\(|\.apply_async\(", {"portal/jobs.py"}, "queueing tasks: enqueue_on_commit"),
    (
        r"settings\.SERVICE_DOMAIN",
        {
            "domains/names.py",  # is_service_domain
            "portal/models.py",  # a company's own subdomain of it
            "portal/context_processors.py",  # shown in pages
            "domains/services/calling_domains.py",  # which subdomains of it a company may add
        },
        "the service domain: is_service_domain",
    ),
]


@pytest.mark.parametrize(("pattern", "homes", "why"), ONE_HOME, ids=[h[2] for h in ONE_HOME])
def test_each_rule_is_written_in_its_one_home(pattern, homes, why):
    found = {
        path
        for path, source in app_sources().items()
        for line in source.splitlines()
        if re.search(pattern, line) and not line.lstrip().startswith("#")
    }
    assert found <= homes, f"{why}: also in {sorted(found - homes)}"


def test_every_queued_task_name_is_a_celery_task():
    from portal.celery import app

    app.loader.import_default_modules()
    queued = {
        name
        for source in app_sources().values()
        for name in re.findall(r"enqueue_on_commit\(\s*\"([\w.]+)\"", source)
    }
    assert queued, "the search finds the queued names"
    assert queued - set(app.tasks) == set()
