"""The licence consumers export: every consumer with what it is billed as (what billing uses)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from consumers.models import Consumer, ConsumerKind, ConsumerStatus
from portal.models import Company, Partner

from .models import License, LicenseKind

HEADER = [
    "company",
    "company_reference",
    "kind",
    "address",
    "status",
    "billing",
    "cost_centre",
    "description_tag",
]


def _rows(qs: QuerySet[Consumer]) -> Iterator[list[str]]:
    today = timezone.localdate()
    wide = Exists(
        License.objects.active_on(today).filter(
            company=OuterRef("company_id"), kind=LicenseKind.ENTERPRISE_WIDE
        )
    )
    rows = qs.annotate(has_wide=wide).order_by("company__name", "company_id", "kind", "alias")
    for c in rows.values(
        "company__name",
        "company__reference",
        "kind",
        "alias",
        "domain",
        "status",
        "is_trial",
        "has_wide",
        "cost_centre",
        "description_tag",
    ).iterator(chunk_size=5000):
        if c["status"] == ConsumerStatus.INACTIVE:
            billing = ""
        elif c["is_trial"]:
            billing = "trial"
        elif c["kind"] == ConsumerKind.ENDPOINT:
            billing = LicenseKind.ROOM
        else:
            billing = LicenseKind.ENTERPRISE_WIDE if c["has_wide"] else LicenseKind.ENTERPRISE_USER
        yield [
            c["company__name"],
            c["company__reference"],
            c["kind"],
            f"{c['alias']}@{c['domain']}",
            c["status"],
            billing,
            c["cost_centre"],
            c["description_tag"],
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def consumers_csv_response(
    *, partner: Partner, company: Company | None, filename: str
) -> StreamingHttpResponse:
    qs = Consumer.objects.filter(company__partner=partner)
    if company is not None:
        qs = qs.filter(company=company)
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield writer.writerow(HEADER)
        for row in _rows(qs):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
