from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if mapping else ""


@register.filter
def cssstring(value: object) -> str:
    """Text safe inside a double-quoted CSS string (generated content in @page rules)."""
    text = str(value)
    return "".join(f"\\{ord(c):x} " if c in '"\\\n\r<>' else c for c in text)
