"""Root conftest: test-wide settings that must hold for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings):  # type: ignore[no-untyped-def]
    # Plain static storage: the manifest one 404s under live_server.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://portal.test"
    # Most tests sign in with force_login; two-factor and throttling have their own tests
    # (tests/portal/test_security.py) that switch these back on.
    settings.TWO_FACTOR_REQUIRED = False
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _eager_celery():  # type: ignore[no-untyped-def]
    """Unit tests run tasks in-process; tests with a real worker switch this off."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    """Rate-limit counters live in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
