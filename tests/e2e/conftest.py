"""Real-browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread; the test's own database calls are
plain synchronous ones, which Django allows with DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# CHROMIUM: another binary (a test points it at a missing one to see the browser tests skipped).
# Where Chromium is, and why it may be missing: the test runner says it too, before pytest starts.
from scripts.run_tests import CHROMIUM, browser_missing

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", "test-artifacts"))
E2E_DIR = Path(__file__).parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """No Chromium: every browser journey is skipped, or fails with REQUIRE_SERVICES=1
    (browser_type_launch_args), and the reason is said loudly at the end."""
    why = browser_missing()
    if why is None or REQUIRE_SERVICES:
        return
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {why}"))


def pytest_terminal_summary(terminalreporter, config):  # type: ignore[no-untyped-def]
    why = browser_missing()
    if why is None:
        return
    reports = [
        report
        for outcome in ("skipped", "failed", "error")
        for report in terminalreporter.stats.get(outcome, [])
        if "tests/e2e/" in getattr(report, "nodeid", "")
    ]
    if reports:
        verdict = "FAILED (REQUIRE_SERVICES=1)" if REQUIRE_SERVICES else "SKIPPED"
        terminalreporter.write_line(
            f"!!!! {len(reports)} BROWSER TESTS {verdict}: {why}", red=True, bold=True
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    if why := browser_missing():
        pytest.fail(f"{why} and REQUIRE_SERVICES=1", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):  # type: ignore[no-untyped-def]
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
    }


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(autouse=True)
def _artifacts_on_failure(request, page):  # type: ignore[no-untyped-def]
    """On failure, keep a screenshot and the page's HTML where CI says."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
            print(f"\nBrowser artifacts: {ARTIFACTS.resolve()}/{stem}.[png|html]")
        except Exception as exc:  # the page may be gone; the test's own error matters more
            print(f"\nCould not save browser artifacts: {exc}")


@pytest.fixture(autouse=True)
def _no_csp_violations(page):  # type: ignore[no-untyped-def]
    """Every journey fails on a Content Security Policy violation (Chromium reports them on the
    console), such as an inline style or script that htmx or a template would add."""
    violations: list[str] = []

    def record(message):  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", record)
    yield violations
    assert violations == [], "CSP violations on the page"


@pytest.fixture
def portal(live_server, settings):  # type: ignore[no-untyped-def]
    """The live portal: links in emails point at it."""
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server
