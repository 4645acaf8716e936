"""The set-up behind the README's two commands: one bootstrap script, used by `make test`,
`make run` and CI; quiet and near-instant where everything is there; browser tests skipped
loudly where Chromium cannot be installed, and failed for it with REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.makefile import recipe

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = "scripts/bootstrap.sh"


def test_make_test_make_run_and_ci_use_the_one_bootstrap():
    test_steps = recipe("test")
    assert test_steps[0] == f"{BOOTSTRAP} test", "set up before anything else"
    assert any("scripts/run_tests.py" in step for step in test_steps)
    assert recipe("run")[0] == f"{BOOTSTRAP} run"
    ci = (ROOT / ".ci/run").read_text()
    assert f"\n{BOOTSTRAP} ci\n" in ci
    assert "REQUIRE_SERVICES=1 make test" in ci
    for step in ("ruff check", "lint-imports", "scripts/audit.py", "docker-compose -f"):
        assert step in ci, step
    # The set-up lives in the bootstrap alone: CI installs and starts nothing itself.
    for own_setup in ("apt-get", "pg_ctlcluster", "redis-server"):
        assert own_setup not in ci, own_setup


def run_bootstrap(profile: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [BOOTSTRAP, profile], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize("profile", ["run", "test"])
def test_the_bootstrap_is_silent_and_quick_where_everything_is_there(profile):
    first, _ = run_bootstrap(profile)  # installs or starts what is missing, if anything
    assert first.returncode == 0, first.stdout + first.stderr
    if "cannot install" in first.stderr and os.environ.get("REQUIRE_SERVICES") != "1":
        pytest.skip(first.stderr.strip())
    second, seconds = run_bootstrap(profile)
    assert second.returncode == 0
    assert second.stdout + second.stderr == "", "nothing to do, nothing said"
    assert seconds < 3, f"{seconds:.1f} s"


def run_browser_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """One browser journey, in a pytest of its own, with Chromium looked for where it is not."""
    merged = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "CHROMIUM": str(tmp_path / "no-chromium"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    }
    merged.pop("REQUIRE_SERVICES", None)
    merged.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_accessibility.py",
            "-x",
        ],
        cwd=ROOT,
        env=merged,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_browser_tests_are_skipped_loudly(tmp_path):
    result = run_browser_tests(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "failed" not in result.stdout.splitlines()[-1]
    loud = f"BROWSER TESTS SKIPPED: {tmp_path / 'no-chromium'} is missing"
    assert loud in result.stdout, result.stdout[-3000:]


def test_without_chromium_require_services_fails_the_browser_tests(tmp_path):
    result = run_browser_tests(tmp_path, REQUIRE_SERVICES="1")
    assert result.returncode != 0
    assert "and REQUIRE_SERVICES=1" in result.stdout, result.stdout[-3000:]
    assert "BROWSER TESTS FAILED (REQUIRE_SERVICES=1)" in result.stdout
