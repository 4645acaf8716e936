"""The partner API: server time of its consumer list beside its floor (bench.floors)."""

from __future__ import annotations

from bench.measure.pages import measure_page


def measure_api(seeded: dict[str, object], results: dict[str, object]) -> None:
    """`GET /api/v1/companies/{id}/consumers` on the big company (20,000 users among its
    30,000 consumers), first page, with a read token as an integrating partner would call it;
    timed in turns with the same rows as one SQL query serialised to JSON."""
    from django.test import Client

    from api.services import api_token_create

    big = seeded["big"]
    _token, secret = api_token_create(actor=seeded["manager"], name="bench", scopes=["read"])
    # The API's client has its token only (no session cookie, as an integration calls it);
    # the floor is signed in as the pages' floors are (Django's own session, not a layer).
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    floor_client = Client()
    floor_client.force_login(seeded["manager"])
    results["api_consumers"] = measure_page(
        client,
        f"/api/v1/companies/{big.public_id}/consumers",
        f"/floor/api/consumers/{big.pk}/",
        floor_client=floor_client,
    )
