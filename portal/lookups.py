"""`field__any_of=[...]`: membership in a long list of values as one array parameter on
PostgreSQL. An `__in` list of thousands of values is sent and planned value by value (three
times slower for a 2,000-item batch chunk); `= ANY(array)` is one value. Elsewhere (SQLite, the
embedded demo) it is an IN list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, Lookup


def any_of_sql(column: str, values: Sequence[Any], vendor: str) -> tuple[str, list[Any]]:
    """SQL and parameters for `column` being one of `values`. Integers and UUIDs go as one
    array literal (they need no quoting, and psycopg's element-by-element array quoting was a
    tenth of a 10,000-item batch delete); other values as a list psycopg adapts."""
    if not values:
        raise EmptyResultSet  # matches nothing (an empty array would have no element type)
    if vendor != "postgresql":
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)
    if all(type(v) is int for v in values):
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(map(str, values)) + "}"]
    if all(isinstance(v, uuid.UUID) for v in values):
        return f"{column} = ANY(%s::uuid[])", ["{" + ",".join(map(str, values)) + "}"]
    return f"{column} = ANY(%s)", [list(values)]


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        sql, params = any_of_sql(lhs, values, connection.vendor)
        return sql, [*lhs_params, *params]
