"""The handout: the portal's PDF of a company's consumers beside bare WeasyPrint rendering the
same HTML."""

from __future__ import annotations

from bench.config import ROOT
from bench.harness import timed_together


def measure_handout(seeded: dict[str, object], results: dict[str, object]) -> None:
    from weasyprint import HTML

    from consumers.models import Consumer
    from handouts import services as handouts

    big = seeded["big"]
    html = handouts.handout_render_html(company=big)
    results["handout_pdf"] = {
        **timed_together(
            {
                "portal": lambda: handouts.handout_render_pdf(company=big),
                "floor": lambda: HTML(string=html, base_url=str(ROOT)).write_pdf(),
            },
            2,
        ),
        "consumers": Consumer.objects.filter(company=big, status="active").count(),
    }
