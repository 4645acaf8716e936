"""English (United Kingdom), as the portal writes it: "29 Dec 2026" and "29 Dec 2026, 14:05"
(a 24-hour clock, which reads the same to partners everywhere)."""

from __future__ import annotations

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
