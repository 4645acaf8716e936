"""Floor views: the same rows through one hand-written SQL query, rendered into the same table,
without the portal's layers (no access helpers, ORM, selectors, layout). Served through the
same Django request handling as the portal's pages, so that the comparison is of the layers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Template, engines
from django.urls import include, path

from portal.access import partner_view

TABLE = Template(
    "<table>{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>"
    "{% endfor %}</table><p>{{ total }} in all</p>"
)

USERS_SQL = """
    SELECT c.display_name, c.alias || '@' || c.domain, c.alias || '.vmr@' || c.domain, i.email,
           c.status, c.is_trial, c.created_at, count(*) OVER () AS total
    FROM consumers_consumer c LEFT JOIN consumers_invitation i ON i.consumer_id = c.id
    WHERE c.company_id = %s AND c.kind = 'user'
      AND (%s = '' OR c.alias LIKE %s OR upper(c.display_name) LIKE upper(%s)
           OR upper(i.email) LIKE upper(%s))
    ORDER BY c.alias, c.id LIMIT 25
"""

COMPANIES_SQL = """
    SELECT c.name, c.reference, c.contact_email, c.evaluation_ends_on,
           CASE WHEN c.id IN (SELECT company_id FROM licensing_license
                              WHERE starts_on <= current_date AND ends_on >= current_date)
                THEN 'paid' WHEN c.evaluation_ends_on >= current_date THEN 'trial_open'
                ELSE 'trial_closed' END,
           count(*) OVER ()
    FROM portal_company c WHERE c.partner_id = %s ORDER BY c.name, c.id LIMIT 25
"""


# The API's consumer list (GET /api/v1/companies/{id}/consumers), first page: the same rows
# and fields in the same order, one more row than the page to know whether a next one exists.
API_CONSUMERS_SQL = """
    SELECT c.public_id, c.kind, c.alias, c.domain, c.status, c.inactive_reason, c.is_trial,
           c.display_name, c.conference_id, c.created_at
    FROM consumers_consumer c WHERE c.company_id = %s ORDER BY c.alias, c.id LIMIT 51
"""
API_CONSUMER_FIELDS = (
    "id", "kind", "alias", "domain", "status", "inactive_reason", "is_trial", "display_name",
    "conference_id", "created_at",
)  # fmt: skip


def _render(sql: str, params: list[object]) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = rows[0][-1] if rows else 0
    return HttpResponse(TABLE.render(Context({"rows": [r[:-1] for r in rows], "total": total})))


# Signing in is Django's own (not a portal layer): the floors ask for it too, as the pages do.
@login_required
def users_floor(request: HttpRequest, company_id: int) -> HttpResponse:
    query = request.GET.get("q", "")
    like = f"%{query}%"
    return _render(USERS_SQL, [company_id, query, like, like, like])


@login_required
def api_consumers_floor(request: HttpRequest, company_id: int) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(API_CONSUMERS_SQL, [company_id])
        rows = cursor.fetchall()
    items = [
        dict(zip(API_CONSUMER_FIELDS, row, strict=True)) | {"address": f"{row[2]}@{row[3]}"}
        for row in rows[:50]
    ]
    more = request.build_absolute_uri("?cursor=next") if len(rows) > 50 else None
    return JsonResponse({"items": items, "next": more})


@login_required
def companies_floor(request: HttpRequest, partner_id: int) -> HttpResponse:
    return _render(COMPANIES_SQL, [partner_id])


# The company list's floor with the portal's layers added one at a time, to show where the
# page's time goes: the access check (membership and role), then the layout (base.html).
@partner_view()
def companies_floor_with_access(request: HttpRequest, partner_id: int) -> HttpResponse:
    return _render(COMPANIES_SQL, [partner_id])


IN_LAYOUT = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}{{ table }}{% endblock %}'
)


@partner_view()
def companies_floor_in_layout(request: HttpRequest, partner_id: int) -> HttpResponse:
    table = _render(COMPANIES_SQL, [partner_id]).content.decode()
    return HttpResponse(IN_LAYOUT.render({"table": table}, request))


urlpatterns = [
    path("floor/companies/<int:partner_id>/with-access/", companies_floor_with_access),
    path("floor/companies/<int:partner_id>/in-layout/", companies_floor_in_layout),
    path("floor/users/<int:company_id>/", users_floor),
    path("floor/api/consumers/<int:company_id>/", api_consumers_floor),
    path("floor/companies/<int:partner_id>/", companies_floor),
    path("", include("project.urls")),
]
