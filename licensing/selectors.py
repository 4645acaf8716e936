from __future__ import annotations

from django.db.models import QuerySet

from portal.models import Company

from .models import License


def licence_list(*, company: Company) -> QuerySet[License]:
    return License.objects.filter(company=company).order_by("-ends_on", "id")
