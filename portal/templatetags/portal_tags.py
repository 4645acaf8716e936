from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from portal import display, web

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if mapping else ""


def _css_escape(c: str) -> str:
    """One character of a double-quoted CSS string: the quote, backslash, line breaks and
    other control characters, and `<` `>` (no `</style>` can end the style element) as CSS
    hex escapes; the space after one ends it."""
    if c in '"\\<>' or ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\{ord(c):x} "
    return c


@register.filter
def cssstring(value: object) -> SafeString:
    """Text safe inside a double-quoted CSS string (generated content in @page rules).

    Escaped for CSS, and so marked safe: HTML escaping on top would show `&amp;` in the PDF,
    as a <style> element's text is not HTML-decoded."""
    return mark_safe("".join(_css_escape(c) for c in str(value)))  # noqa: S308


# --- How values read (portal.display) -----------------------------------------------------------


@register.filter
def idn(value: object) -> str:
    """A domain name or an address in Unicode, with its punycode (as stored, as DNS and SIP use
    it) in a title: `<span title="alias@xn--bcher-kva.example">alias@bücher.example</span>`;
    plain (escaped) text when it has no internationalised label."""
    text = "" if value is None else str(value)
    shown = display.unicode_domain(text)
    if shown == text:
        return text  # autoescaped by the template, like any value
    return format_html('<span class="idn" title="{}">{}</span>', text, shown)


@register.filter
def unicode_domain(value: object) -> str:
    """The Unicode form as plain text (for an attribute, a label, a plain-text email)."""
    return display.unicode_domain(value)


@register.filter
def duration(seconds: object) -> str:
    """600 → "10 minutes"."""
    return display.duration_words(seconds)


@register.filter
def counted(count: object, nouns: Any) -> str:
    """`{{ n|counted:"endpoint|endpoints" }}` → "1 endpoint" / "2 endpoints"; `nouns` may also be
    an object with `singular` and `plural` (a consumer kind's KindPage)."""
    if isinstance(nouns, str):
        singular, _, plural = nouns.partition("|")
        plural = plural or f"{singular}s"
    else:
        singular, plural = nouns.singular, nouns.plural
    return display.counted(count, singular, plural)


@register.inclusion_tag("includes/copyable.html")
def copyable(value: object, label: str = "", truncate: bool = True) -> dict[str, Any]:
    """A value to copy (an address, a DNS record, a SIP username, a URL): shown on one line (cut
    with an ellipsis when long, the whole value in the title) in Unicode where it is a domain,
    with a Copy button that copies it as stored."""
    text = "" if value is None else str(value)
    shown = display.unicode_domain(text)
    title = text if shown == text else f"{shown} ({text})"
    return {
        "value": text,
        "shown": shown,
        "title": title,
        "label": label or shown,
        "truncate": truncate,
    }


@register.inclusion_tag("includes/copy_button.html")
def copy_button(value: object, label: str = "") -> dict[str, Any]:
    """Only the Copy button, beside a value the page shows in its own way."""
    return {"value": "" if value is None else str(value), "label": label}


@register.simple_tag(takes_context=True)
def pager(context: template.Context, page: Any) -> dict[str, Any]:
    """What the pagination include shows for a page of a list: links to the first, previous,
    nearby (with … between), next and last pages, and the page-size choice, each keeping the
    query string's other parameters (filters, sort)."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    return web.pager_links(params, page)
