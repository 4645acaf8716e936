"""Configuration: bad values fail at start naming the variable; production settings are clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
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
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
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
        ("SERVICE_DOMAIN", "not a domain"),
        ("DNS_NAMESERVERS", "127.0.0.1:fivethree"),
        ("PAGE_SIZE", "lots"),
        ("SECURE_HSTS_SECONDS", "-5"),
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
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_are_flagged_by_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the embedded SECRET_KEY is not for production
