"""Address reservation: every address (and a user's personal VMR address) is unique across the
whole service. The Address table's unique constraint is what holds under concurrent adds; the
checks here only turn a clash into a message that says which address is taken."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..models import Address, AddressPurpose, Consumer, address_rows


def ensure_addresses_free(rows: list[tuple[str, str]], *, exclude: Consumer | None = None) -> None:
    taken = Address.objects.filter(address__in=[a for a, _ in rows])
    if exclude is not None:
        taken = taken.exclude(consumer=exclude)
    taken_purpose = dict(taken.values_list("address", "purpose"))
    for address, purpose in rows:
        if address not in taken_purpose:
            continue
        if purpose == AddressPurpose.PERSONAL_VMR:
            message = f"The personal VMR address {address} is already taken."
        elif taken_purpose[address] == AddressPurpose.PERSONAL_VMR:
            message = f"The address {address} is already taken as a user's personal VMR address."
        else:
            message = f"The address {address} is already taken."
        raise ValidationError({"alias": message}, code="address_taken")


@contextmanager
def guarded_addresses(
    rows: list[tuple[str, str]], *, exclude: Consumer | None = None
) -> Iterator[None]:
    """Run a write that the database's address constraints guard (a consumer's alias and
    domain, its Address rows) in a savepoint. When a concurrent add or edit takes one of the
    addresses first, the write fails there rather than at commit, and the clash is reported as
    ensure_addresses_free reports a sequential duplicate: the winner has committed by then."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        ensure_addresses_free(rows, exclude=exclude)
        raise ValidationError(
            {"alias": f"The address {rows[0][0]} is already taken."}, code="address_taken"
        ) from None


def reserve_addresses(consumer: Consumer) -> None:
    """Take (or move to) the consumer's current addresses."""
    rows = address_rows(consumer.alias, consumer.domain, consumer.kind)
    ensure_addresses_free(rows, exclude=consumer)
    with guarded_addresses(rows, exclude=consumer):
        Address.objects.filter(consumer=consumer).delete()
        Address.objects.bulk_create(
            [Address(address=a, purpose=p, consumer=consumer) for a, p in rows]
        )
