"""Small helpers shared by every app's views."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone

from .display import PAGE_SIZE_CHOICES

# What no stored text or query may hold: the C0 and C1 control characters (NUL among them, which
# PostgreSQL cannot store) and lone surrogates (which cannot be encoded). Callers that allow
# white space fold it to plain spaces first.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A free-text search longer than this is cut: no address or name is longer.
MAX_QUERY_LENGTH = 200
# Past this page number, SQL's OFFSET would overflow: such a page is treated as past the end.
MAX_PAGE_NUMBER = 10**9
# The query parameter that picks the rows per page, and where the choice is remembered.
PAGE_SIZE_PARAM = "per_page"
PAGE_SIZE_SESSION_KEY = "portal.page_size"
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


def query_uuid(request: HttpRequest, name: str) -> str:
    """The query string's `name` as a UUID's canonical text; "" (ignored) when it is not one."""
    try:
        return str(uuid.UUID(query_param(request, name)))
    except ValueError:
        return ""


def day_start(day: date | None) -> datetime | None:
    """The start of `day` in the current time zone (None for None): a day filter's bound."""
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


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


def confirm(
    request: HttpRequest,
    service: Callable[[], Any],
    success: str,
    *,
    then: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A page that asks before a change (a delete, a revoke): GET shows `template`; POST acts
    (`act`) and goes to the URL named `then`, with the outcome as a message."""
    if request.method == "POST":
        act(request, service, success)
        return redirect(then)
    return render(request, template, context)


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
    default = per_page or settings.PAGE_SIZE
    per_page = page_size(request, default)
    paginator = Paginator(queryset, per_page)
    paginator.default_per_page = default  # type: ignore[attr-defined]  # for pager_links
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


def page_size_choices(default: int) -> list[int]:
    """The rows per page a list offers: the usual choices and the page's own default."""
    return sorted({*PAGE_SIZE_CHOICES, default})


def page_size(request: HttpRequest, default: int) -> int:
    """Rows per page: `?per_page=` when it is one of the choices (remembered in the session for
    the next lists), else the one chosen before, else the page's default. Anything else, a
    word or a million, is ignored."""
    choices = page_size_choices(default)
    try:
        chosen = int(query_param(request, PAGE_SIZE_PARAM) or 0)
    except ValueError:
        chosen = 0
    session = getattr(request, "session", None)
    if chosen in choices:
        if session is not None and session.get(PAGE_SIZE_SESSION_KEY) != chosen:
            session[PAGE_SIZE_SESSION_KEY] = chosen
        return chosen
    remembered = session.get(PAGE_SIZE_SESSION_KEY) if session is not None else None
    return remembered if remembered in choices else default


def pager_links(params: QueryDict, page: Page) -> dict[str, Any]:
    """The links of a list's pagination, each keeping the other query parameters: first,
    previous, the pages near this one and at both ends (… between), next, last, and one per page
    size (back to page 1)."""

    def url(**change: int | None) -> str:
        query = params.copy()
        for key, value in change.items():
            query.pop(key, None)
            if value is not None:
                query[key] = str(value)
        return f"?{query.urlencode()}" if query else "?"

    paginator, number = page.paginator, page.number
    last = paginator.num_pages
    pages = [
        {"number": n, "url": url(page=n), "current": n == number}
        if isinstance(n, int)
        else {"ellipsis": True}
        for n in paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)
    ]
    per_page = paginator.per_page
    choices = page_size_choices(getattr(paginator, "default_per_page", per_page))
    return {
        "first_url": url(page=None) if number > 1 else "",
        "prev_url": url(page=number - 1 if number > 2 else None) if number > 1 else "",
        "next_url": url(page=number + 1) if number < last else "",
        "last_url": url(page=last) if number < last else "",
        "pages": pages,
        "sizes": [
            {"size": size, "url": url(page=None, per_page=size), "current": size == per_page}
            for size in choices
        ],
        "show_sizes": paginator.count > choices[0],
    }


def querystring_without(request: HttpRequest, *keys: str) -> str:
    params = request.GET.copy()
    for key in keys:
        params.pop(key, None)
    return params.urlencode()
