"""Domain names: normalisation (lower case, no trailing dot, IDNA A-labels) and the Public Suffix
List (bundled with publicsuffixlist, never fetched at run time)."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# What resolvers read as an IPv4 address (inet_aton forms: 1.2.3.4, 127.1, 0x7f.0.0.1).
_IPV4_LIKE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")
_SYNTAX = re.compile(r"[/@:\[\]\s]")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The whole list, private section included: a private suffix such as github.io is a
    # boundary between owners, so "example.github.io" is its own root.
    return PublicSuffixList()


def normalize_domain(value: str) -> str:
    """Lower-case A-label form of a domain name, or ValidationError saying what is wrong.

    The one place that reads a domain typed in (calling domains, Microsoft 365 domains, the
    domain of a new address): UTS #46 mapping of the whole name first (full-width letters and
    dots, capitals), IP literals refused, then each label checked: plain labels as letters,
    digits and hyphens, the others against IDNA 2008 (an A-label typed in is decoded, so that
    only a valid, canonical one passes)."""
    name = _mapped(value)
    if not name:
        raise ValidationError("Enter a domain name.", code="required")
    if _is_ip_literal(name):
        raise ValidationError(
            f"{name} is an IP address: enter a domain name, like example.com.", code="ip_address"
        )
    if _SYNTAX.search(name):
        raise ValidationError(
            "Enter only the domain name, like example.com (no address, port, path or spaces).",
            code="syntax",
        )
    labels = [_a_label(label, value) for label in name.split(".")]
    name = ".".join(labels)
    if len(name) > 253:
        raise ValidationError("A domain name can be at most 253 characters long.", code="length")
    if len(labels) < 2:
        raise ValidationError("Enter a full domain name, like example.com.", code="single_label")
    if labels[-1].isdigit():
        raise ValidationError(
            f"{name} is not a domain name: its last part cannot be a number.", code="numeric_tld"
        )
    return name


def _mapped(value: str) -> str:
    """UTS #46 mapping of the whole name: full-width letters and dots (U+FF0E), ideographic full
    stops and capitals become plain; a trailing dot goes."""
    try:
        name = idna.uts46_remap(("" if value is None else str(value)).strip(), std3_rules=False)
    except idna.IDNAError as exc:
        raise ValidationError(f"{value} is not a valid domain name ({exc}).", code="idna") from None
    return name.strip().rstrip(".")


def _is_ip_literal(name: str) -> bool:
    """1.2.3.4, its shorter and hex spellings, and IPv6 with or without brackets."""
    if _IPV4_LIKE.match(name):
        return True
    host = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _a_label(label: str, value: str) -> str:
    """The A-label of one (mapped) label."""
    if label.isascii() and not label.startswith("xn--"):
        if len(label) > 63:
            raise ValidationError(
                f"The label {label[:20]}… is longer than 63 characters.", code="label_length"
            )
        if not _LABEL.match(label):
            raise ValidationError(
                f"{label or '(empty)'} is not a valid part of a domain name: use letters, "
                "digits and hyphens, not at the start or end.",
                code="label",
            )
    try:
        a_label = idna.alabel(label).decode("ascii")
        # A typed-in A-label must decode to a valid U-label and be its canonical spelling
        # (older idna releases do not check the latter).
        if a_label.startswith("xn--") and idna.alabel(idna.ulabel(a_label)) != a_label.encode():
            raise idna.IDNAError(f"{a_label} is not the canonical form of its name")
    except idna.IDNAError as exc:
        raise ValidationError(f"{value} is not a valid domain name ({exc}).", code="idna") from None
    return a_label


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
