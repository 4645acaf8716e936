"""The fuzzing harness: hostile input to every view of the URLconf, and to the call-record ingest
API. No input may give a server error, and a refused submit changes no row.

How a view is covered without editing this file:
- `tests.urlwalk.iter_views` lists every named view; `objects_of_partner_a` fills its URL.
- Once per process the portal's own pages are read as partner A's manager (and anonymously):
  every form says which view it posts to and which fields it sends (select and radio options
  included), and every link and search form which query parameters a view reads. A view's test
  fuzzes those fields (half the time a plausible form with one or two fields spoiled, so that
  the service behind it is reached), the common list parameters (`q`, `page`, `sort`, `status`,
  `from`, `to`, `kind`, `show`, ...) and a few names the batch tool reads (`ids`, `source`, ...).
- Who asks: the manager for manager-only views (`partner_view(manager=True)`), a regular member
  for the other signed-in views, nobody for public ones (a GET that does not go to the login
  page). JSON APIs take their own strategy (`JSON_APIS`).

Every example is one request in a savepoint rolled back afterwards, so examples do not see each
other's writes. Each asserts:
- no 5xx, and no exception while a streamed response (a CSV export) is read; the test client
  does not re-raise (`raise_request_exception=False`): the view's own exception is raised again
  with the request as a note, so that Hypothesis reports each distinct one;
- a refused POST (4xx, or 200 with an HTML page: the form shown again; htmx fragments and
  downloads excepted) changed no row of the project's tables or the users: the row count and a
  hash of every row's content per table, before and after (`fuzzing.fingerprint`).

Every view first gets fixed examples (NUL in every field and parameter, every field 131,073
characters long, hostile page / date / sort parameters, each hostile upload with the form
otherwise valid, the form as its page fills it in), then `FUZZ_EXAMPLES` generated ones (default
5). The seed is fixed per view (`FUZZ_SEED` shifts it), so a run is repeatable: a failure
prints the request (shrunk), and running the same test again gives it again. A deep run:

    FUZZ_EXAMPLES=200 make test ARGS="tests/test_fuzz.py"
"""

from __future__ import annotations

import os
import re
import sys
import types
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path
from hypothesis import HealthCheck, Phase, example, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.access import get_company, partner_view
from portal.models import Partner
from tests import fuzzing
from tests.portal.test_isolation import objects_of_partner_a
from tests.urlwalk import iter_views, url_for

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "0"))
INGEST_TOKEN = "fuzz-ingest-token"

VIEWS = {entry.name: entry for entry in iter_views()}


@dataclass
class Site:
    """The portal as the harness sees it: partner A's objects, the people who ask, and what
    every view takes (read from the pages once per process and URLconf)."""

    personas: Any
    objects: dict[str, Any]
    known_ids: tuple[str, ...]
    urlconf: str | None = None
    clients: dict[str, Client] = field(default_factory=dict)

    def user(self, persona: str) -> Any:
        return getattr(self.personas, persona)

    def client(self, persona: str) -> Client:
        if persona not in self.clients:
            self.clients[persona] = Client(raise_request_exception=False)
        client = self.clients[persona]
        if persona != "anonymous":
            user = self.user(persona)
            # Again after an example that signed out (logout) or rotated the session.
            if client.session.get("_auth_user_id") != str(user.pk):
                client.force_login(user)
        return client

    def target(self, name: str) -> tuple[fuzzing.Target, str]:
        shapes, inputs = site_map(self)
        persona, answers_get = shapes[name]
        view_inputs = inputs.get(name, fuzzing.ViewInputs())
        entries = {e.name: e for e in iter_views(self.urlconf)}
        target = fuzzing.Target(
            name=name,
            url=url_for(entries[name], self.objects, self.urlconf),
            get=answers_get,
            post=bool(view_inputs.source_pages) or not answers_get,
            inputs=view_inputs,
            known_ids=self.known_ids,
        )
        return target, persona


_SITE_MAPS: dict[str, tuple[dict[str, tuple[str, bool]], dict[str, fuzzing.ViewInputs]]] = {}


def site_map(site: Site) -> tuple[dict[str, tuple[str, bool]], dict[str, fuzzing.ViewInputs]]:
    """(per view: who asks and whether it answers GET; what the pages send to each view)."""
    key = site.urlconf or "default"
    if key not in _SITE_MAPS:
        _SITE_MAPS[key] = _read_site(site)
    return _SITE_MAPS[key]


