"""The one place that validates and normalises the local part of an address (the alias).

Every path that sets an alias (forms, services, bulk import, admin, API) calls
`normalize_alias_for`, which derives "is the address on a hosted domain" from the domain the
address is on, never from a default.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from domains.names import is_service_domain

MIN_SHARED_DOMAIN_LENGTH = 6
# Leaves room for the personal VMR suffix ".vmr" within the 64 characters of a local part.
MAX_ALIAS_LENGTH = 60

# Checked before lower-casing, so that look-alikes which lower-case to ASCII (the Kelvin sign
# "K" becomes "k") are refused instead of silently becoming another address.
_ALLOWED = re.compile(r"[A-Za-z0-9._-]+")
_DISALLOWED_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def normalize_alias(value: str, *, hosted_domain: bool) -> str:
    """Return the alias lower-cased and stripped, or raise ValidationError naming the rule.

    `hosted_domain`: the address is on the customer's own hosted calling domain, where the
    minimum length does not apply (it does on the service's shared domains).
    """
    if not isinstance(value, str):
        raise ValidationError("Enter an alias.", code="required")
    alias = value.strip()
    if not alias:
        raise ValidationError("Enter an alias (the part before the @).", code="required")
    if "@" in alias:
        raise ValidationError(
            "Enter only the part before the @; the domain is chosen separately.", code="has_at"
        )
    if not _ALLOWED.fullmatch(alias):
        bad = sorted(set(_DISALLOWED_CHAR.findall(alias)))
        shown = " ".join("space" if c.isspace() else repr(c) for c in bad)
        raise ValidationError(
            f"Only the letters a–z, digits 0–9 and the characters . - _ are allowed (not {shown}).",
            code="characters",
        )
    alias = alias.lower()
    if alias[0].isdigit() or alias[0] in ".-_":
        raise ValidationError(
            "The alias must start with a letter (not a digit, '.', '-' or '_').", code="start"
        )
    if alias.endswith("."):
        raise ValidationError("The alias must not end with '.'.", code="end_dot")
    if ".." in alias:
        raise ValidationError("The alias must not contain two dots in a row.", code="double_dot")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise ValidationError(
            f"The alias can be at most {MAX_ALIAS_LENGTH} characters long.", code="max_length"
        )
    if not hosted_domain and len(alias) < MIN_SHARED_DOMAIN_LENGTH:
        raise ValidationError(
            f"On the service's shared domain the alias must be at least "
            f"{MIN_SHARED_DOMAIN_LENGTH} characters long (this one has {len(alias)}).",
            code="min_length",
        )
    return alias


def normalize_alias_for(value: str, *, domain: str) -> str:
    """`normalize_alias` for an address on `domain`, its errors keyed by the "alias" field."""
    try:
        return normalize_alias(value, hosted_domain=not is_service_domain(domain))
    except ValidationError as exc:
        raise ValidationError({"alias": exc.messages}, code=exc.error_list[0].code) from None
