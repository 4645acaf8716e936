"""Enumerate every view of a URLconf, so that tests cover views added later without edits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse


@dataclass(frozen=True)
class ViewEntry:
    name: str  # "namespace:name"
    params: tuple[str, ...]
    callback: Callable[..., Any]


def iter_views(urlconf: str | None = None) -> Iterator[ViewEntry]:
    def walk(patterns: list[Any], ns: str, params: tuple[str, ...]) -> Iterator[ViewEntry]:
        for p in patterns:
            here = params + tuple(p.pattern.regex.groupindex)
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue  # Django admin has its own tests (ops only)
                if p.app_name == "ninja":
                    continue  # the partner API: tests/api/test_isolation.py walks its routes
                child_ns = f"{ns}{p.namespace}:" if p.namespace else ns
                yield from walk(p.url_patterns, child_ns, here)
            elif isinstance(p, URLPattern) and p.name:
                yield ViewEntry(name=f"{ns}{p.name}", params=here, callback=p.callback)

    yield from walk(get_resolver(urlconf).url_patterns, "", ())


def url_for(entry: ViewEntry, objects: dict[str, Any], urlconf: str | None = None) -> str:
    missing = [p for p in entry.params if p not in objects]
    if missing:
        raise LookupError(
            f"{entry.name}: no test object for URL parameter(s) {missing}; add them to the walk"
        )
    return reverse(entry.name, kwargs={p: objects[p] for p in entry.params}, urlconf=urlconf)
