"""Bulk invitation by CSV: every row is validated before anything is created; then all rows are
created in one transaction, or none."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from domains.services import calling_domain_for_address
from portal.access import Actor, ensure_can_write
from portal.display import counted
from portal.models import Company

from ..addresses import normalize_alias_for
from ..models import Address, ConsumerKind, address_rows, seat_family
from ..seats import seat_allocation
from .common import clean_text, csv_lines, validate_email_address
from .creation import user_invite

MAX_ROWS = 5000
COLUMNS = ("full_name", "email", "alias", "domain")


@dataclass
class InviteRow:
    line: int
    full_name: str
    email: str
    alias: str
    domain: str | None
    address: str = ""
    vmr_address: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class BulkPlan:
    rows: list[InviteRow]
    seats_before: int | None  # None: unlimited
    seats_after: int | None
    trial_count: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.errors for r in self.rows)

    @property
    def failing_rows(self) -> list[InviteRow]:
        return [r for r in self.rows if r.errors]


class BulkInviteError(ValidationError):
    def __init__(self, plan: BulkPlan):
        self.plan = plan
        lines = [f"Line {r.line}: {'; '.join(r.errors)}" for r in plan.failing_rows]
        super().__init__(plan.problems + lines or ["The file has errors."])


def parse_invite_csv(text: str) -> list[InviteRow]:
    """Columns: full name, email, alias, optional domain. A header line is optional."""
    rows: list[InviteRow] = []
    for number, cells, problem in csv_lines(text):
        if not problem and not any(cells):
            continue
        if number == 1 and any(c.lower() in {"email", "e-mail", "email address"} for c in cells):
            continue  # header
        row = InviteRow(line=number, full_name="", email="", alias="", domain=None)
        if problem:
            row.errors.append(problem)
        elif len(cells) < 3 or len(cells) > 4:
            row.errors.append(
                f"expected 3 or 4 columns (full name, email, alias, domain), found {len(cells)}"
            )
        else:
            row.full_name, row.email, row.alias = cells[0], cells[1], cells[2]
            row.domain = cells[3] if len(cells) == 4 and cells[3] else None
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"At most {MAX_ROWS} rows per file.")
    if not rows:
        raise ValidationError("The file has no rows.")
    return rows


def _validate_row(company: Company, row: InviteRow) -> None:
    """Check one row as user_invite will (no writes); fill in its addresses."""
    try:
        row.email = validate_email_address(row.email)
    except ValidationError:
        row.errors.append(f"{row.email or '(empty)'} is not a valid email address")
    try:
        row.full_name = clean_text(row.full_name, field="full_name", required=True)
    except ValidationError as exc:
        row.errors.append(f"full name: {exc.messages[0]}")
    try:
        domain = calling_domain_for_address(company=company, name=row.domain)
    except ValidationError as exc:
        row.errors.extend(exc.messages)
        return
    try:
        row.alias = normalize_alias_for(row.alias, domain=domain.name)
    except ValidationError as exc:
        row.errors.append(f"alias {row.alias!r}: {exc.messages[0]}")
        return
    row.address, row.vmr_address = (
        a for a, _ in address_rows(row.alias, domain.name, ConsumerKind.USER)
    )


def _mark_repeated_and_taken(rows: list[InviteRow]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        for address in (row.address, row.vmr_address):
            if address and address in seen:
                row.errors.append(f"{address} is also on line {seen[address]}")
            if address:
                seen.setdefault(address, row.line)
    taken = set(Address.objects.filter(address__in=list(seen)).values_list("address", flat=True))
    for row in rows:
        for address in (row.address, row.vmr_address):
            if address and address in taken:
                row.errors.append(f"{address} is already taken")


def bulk_invite_plan(*, company: Company, rows: list[InviteRow]) -> BulkPlan:
    """Validate every row (no writes) and say what the import would do to the seats."""
    for row in rows:
        if not row.errors:
            _validate_row(company, row)
    _mark_repeated_and_taken(rows)
    count = len(rows)
    allocation = seat_allocation(
        company=company, family=seat_family(ConsumerKind.USER), count=count
    )
    seats = allocation.seats
    problems = []
    if not allocation.allowed:
        problems.append(
            f"{counted(count, 'user', 'users')} need "
            f"{counted(count, f'{seats.label} seat', f'{seats.label} seats')} but only "
            f"{allocation.paid} {'is' if allocation.paid == 1 else 'are'} free, and Evaluation "
            "Mode is closed."
        )
    free = seats.remaining
    return BulkPlan(
        rows=rows,
        seats_before=free,
        seats_after=None if free is None else free - allocation.paid,
        trial_count=allocation.trial,
        problems=problems,
    )


def users_bulk_invite(*, actor: Actor, company: Company, rows: list[InviteRow]) -> list[Any]:
    """Create every invitation, or none: any failing row (also one that became invalid since the
    preview) rolls back the whole import."""
    ensure_can_write(actor, company.partner)
    plan = bulk_invite_plan(company=company, rows=rows)
    if not plan.ok:
        raise BulkInviteError(plan)
    created = []
    with transaction.atomic():
        for row in rows:
            try:
                created.append(
                    user_invite(
                        actor=actor,
                        company=company,
                        email=row.email,
                        full_name=row.full_name,
                        alias=row.alias,
                        domain=row.domain,
                    )
                )
            except ValidationError as exc:
                row.errors.extend(exc.messages)
                raise BulkInviteError(plan) from None
    return created
