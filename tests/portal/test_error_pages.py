"""The product's error pages: 400, 403, 404, 429 and 500 in the layout, with a way back (the
company list when signed in, sign-in otherwise) and no technical details; the 500 page even
with the database down; and the demo (`make run`) showing them rather than Django's debug pages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import path, reverse

from portal import errors
from tests.conftest import database_url_for_subprocess, free_port
from tests.makefile import demo_environment

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = 'href="/static/css/portal.css"'
WAY_BACK = {
    "signed_in": re.compile(r'class="button" href="/companies/">Back to your companies</a>'),
    "anonymous": re.compile(r'class="button" href="/accounts/login/">Sign in</a>'),
}
# What a debug page or a leaked exception shows, and an error page must not.
TECHNICAL = (
    "Traceback",
    "URLconf",
    "urlpatterns",
    "Request Method",
    "Exception",
    "Error:",
    "Django",
    "DEBUG",
    "project.urls",
    "SELECT",
)


def assert_error_page(response, status: int, who: str, *texts: str) -> str:
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    assert response["Content-Type"].startswith("text/html")
    assert LAYOUT in body and 'class="topbar"' in body, "in the portal's layout"
    assert WAY_BACK[who].search(body), f"no way back for a {who} user:\n{body}"
    assert not [t for t in TECHNICAL if t in body], body
    for text in texts:
        assert text in body, body
    return body


@pytest.fixture
def signed_in(personas):
    client = Client(raise_request_exception=False)
    client.force_login(personas.regular)
    return client


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


# --- 404 ---------------------------------------------------------------------------------------


def test_a_missing_page_is_the_404_page(signed_in, anonymous, personas):
    assert_error_page(signed_in.get("/no-such-page/"), 404, "signed_in", "Page not found")
    assert_error_page(anonymous.get("/no-such-page/"), 404, "anonymous", "Page not found")
    # Another partner's company is a 404 like a missing one, and says nothing more.
    url = reverse("portal:company_detail", args=[personas.other_company.public_id])
    body = assert_error_page(signed_in.get(url), 404, "signed_in", "Page not found")
    assert personas.other_company.name not in body


def test_operations_staff_are_sent_back_to_the_admin(personas):
    # Ops staff have no partner: the partner pages are a 404 for them, and the way back is theirs.
    client = Client()
    client.force_login(personas.ops)
    body = client.get(reverse("portal:company_list")).content.decode()
    assert 'class="button" href="/admin/">Back to operations</a>' in body


# --- 403 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_refused_change_is_the_403_page_with_the_reason(personas, settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(personas.read_only)
    response = client.get(reverse("portal:company_create"))
    assert_error_page(response, 403, "signed_in", "You cannot do this", "Your role is read-only.")


@pytest.mark.parametrize("debug", [False, True])
def test_a_form_without_its_csrf_token_is_the_403_page(personas, settings, debug):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "x@x.example", "password": "x"})
    assert_error_page(response, 403, "anonymous", "This form has expired")
    client.force_login(personas.regular)
    response = client.post(reverse("portal:company_create"), {"name": "Acme"})
    assert_error_page(response, 403, "signed_in", "This form has expired")


# --- 400 ---------------------------------------------------------------------------------------


def test_a_bad_request_is_the_400_page(signed_in, anonymous, settings):
    # A Host header the site does not serve is refused before anyone is signed in.
    response = anonymous.get("/accounts/login/", headers={"host": "evil.example"})
    assert_error_page(response, 400, "anonymous", "could not be understood")
    # A form with more fields than Django accepts, from a signed-in user.
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"f{i}": "x" for i in range(20)}
    response = signed_in.post(reverse("portal:company_create"), fields)
    assert_error_page(response, 400, "signed_in", "could not be understood")


@contextmanager
def portal_with(*patterns):
    """The portal's URLconf (and its error handlers) with test views added in front."""
    from project import urls

    module = types.ModuleType("tests_error_page_urls")
    module.urlpatterns = [*patterns, *urls.urlpatterns]
    for status in (400, 403, 404, 500):
        setattr(module, f"handler{status}", getattr(urls, f"handler{status}"))
    sys.modules[module.__name__] = module
    try:
        with override_settings(ROOT_URLCONF=module.__name__):
            yield
    finally:
        del sys.modules[module.__name__]


# --- 429 ---------------------------------------------------------------------------------------


def test_a_rate_limited_request_gets_the_429_page(signed_in, anonymous):
    def limited(request):
        return errors.too_many_requests(request, message="Too many attempts from your network.")

    with portal_with(path("limited/", limited)):
        response = signed_in.get("/limited/")
        assert response["Retry-After"] == "60"
        assert_error_page(response, 429, "signed_in", "Too many attempts", "try again")
        assert_error_page(anonymous.get("/limited/"), 429, "anonymous", "Too many attempts")


# --- 500 ---------------------------------------------------------------------------------------


def refuse(execute, sql, params, many, context):
    raise OperationalError("connection to server failed: the database is down")


def test_a_server_error_is_the_500_page(signed_in, anonymous):
    def boom(request):
        raise RuntimeError("internal detail")

    with portal_with(path("boom/", boom)):
        body = assert_error_page(signed_in.get("/boom/"), 500, "signed_in", "went wrong")
        assert "internal detail" not in body
        assert_error_page(anonymous.get("/boom/"), 500, "anonymous", "went wrong")


def test_the_500_page_renders_with_the_database_down(signed_in, anonymous, personas):
    invite = reverse("invitation_accept", args=["0" * 64])
    with connection.execute_wrapper(refuse):
        response = signed_in.get(reverse("portal:company_list"))
        body = assert_error_page(response, 500, "signed_in", "went wrong")
        assert "database" not in body
        assert_error_page(anonymous.get(invite), 500, "anonymous", "went wrong")


# --- the demo ------------------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def demo_server(db, tmp_path):
    """The portal served as `make run` serves it, on a free port, over the test database."""
    port = free_port()
    keep = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ALLOWED_HOSTS"}}
    env = {**keep, **demo_environment(), "DATABASE_URL": database_url_for_subprocess()}
    env["CELERY_BROKER_URL"] = f"filesystem://localhost{tmp_path / 'broker'}"  # not var/'s
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            fetch(base + "/accounts/login/")  # any answer: it is up
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(
                    "the demo server did not start:\n" + (tmp_path / "server.log").read_text()
                )
            time.sleep(0.2)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_demo_shows_the_product_pages_and_serves_static_files(demo_server):
    assert demo_environment().get("DEBUG") in {"0", "false"}, "make run: DEBUG off"
    status, _, body = fetch(demo_server + "/no-such-page/")
    assert status == 404 and "Page not found" in body and LAYOUT in body
    assert not [t for t in TECHNICAL if t in body], body
    status, content_type, css = fetch(demo_server + "/static/css/portal.css")
    assert status == 200 and content_type.startswith("text/css") and ".topbar" in css
    status, _, _ = fetch(demo_server + "/static/vendor/htmx/htmx.min.js")
    assert status == 200
    status, _, page = fetch(demo_server + "/accounts/login/")
    assert status == 200 and LAYOUT in page
