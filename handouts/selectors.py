from __future__ import annotations

from django.db.models import QuerySet

from portal.models import Company

from .models import HandoutExport

RECENT_EXPORTS = 10


def recent_exports(*, company: Company) -> QuerySet[HandoutExport]:
    return HandoutExport.objects.filter(company=company).select_related("created_by")[
        :RECENT_EXPORTS
    ]
