"""How values read on a page: domains in Unicode, durations and counts in words, dates in the
locale's format. The template filters (portal.templatetags.portal_tags) and messages written in
Python call these, so that a value reads the same wherever it appears."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import idna
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

# Choices of rows per page a list offers (with the page's own default, see portal.web).
PAGE_SIZE_CHOICES = (25, 50, 100)


def unicode_domain(value: object) -> str:
    """A domain name, or an address `alias@domain`, with its IDNA A-labels (`xn--…`) shown as
    Unicode; the value unchanged when it has none or one does not decode (it is shown as
    stored rather than guessed at). A label that could pass for a Latin one stays in punycode
    (`_looks_latin`)."""
    text = "" if value is None else str(value)
    if "xn--" not in text.lower():
        return text
    local, at, domain = text.rpartition("@")
    labels = []
    for label in domain.split("."):
        if label.lower().startswith("xn--"):
            try:
                decoded = idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                return text
            label = label if _looks_latin(decoded) else decoded
        labels.append(label)
    return f"{local}{at}{'.'.join(labels)}"


# Cyrillic letters that read as Latin ones (Chromium's IDN spoof checks use the same list).
_LATIN_LOOKALIKES = frozenset("асԁеһіјӏорԛѕԝхуъьҽпгѵѡ")
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


def _looks_latin(label: str) -> bool:
    """A label that could pass for a Latin one (a spoof of "apple"): it mixes Latin, Cyrillic
    or Greek letters (xn--pple-43d), or is Cyrillic made only of letters that look Latin
    (xn--80ak6aa92e).
    It is shown as stored, in punycode, as browsers do."""
    letters = [ch for ch in label if ch.isalpha()]
    scripts = {unicodedata.name(ch, "?").split(" ")[0] for ch in letters}
    if len(scripts & _CONFUSABLE_SCRIPTS) > 1:
        return True
    return scripts == {"CYRILLIC"} and all(ch in _LATIN_LOOKALIKES for ch in letters)


def duration_words(seconds: object) -> str:
    """A duration as a person says it: "45 seconds", "10 minutes", "1 hour 5 minutes",
    "2 days 3 hours" (the two largest units; seconds only under a minute)."""
    try:
        total = max(0, int(seconds))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return ""
    if total < 60:
        return ngettext("%(n)d second", "%(n)d seconds", total) % {"n": total}
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        ngettext("%(n)d day", "%(n)d days", days) % {"n": days} if days else "",
        ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours} if hours else "",
        ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes} if minutes else "",
    ]
    return " ".join([part for part in parts if part][:2])


def counted(count: object, singular: str, plural: str) -> str:
    """ "1 endpoint", "2 endpoints", "1,200 endpoints": the number and the noun that agrees."""
    try:
        number = int(count)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        number = 0
    noun = ngettext(singular, plural, number)
    return gettext("%(number)s %(noun)s") % {
        "number": formats.number_format(number, force_grouping=True),
        "noun": noun,
    }


def day(value: date | datetime | None) -> str:
    """A day in the locale's DATE_FORMAT ("29 Dec 2026"); a time of day is dropped, in the
    current time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


def moment(value: datetime | None) -> str:
    """A time in the locale's DATETIME_FORMAT ("29 Dec 2026, 14:05"), in the current time zone."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")
