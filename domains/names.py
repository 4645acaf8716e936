"""Domain names: normalisation (lower case, no trailing dot, IDNA A-labels) and the Public Suffix
List (bundled with publicsuffixlist, never fetched at run time)."""

from __future__ import annotations

import re
from functools import lru_cache

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The whole list, private section included: a private suffix such as github.io is a
    # boundary between owners, so "example.github.io" is its own root.
    return PublicSuffixList()


def normalize_domain(value: str) -> str:
    """Lower-case A-label form of a domain name, or ValidationError saying what is wrong."""
    name = (value or "").strip().rstrip(".").lower()
    if not name:
        raise ValidationError("Enter a domain name.", code="required")
    if "://" in name or "/" in name or "@" in name or " " in name:
        raise ValidationError(
            "Enter only the domain name, like example.com (no address, path or spaces).",
            code="syntax",
        )
    labels = []
    for label in name.split("."):
        if label and not label.isascii():
            try:
                label = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError as exc:
                raise ValidationError(
                    f"{value} is not a valid domain name ({exc}).", code="idna"
                ) from None
        if not _LABEL.match(label):
            if len(label) > 63:
                raise ValidationError(
                    f"The label {label[:20]}… is longer than 63 characters.", code="label_length"
                )
            raise ValidationError(
                f"{label or '(empty)'} is not a valid part of a domain name: use letters, digits "
                "and hyphens, not at the start or end.",
                code="label",
            )
        labels.append(label)
    name = ".".join(labels)
    if len(name) > 253:
        raise ValidationError("A domain name can be at most 253 characters long.", code="length")
    if len(labels) < 2:
        raise ValidationError("Enter a full domain name, like example.com.", code="single_label")
    return name


def root_domain(name: str) -> str | None:
    """The registrable domain ("root") of a name, None for a public suffix itself."""
    return _psl().privatesuffix(name)


def is_public_suffix(name: str) -> bool:
    return root_domain(name) is None


def is_subdomain(name: str, parent: str) -> bool:
    return name.endswith("." + parent)


def is_service_domain(name: str) -> bool:
    """The service's shared domain (SERVICE_DOMAIN) or a subdomain of it. Addresses anywhere
    else are on a customer's own hosted domain."""
    service = settings.SERVICE_DOMAIN
    return name == service or is_subdomain(name, service)
