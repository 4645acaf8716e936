"""A fixed-window rate limit in the cache (Redis in production), for token-guarded pages."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

WINDOW_SECONDS = 60


def rate_limited(key: str, limit: int) -> bool:
    """Count one hit for `key`; True once more than `limit` hits fell in this minute."""
    bucket = f"rl:{key}:{int(timezone.now().timestamp() // WINDOW_SECONDS)}"
    cache.add(bucket, 0, timeout=WINDOW_SECONDS + 30)
    return cache.incr(bucket) > limit


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")
