"""Helpers the consumer services share: input cleaning, reading pasted or uploaded CSV, the
company lock, bulk audit rows."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.access import Actor
from portal.audit import audit_record_many
from portal.models import Company
from portal.web import has_control_characters

from ..csv_input import csv_delimiter

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def clean_text(value: Any, *, field: str, required: bool = False, max_length: int = 200) -> str:
    """White space folded; ValidationError keyed by `field` when missing, too long or holding
    control characters."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError({field: "This field is required."}, code="required")
    if len(text) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."}, code="max_length")
    if has_control_characters(text):
        raise ValidationError({field: "Control characters are not allowed."}, code="control")
    return text


def csv_lines(text: str) -> Iterator[tuple[int, list[str], str]]:
    """A pasted or uploaded CSV, one record per line: (line number, the line's cells stripped,
    "") or (line number, [], what is wrong with the line). A quoted cell that runs over a line
    break is refused rather than joined with the next line, so that a stray quote cannot make
    one record of many lines, and every line number is the one the user sees. The separator
    is a comma or a semicolon, whichever the text uses (consumers.csv_input.csv_delimiter)."""
    delimiter = csv_delimiter(text)
    for number, line in enumerate(_LINE_BREAK.split(text.lstrip("\ufeff")), start=1):
        try:
            cells = next(csv.reader([line], strict=True, delimiter=delimiter), [])
        except csv.Error as exc:
            yield number, [], _csv_problem(exc)
            continue
        yield number, [c.strip() for c in cells], ""


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit()} characters"
    if "end of data" in str(exc):
        return "a quoted cell does not end on this line (a cell cannot span lines)"
    return f"not valid CSV ({exc})"


def validate_email_address(email: str) -> str:
    """A valid address, its domain lower-cased; ValidationError keyed by "email"."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}, code="email") from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def lock_company(company: Company) -> Company:
    """The company's row lock, taken before counting or taking licence seats."""
    return Company.objects.select_for_update().get(pk=company.pk)


def audit_many(
    actor: Actor,
    company: Company,
    action: str,
    rows: list[tuple[Any, str]],
    data: dict[str, Any] | None = None,
) -> None:
    """One audit event per consumer ((public id, kind) rows), written in one INSERT (ids only,
    no personal data)."""
    events = [(public_id, f"{kind}.{action}") for public_id, kind in rows]
    audit_record_many(actor, company, "consumer", events, data=data)
