"""Small helpers shared by every app's views."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest

# What no stored text or query may hold: the C0 and C1 control characters (NUL among them, which
# PostgreSQL cannot store) and lone surrogates (which cannot be encoded). Callers that allow
# white space fold it to plain spaces first.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A free-text search longer than this is cut: no address or name is longer.
MAX_QUERY_LENGTH = 200
# Past this page number, SQL's OFFSET would overflow: such a page is treated as past the end.
MAX_PAGE_NUMBER = 10**9
# A day far enough from the ends of the calendar that its start and the day after it exist in
# every time zone.
QUERY_DAYS = (date.min + timedelta(days=2), date.max - timedelta(days=2))


def has_control_characters(value: str) -> bool:
    return _CONTROL_CHARACTERS.search(value) is not None


def clean_query(value: object) -> str:
    """A free-text query parameter as a search may use it: stripped and cut to
    MAX_QUERY_LENGTH; one holding control characters is ignored ("")."""
    text = value.strip() if isinstance(value, str) else ""
    return "" if has_control_characters(text) else text[:MAX_QUERY_LENGTH]


def query_param(request: HttpRequest, name: str) -> str:
    """The query string's `name` (clean_query): what a list page's filters read."""
    return clean_query(request.GET.get(name))


def query_day(request: HttpRequest, name: str) -> date | None:
    """The query string's `name` as a `YYYY-MM-DD` day; None (ignored) when it is missing, not a
    day, or too near the ends of the calendar to be used as a time."""
    try:
        day = datetime.strptime(query_param(request, name), "%Y-%m-%d").date()
    except ValueError:
        return None
    return day if QUERY_DAYS[0] <= day <= QUERY_DAYS[1] else None


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (else above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def submit(
    request: HttpRequest, form: forms.BaseForm, service: Callable[[dict[str, Any]], Any]
) -> tuple[bool, Any]:
    """A form page's POST: when the form is valid, call the service with its cleaned data.
    Returns (done, the service's result); a service's ValidationError is shown on the form
    and the page is shown again (done False)."""
    if request.method != "POST" or not form.is_valid():
        return False, None
    try:
        return True, service(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False, None


def act(request: HttpRequest, service: Callable[[], Any], success: str = "") -> bool:
    """A button's POST: call the service; say `success`, or the service's ValidationError,
    as a message on the next page. Returns whether it was done."""
    try:
        service()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    if success:
        messages.success(request, success)
    return True


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    per_page: int | None = None,
    count: int | None = None,
    count_with_rows: bool = False,
) -> Page:
    """A page of the queryset. `count`, when the caller already knows it, saves the COUNT.

    `count_with_rows` fetches the total with the page's rows (COUNT(*) OVER ()), in one query:
    for a search, whose filter is the expensive part, so that it runs once rather than twice.
    (An unfiltered list is better served by a separate COUNT, which PostgreSQL answers from an
    index, and a page that stops after its rows.)"""
    per_page = per_page or settings.PAGE_SIZE
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count  # Paginator.count is a cached property
    elif count_with_rows and (number := _page_number(request)) <= MAX_PAGE_NUMBER:
        start = (number - 1) * per_page
        rows = list(queryset.annotate(_page_total=Window(Count("*")))[start : start + per_page])
        if rows:
            paginator.count = rows[0]._page_total
            return Page(rows, number, paginator)
    # Past the end (or nothing matches): Django's usual COUNT and clamping to the last page.
    return paginator.get_page(request.GET.get("page"))


def _page_number(request: HttpRequest) -> int:
    """The requested page number, 1 when missing or not a whole number."""
    try:
        return max(1, int(request.GET.get("page") or 1))
    except ValueError:
        return 1


def querystring_without(request: HttpRequest, *keys: str) -> str:
    params = request.GET.copy()
    for key in keys:
        params.pop(key, None)
    return params.urlencode()
