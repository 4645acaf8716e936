"""Configuration: bad values fail at start naming the variable; production settings are clean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from itertools import pairwise
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.makefile import demo_environment

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """manage.py with `env` over a clean environment; a variable given as None is removed."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SITE_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "EMAIL_URL",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    merged = {**clean, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={k: v for k, v in merged.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("EMAIL_URL", "carrier-pigeon://x"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("SITE_URL", "ftp://portal.example"),
        ("PORT", "eighty"),
        ("PERIODIC_JOBS_EVERY", "soon"),
        ("SERVICE_DOMAIN", "not a domain"),
        ("DNS_NAMESERVERS", "127.0.0.1:fivethree"),
        ("PAGE_SIZE", "lots"),
        ("SECURE_HSTS_SECONDS", "-5"),
        ("ALLOWED_HOSTS", "https://portal.example.com"),
        ("ALLOWED_HOSTS", "portal.example.com:8000"),
        ("ADMINS", "Ops <not an address>"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("SENTRY_DSN", "ftp://key@sentry.example/1"),
        ("SENTRY_DSN", "https://sentry.example/1"),  # no key: Sentry refuses it
        ("MEDIA_S3_BUCKET", "handouts"),  # django-storages is not installed
    ],
)
def test_an_invalid_value_fails_at_start_naming_the_variable(name, value):
    result = run_manage("check", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}:" in result.stderr


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k" * 20 + "-Zq8#vL2$pW9!xR4&tY7*uI1@oP5^aS3(dF6)gH0",
        SITE_URL="https://portal.example.com",
        ALLOWED_HOSTS="portal.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal",
        EMAIL_URL="smtp://mail.example.com:587",
        PYTEST_VERSION=None,  # as in production: no test run's allowance
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_are_flagged_by_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the embedded SECRET_KEY is not for production


# --- the secret key: required with DEBUG off ----------------------------------------------------

REAL_KEY = "Zq8#vL2$pW9!xR4&tY7*uI1@oP5^aS3(dF6)gH0-kJ2%mN4"


@pytest.mark.parametrize("key", [None, "", "django-insecure-embedded-default-change-me"])
def test_with_debug_off_the_process_refuses_to_start_on_the_embedded_key(key):
    result = run_manage("check", SECRET_KEY=key, PYTEST_VERSION=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY: must be set" in result.stderr


def test_with_debug_off_and_a_key_of_its_own_the_process_starts():
    result = run_manage("check", SECRET_KEY=REAL_KEY, PYTEST_VERSION=None)
    assert result.returncode == 0, result.stderr


def test_with_debug_on_the_embedded_key_still_serves_development():
    result = run_manage("check", DEBUG="1", PYTEST_VERSION=None)
    assert result.returncode == 0, result.stderr


def test_make_run_starts_with_its_demo_key_outside_tests():
    demo = demo_environment()
    assert demo["DEBUG"] == "0"
    assert demo["SECRET_KEY"].startswith("django-insecure-demo")  # check --deploy flags it
    result = run_manage("check", **demo, PYTEST_VERSION=None)
    assert result.returncode == 0, result.stderr


def test_site_url_follows_port_unless_set():
    """`PORT=8123 make run`: links in emails and provisioning URLs point at :8123."""
    show = ("diffsettings", "--output", "unified")

    def site_url(**env: str | None) -> str:
        out = run_manage(*show, DEBUG="1", **env).stdout
        return next(line for line in out.splitlines() if "SITE_URL = " in line)

    assert site_url(PORT="8123") == "+ SITE_URL = 'http://127.0.0.1:8123'"
    assert site_url(PORT=None) == "+ SITE_URL = 'http://127.0.0.1:8000'"
    assert site_url(PORT="8123", SITE_URL="https://portal.example").endswith(
        "'https://portal.example'"
    )
    recipe = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "PORT=8123 " in recipe and "scripts/run_demo.py 8123" in recipe


def test_admins_take_names_and_plain_addresses():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ADMINS)",
        ADMINS="Ops Team <ops@service.example>, oncall@service.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(
        "[('Ops Team', 'ops@service.example'), ('oncall@service.example', "
        "'oncall@service.example')]"
    )


# --- the stack's files ---------------------------------------------------------------------------


def _pins(path: Path) -> dict[str, str]:
    text = path.read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE))
    # Every pinned requirement is followed by its hashes.
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block), path
    return {canonicalize_name(name): version for name, version in pins.items()}


def test_the_lock_files_pin_every_dependency_with_hashes():
    """`make lock` after changing pyproject.toml's dependencies keeps this green."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prod = _pins(ROOT / "requirements" / "prod.txt")
    dev = _pins(ROOT / "requirements" / "dev.txt")
    for lock, requirements in (
        (prod, project["dependencies"]),
        (dev, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for line in requirements:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is not in the lock file: run make lock"
            assert requirement.specifier.contains(lock[name], prereleases=True), (
                f"{name}=={lock[name]} is outside {requirement.specifier}: run make lock"
            )
    # The image runs the versions CI tested.
    assert {name: version for name, version in dev.items() if name in prod} == prod


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_the_compose_file_needs_its_secrets_and_is_valid_with_them(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    command = ["docker-compose", "--env-file", str(empty), "-f", "docker-compose.yml", "config"]
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    refused = subprocess.run([*command, "-q"], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr or "POSTGRES_PASSWORD" in refused.stderr

    env = {**clean, "SECRET_KEY": REAL_KEY, "ALLOWED_HOSTS": "portal.example.com"}
    env["POSTGRES_PASSWORD"] = "a" * 24
    config = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert config.returncode == 0, config.stderr
    services = dict(re.findall(r"^  ([a-z]+):\n((?:    .*\n)*)", config.stdout, re.MULTILINE))
    for name in ("web", "worker", "beat"):
        assert "migrate:\n        condition: service_completed_successfully" in services[name]
        assert "restart: unless-stopped" in services[name]
        assert "healthcheck:" in services[name]
        assert "/data/media" in services[name]
    assert "/readyz" in services["web"]
    assert "inspect ping" in services["worker"]
    assert "CHECKS['beat']" in services["beat"]
    assert 'restart: "no"' in services["migrate"]
    assert "--appendonly" in services["redis"]


def test_the_bench_plans_queries_as_the_compose_database_does():
    """`make bench` gives its database the planner costs docker-compose.yml's PostgreSQL runs
    with: a change to one without the other would bench plans no deployment gets."""
    from bench.config import PLANNER_SETTINGS

    compose = (ROOT / "docker-compose.yml").read_text()
    postgres = compose[compose.index("\n  postgres:\n") :]
    command = json.loads(re.search(r"^    command: (\[.*\])$", postgres, re.MULTILINE)[1])
    assert command[0] == "postgres"
    server = dict(arg.split("=", 1) for flag, arg in pairwise(command) if flag == "-c")
    # The server may set more (memory, say, which a database cannot); the bench sets these.
    assert server.items() >= PLANNER_SETTINGS.items()
    assert float(server["random_page_cost"]) < 4  # below the default, for spinning disks
