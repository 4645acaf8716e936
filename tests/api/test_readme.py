"""The README's API example works as written, against a running portal: a token from the API
tokens page, then the example's own code with httpx (only its base URL and token filled in)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from django.test import Client

from api.models import ApiToken
from consumers.models import Consumer
from domains.models import CallingDomain

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_api_example() -> str:
    api_section = README.read_text().split("\n## API\n", 1)[1]
    return re.search(r"```python\n(.*?)```", api_section, re.S).group(1)


def test_the_readme_example_runs_against_the_portal(live_server, personas, dns_server):
    manager = Client()
    manager.force_login(personas.manager)
    page = manager.post(
        "/api-tokens/new/", {"name": "README", "scopes": ["read", "write"], "expires_in": "30"}
    )
    secret = page.context["secret"]
    code = (
        readme_api_example()
        .replace("https://portal.example.com", live_server.url)
        .replace("pp_…", secret)
    )
    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), namespace)
    namespace["api"].close()  # its kept-alive connection would hold a server thread
    printed = out.getvalue()
    vmr = Consumer.objects.get(company=personas.company, kind="team_vmr")
    assert vmr.address in printed
    domain = CallingDomain.objects.get(company=personas.company, name="video.example.com")
    assert domain.verification_token in printed
    assert "pending" in printed
    assert ApiToken.objects.get(name="README").last_used_at is not None
