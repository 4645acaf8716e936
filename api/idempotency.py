"""`Idempotency-Key` on every POST of the API (a decorator of every operation, api.v1).

The first request with a key claims it (a row, unique per token and key) before the operation
runs, so that of two concurrent requests one runs and the other is told to retry (409); the
response is stored on the row and replayed for the same key and body within IDEMPOTENCY_TTL.
The same key with another body (or path) is a 422. A response the client may retry (5xx, 429,
401) is not kept: the claim is released."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import IDEMPOTENCY_TTL, ApiToken, IdempotencyRecord
from .problems import problem
from .selectors import api_token_for_secret

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Responses the client is expected to retry with the same key: not remembered.
NOT_KEPT = {401, 409, 429}
REPLAYED_HEADERS = ("Location", "Content-Type")


def _token(request: HttpRequest) -> ApiToken | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return api_token_for_secret(secret.strip(), now=timezone.now())


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""), status=record.status_code, content_type=record.content_type
    )
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _existing(token: ApiToken, key: str, fingerprint: str, now: datetime) -> HttpResponse | None:
    record = IdempotencyRecord.objects.filter(token=token, key=key).first()
    if record is None:
        return None
    if record.created_at <= now - IDEMPOTENCY_TTL:
        record.delete()  # an old key used again is a new request
        return None
    if record.body_hash != fingerprint:
        return problem(
            422,
            "Idempotency-Key reused",
            detail="This Idempotency-Key was used with another request body or URL.",
            errors={HEADER: ["This key was used for another request."]},
        )
    if record.status_code is None:
        return problem(
            409,
            "Request in progress",
            detail="A request with this Idempotency-Key is still being processed. Retry later.",
            headers={"Retry-After": "1"},
        )
    return _replay(record)


def _claim(token: ApiToken, key: str, request: HttpRequest, fingerprint: str) -> bool:
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                token=token,
                key=key,
                method=request.method or "POST",
                path=request.path[:500],
                body_hash=fingerprint,
            )
    except IntegrityError:
        return False
    return True


def _keep(token: ApiToken, key: str, response: HttpResponse) -> None:
    records = IdempotencyRecord.objects.filter(token=token, key=key, status_code__isnull=True)
    if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
        records.delete()
        return
    records.update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        headers={h: response[h] for h in REPLAYED_HEADERS if h in response and h != "Content-Type"},
        body=response.content,
    )


def idempotent(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps an operation's `run` (before its auth and validation: a replay answers the stored
    response as it was, and a request that failed validation is remembered like any other)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return run(request, *args, **kwargs)
        token = _token(request)
        if token is None:
            return run(request, *args, **kwargs)  # its auth answers 401
        if not key.strip() or len(key) > KEY_MAX_LENGTH:
            return problem(
                422,
                "Invalid Idempotency-Key",
                errors={HEADER: [f"Use 1 to {KEY_MAX_LENGTH} characters."]},
            )
        fingerprint = _fingerprint(request)
        now = timezone.now()
        existing = _existing(token, key, fingerprint, now)
        if existing is not None:
            return existing
        if not _claim(token, key, request, fingerprint):
            # Another request claimed it between our look and our claim.
            return _existing(token, key, fingerprint, now) or run(request, *args, **kwargs)
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            IdempotencyRecord.objects.filter(
                token=token, key=key, status_code__isnull=True
            ).delete()
            raise
        _keep(token, key, response)
        return response

    return wrapper


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete the records older than IDEMPOTENCY_TTL (a periodic job); returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
