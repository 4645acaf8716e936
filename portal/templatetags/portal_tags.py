from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

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
