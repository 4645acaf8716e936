"""The optional read replica (DATABASE_REPLICA_URL): which database a query goes to.

Every write goes to the primary (`default`). A read goes to the replica only inside an explicit
scope (`replica_reads`, `replica_view`) that list pages and exports open; and even there it goes
to the primary:
- when the primary's connection is inside a transaction (a read that may follow its own write);
- after a write in the scope (the rest of the scope reads what it wrote);
- for a client that changed something a moment ago (`ReplicaPinMiddleware`: any unsafe method
  answered below 500 pins the client to the primary for DATABASE_REPLICA_PIN_SECONDS), so the
  page after a POST shows the change however far the replica lags;
- while the replica is down: a scope that cannot connect to it, or a view it failed, marks it
  down for REPLICA_DOWN_SECONDS in this process, and reads go to the primary meanwhile.

`read_alias` is the one function that decides; `ReplicaRouter` (settings.DATABASE_ROUTERS, only
when a replica is configured) asks it. Without a replica none of this does anything: no router,
no middleware, and the scopes cost a dictionary look-up.

The sign-in, the session and the access checks (`portal.access.partner_view`, the API's token)
run before a view's scope opens, on the primary: a revoked member or token is refused at once,
not once the replica has caught up.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
# A replica that failed is left alone this long (per process) before it is tried again, so that
# each request does not wait for a connection timeout while it is down.
REPLICA_DOWN_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The pin: a signed, time-stamped cookie for browsers; for API clients (no cookies), a cache
# entry under a hash of their Authorization header.
PIN_COOKIE = "portal_primary"
PIN_SALT = "portal.db.pin"

T = TypeVar("T")
View = Callable[..., HttpResponse]


@dataclass
class _Scope:
    replica: bool  # reads may go to the replica
    wrote: bool = False  # a write was routed in this scope: read it back from the primary
    used: bool = False  # a read went to the replica


_scope: ContextVar[_Scope | None] = ContextVar("portal_db_scope", default=None)
_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The database a read goes to now: the rule of this module's docstring."""
    scope = _scope.get()
    if scope is None or not scope.replica or scope.wrote or _replica_is_down():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    scope.used = True
    return REPLICA


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when DATABASE_REPLICA_URL is set. Everything that writes, or
    reads in order to write (`select_for_update`, `get_or_create`: Django asks db_for_write for
    them), goes to the primary; migrations run there only."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The same rows on both: an object read from the replica may be linked to one of the
        # primary's (and is saved to the primary).
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        return True if {obj1._state.db, obj2._state.db} <= aliases else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def _replica_is_down() -> bool:
    return time.monotonic() < _down_until


def _replica_failed(error: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + REPLICA_DOWN_SECONDS
    logger.warning(
        "read replica unavailable (%s): reading from the primary for %s s",
        str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        REPLICA_DOWN_SECONDS,
    )


def _replica_answers() -> bool:
    """Connected to the replica (a no-op when the connection is open), or marked down."""
    try:
        connections[REPLICA].ensure_connection()
    except OperationalError as error:
        _replica_failed(error)
        return False
    return True


def _pin_key(authorization: str) -> str:
    return "replica-pin:" + hashlib.sha256(authorization.encode()).hexdigest()


def client_pinned(request: HttpRequest) -> bool:
    """The client changed something less than DATABASE_REPLICA_PIN_SECONDS ago."""
    max_age = settings.DATABASE_REPLICA_PIN_SECONDS
    if request.get_signed_cookie(PIN_COOKIE, default=None, salt=PIN_SALT, max_age=max_age):
        return True
    authorization = request.headers.get("Authorization", "")
    return bool(authorization) and bool(cache.get(_pin_key(authorization)))


@contextmanager
def replica_reads(request: HttpRequest | None = None) -> Iterator[_Scope | None]:
    """Reads inside may go to the replica (read_alias decides each one). With a request: only
    for a safe method from a client that is not pinned to the primary. Without one (a task, an
    export's render): the caller knows its data may lag the primary by the replica's delay."""
    if not replica_configured():
        yield None
        return
    allowed = request is None or (request.method in SAFE_METHODS and not client_pinned(request))
    scope = _Scope(replica=allowed and not _replica_is_down() and _replica_answers())
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside go to the primary, within a replica scope too: for what is kept after the
    request (a cached count counted on a lagging replica would outlive the lag)."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def replica_call(request: HttpRequest | None, read: Callable[[], T]) -> T:
    """`read()` in `replica_reads(request)`; when the replica fails it (an OperationalError
    raised by the replica's connection), once more on the primary. A request gets the scope for
    a safe method only, so running its view twice changes nothing; without a request, `read`
    must only read."""
    with replica_reads(request) as scope:
        try:
            return read()
        except OperationalError as error:
            if scope is None or not scope.used or not connections[REPLICA].errors_occurred:
                raise
            _replica_failed(error)
    return read()


def replica_view(view: View) -> View:
    """A list page or an export: its reads go to the replica (`replica_call`). Put it under
    `partner_view`, so that the sign-in and the access checks read the primary."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return replica_call(request, lambda: view(request, *args, **kwargs))

    return wrapper


def scope_carried(rows: Iterable[T]) -> Iterator[T]:
    """`rows` read in the scope current now, whenever they are read: a streamed response's rows
    are read after the view has returned, outside its scope (portal.csvexport)."""
    scope = _scope.get()  # now, not at the first row: this is not the generator
    if scope is None:
        return iter(rows)

    def carried() -> Iterator[T]:
        iterator = iter(rows)
        while True:
            # Set around each row only: between rows the server's own code runs, unscoped.
            token = _scope.set(scope)
            try:
                row = next(iterator)
            except StopIteration:
                return
            finally:
                _scope.reset(token)
            yield row

    return carried()


class ReplicaPinMiddleware:
    """settings.MIDDLEWARE when DATABASE_REPLICA_URL is set: a client whose change (an unsafe
    method answered below 500, a form with errors included) was just written reads from the
    primary for DATABASE_REPLICA_PIN_SECONDS, so the redirect after a POST shows it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 500:
            seconds = settings.DATABASE_REPLICA_PIN_SECONDS
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_SALT,
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            if authorization := request.headers.get("Authorization", ""):
                cache.set(_pin_key(authorization), 1, seconds)
        return response
