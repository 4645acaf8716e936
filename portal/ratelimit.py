"""A fixed-window rate limit in the cache (Redis in production), and the one function that says
which client a request comes from: for these limits and for django-axes' sign-in throttling
(settings.AXES_CLIENT_IP_CALLABLE)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ipware import get_client_ip

WINDOW_SECONDS = 60


def rate_limited(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Count one hit for `key`; True once more than `limit` hits fell in this window
    (a minute unless `window` says how many seconds)."""
    bucket = f"rl:{key}:{window}:{int(timezone.now().timestamp() // window)}"
    cache.add(bucket, 0, timeout=window + 30)
    return cache.incr(bucket) > limit


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
