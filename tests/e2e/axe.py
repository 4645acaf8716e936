"""axe-core in the browser journeys: what a page must never have."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING = {"serious", "critical"}


def serious_findings(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it is now, each with up to three of
    the elements it names (empty: the page passes)."""
    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in BLOCKING
    ]