def _read_site(site: Site) -> tuple[dict[str, tuple[str, bool]], dict[str, fuzzing.ViewInputs]]:
    shapes: dict[str, tuple[str, bool]] = {}
    inputs: dict[str, fuzzing.ViewInputs] = {}
    anonymous, manager = site.client("anonymous"), site.client("manager")
    for entry in iter_views(site.urlconf):
        url = url_for(entry, site.objects, site.urlconf)
        with transaction.atomic():
            response = anonymous.get(url)
            if response.status_code == 302 and "/accounts/login/" in response["Location"]:
                manager_only = getattr(entry.callback, "partner_view", {}).get("manager")
                persona = "manager" if manager_only else "regular"
                # The manager sees every form a regular member sees, and the staff pages.
                response = manager.get(url)
            else:
                persona = "anonymous"
            transaction.set_rollback(True)
        shapes[entry.name] = (persona, response.status_code != 405)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            fuzzing.read_page(entry.name, url, response.content.decode(), inputs)
    # Ids change from test to test: keep what the pages offer only where it is not an id
    # (the test's own ids come in through Site.known_ids); no CSRF token (the test client does
    # not check it; fuzzing.EXTRA_FIELDS sends hostile ones).
    for view_inputs in inputs.values():
        view_inputs.post_fields.pop("csrfmiddlewaretoken", None)
        for f in view_inputs.post_fields.values():
            if any(fuzzing.UUID_RE.search(v) for v in f.options + f.values):
                f.kinds.add("uuid")
            f.options = [o for o in f.options if not fuzzing.UUID_RE.search(o)]
            f.values = [v for v in f.values if not fuzzing.UUID_RE.search(v)]
    return shapes, inputs


@pytest.fixture
def site(personas, foreign_room, dns_server, settings) -> Site:
    settings.CALL_RECORDS_INGEST_TOKEN = INGEST_TOKEN
    objects = objects_of_partner_a(personas)
    # Partner B's ids too: they must be a 404 or a refusal, never a 500 or a change. In a fixed
    # order (by role, not by value), so that a seed picks the same object in every run.
    ids = [str(v) for v in objects.values() if fuzzing.UUID_RE.fullmatch(str(v))]
    ids += [str(personas.other_company.public_id), str(foreign_room.public_id)]
    return Site(personas=personas, objects=objects, known_ids=tuple(dict.fromkeys(ids)))


# --- one example ---------------------------------------------------------------------------------


def send(
    client: Client, url: str, request: fuzzing.FuzzRequest
) -> tuple[Any, BaseException | None]:
    """The response, and the exception the view raised (or reading the response raised)."""
    target = request.path(url)
    try:
        if request.method == "GET":
            response = client.get(target, headers=request.headers)
        else:
            body, content_type = request.encoded_body()
            response = client.generic("POST", target, body, content_type, headers=request.headers)
        if response.exc_info:
            return response, response.exc_info[1]
        if getattr(response, "streaming", False):
            # Read to the end: an export fails while it streams. (The test client closes the
            # response itself; closing it again here would close the database connection.)
            b"".join(response.streaming_content)
    except Exception as exc:  # the test client, or a streamed body, raised
        return None, exc
    return response, None


def is_refusal(request: fuzzing.FuzzRequest, response: HttpResponse) -> bool:
    """A POST the portal refused: 4xx, or the form page shown again. A success redirects
    (POST/redirect/GET), downloads a file, or is an htmx fragment."""
    if request.method != "POST":
        return False
    if 400 <= response.status_code < 500:
        return True
    return (
        response.status_code == 200
        and "HX-Request" not in request.headers
        and response.get("Content-Type", "").startswith("text/html")
        and not response.has_header("Content-Disposition")
    )


def check(site: Site, target: fuzzing.Target, persona: str, request: fuzzing.FuzzRequest) -> None:
    client = site.client(persona)
    cache.clear()  # rate-limit counters: every example reaches the view
    problem: BaseException | None = None
    changed: list[str] = []
    with transaction.atomic():
        before = fuzzing.fingerprint()
        response, error = send(client, target.url, request)
        if error is None and is_refusal(request, response):
            try:
                changed = fuzzing.changed_tables(before, fuzzing.fingerprint())
            except DatabaseError as exc:
                problem = AssertionError(f"the request left the transaction aborted: {exc}")
        transaction.set_rollback(True)
    where = f"{request.method} {request.path(target.url)[:300]} as {persona} ({target.name})"
    if error is not None:
        error.add_note(f"fuzz: {where} raised it")
        raise error
    if problem is not None:
        raise problem
    assert response.status_code < 500, f"{where} -> {response.status_code}"
    assert changed == [], f"{where} was refused ({response.status_code}) but changed {changed}"


