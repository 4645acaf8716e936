"""A fixed-window rate limit in the cache (Redis in production), and the one function that says
which client a request comes from: for these limits and for django-axes' sign-in throttling
(settings.AXES_CLIENT_IP_CALLABLE)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ipware import get_client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def rate_limited(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Count one hit for `key`; True once more than `limit` hits fell in this window
    (a minute unless `window` says how many seconds).

    Without the cache the limit fails open: the page answers, unlimited, and a log line says
    so. (The cache skips its errors, settings.redis_cache, and answers None; another backend
    raises.)"""
    bucket = f"rl:{key}:{window}:{int(timezone.now().timestamp() // window)}"
    try:
        cache.add(bucket, 0, timeout=window + 30)
        hits = cache.incr(bucket)
    except Exception:
        hits = None
    if hits is None:
        logger.warning("rate limit %s not applied: the cache does not answer", key.split(":")[0])
        return False
    return hits > limit


def client_ip(request: HttpRequest) -> str:
    """The client's address.

    Behind `CLIENT_IP_PROXY_COUNT` proxies (BEHIND_PROXY: one), each proxy appends the address
    it received the request from to X-Forwarded-For, and the last one is REMOTE_ADDR: the client
    is that many entries from the right. Entries further left are whatever the client sent, so
    a client cannot choose its own bucket. Without a proxy the header is the client's to forge
    and is never read."""
    proxies = settings.CLIENT_IP_PROXY_COUNT
    if proxies:
        # ipware counts the proxies listed in the header; the last one is not (REMOTE_ADDR).
        ip, _ = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
    else:
        ip, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    # No usable header (a request that did not come through the proxy): the peer's address.
    return ip or request.META.get("REMOTE_ADDR", "")