# --- the tests ---------------------------------------------------------------------------------


def _ingest(site: Site) -> tuple[st.SearchStrategy[fuzzing.FuzzRequest], list[fuzzing.FuzzRequest]]:
    from consumers.models import Consumer

    address = Consumer.objects.get(public_id=site.objects["consumer_id"]).address
    return (
        fuzzing.ingest_requests(address, INGEST_TOKEN),
        fuzzing.ingest_examples(address, INGEST_TOKEN),
    )


# Views that take JSON rather than a form: their strategy and fixed examples.
JSON_APIS: dict[str, Callable[[Site], Any]] = {"call_records_ingest": _ingest}


def fuzz(site: Site, name: str, examples: int = EXAMPLES) -> None:
    target, persona = site.target(name)
    if name in JSON_APIS:
        strategy, fixed = JSON_APIS[name](site)
    else:
        strategy, fixed = fuzzing.form_requests(target), fuzzing.form_examples(target)

    def fuzz_view(request: fuzzing.FuzzRequest) -> None:
        check(site, target, persona, request)

    # Hypothesis names the view in its report: "Falsifying example: fuzz_consumers_batch_new(…)".
    fuzz_view.__name__ = fuzz_view.__qualname__ = "fuzz_" + re.sub(r"\W", "_", name)
    test = given(request=strategy)(fuzz_view)
    for request in reversed(fixed):
        test = example(request=request)(test)
    test = seed(zlib.crc32(name.encode()) + SEED)(test)
    test = hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,  # nothing written to .hypothesis/; the seed makes a run repeatable
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(test)
    test()


def test_the_harness_sees_the_portal(site):
    shapes, inputs = site_map(site)
    assert shapes.keys() == VIEWS.keys()
    # Forms found on the pages, with the fields they post.
    assert {"name", "contact_email"} <= inputs["portal:company_create"].post_fields.keys()
    assert {"ids", "action", "source"} <= inputs["consumers:batch_new"].post_fields.keys()
    assert inputs["consumers:user_bulk_invite"].file_fields == ["file"]
    assert "usage_model" in inputs["consumers:endpoint_usage_model"].post_fields
    # Query parameters found in links and search forms.
    assert {"q", "status", "sort"} <= inputs["consumers:endpoint_list"].query_keys.keys()
    assert shapes["portal:member_invite"][0] == "manager"
    assert shapes["consumers:user_invite"][0] == "regular"
    assert shapes["call_records_ingest"] == ("anonymous", False)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_no_input_gives_a_server_error(site, name):
    fuzz(site, name)


# --- the harness catches what it is for --------------------------------------------------------


@partner_view(write=True)
def _breaks_on_nul(request, company_id):
    get_company(request, company_id)
    if "\x00" in request.POST.get("name", ""):
        raise ValueError("a NUL reached the database")
    return HttpResponse('<form method="post"><input name="name"></form>')


@partner_view(write=True)
def _writes_when_it_refuses(request, company_id):
    get_company(request, company_id)
    if request.method == "POST":
        Partner.objects.create(name="written by a refused submit")
    return HttpResponse('<form method="post"><input name="name"></form>', status=200)


@pytest.fixture
def faulty_site(site):
    module = types.ModuleType("tests_fuzz_faulty_urls")
    module.urlpatterns = [
        path("accounts/login/", lambda request: HttpResponse(""), name="login"),
        path("c/<uuid:company_id>/breaks/", _breaks_on_nul, name="breaks"),
        path("c/<uuid:company_id>/writes/", _writes_when_it_refuses, name="writes"),
    ]
    sys.modules[module.__name__] = module
    try:
        with override_settings(ROOT_URLCONF=module.__name__):
            yield Site(
                personas=site.personas,
                objects=site.objects,
                known_ids=site.known_ids,
                urlconf=module.__name__,
            )
    finally:
        del sys.modules[module.__name__]
        _SITE_MAPS.pop(module.__name__, None)


def test_the_harness_reports_a_server_error(faulty_site):
    with pytest.raises(ValueError, match="NUL reached") as raised:
        fuzz(faulty_site, "breaks", examples=2)
    assert any("fuzz: POST" in note for note in raised.value.__notes__)


def test_the_harness_reports_a_write_on_a_refused_submit(faulty_site):
    with pytest.raises(AssertionError, match="was refused .* but changed .*portal_partner"):
        fuzz(faulty_site, "writes", examples=2)
