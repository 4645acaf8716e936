"""The pages: server time of the portal's pages beside their floor views."""

from __future__ import annotations

from collections.abc import Callable

from bench.config import RUNS
from bench.harness import count_queries, timed_together

PAGE_RUNS = RUNS * 20  # a page takes milliseconds: many runs give a steady median


def measure_page(
    client,  # type: ignore[no-untyped-def]
    url: str,
    floor_url: str,
    layers: dict[str, str] | None = None,
    before_each: Callable[[], object] | None = None,
    floor_client=None,  # type: ignore[no-untyped-def]
) -> dict[str, object]:
    """Server time through Django's test client (the whole request handling), the portal's
    page beside its floor view, timed in turns; and the SQL queries of each.

    `layers`: more views timed in the same turns (the floor with portal layers added).
    `before_each`: run before each request of the page, outside its timing.
    `floor_client`: the floor's own client, when it signs in otherwise than the page (the
    API's token beside the floor's session)."""
    floor_client = floor_client or client

    def page() -> object:
        return client.get(url)

    warm_up(client, [url, *(layers or {}).values()])
    warm_up(floor_client, [floor_url])
    timings = timed_together(
        {
            "portal": page,
            "floor": lambda: floor_client.get(floor_url),
            **{name: (lambda u=u: client.get(u)) for name, u in (layers or {}).items()},
        },
        PAGE_RUNS,
        prepare={"portal": before_each} if before_each else None,
    )
    if before_each:
        before_each()
    result: dict[str, object] = {
        "portal": timings["portal"],
        "floor": timings["floor"],
        "queries": count_queries(page),
        "floor_queries": count_queries(lambda: floor_client.get(floor_url)),
    }
    if layers:
        result["steps"] = {
            "floor": timings["floor"],
            **{name: timings[name] for name in layers},
            "the page": timings["portal"],
        }
    return result


def warm_up(client, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
    for target in urls:
        response = client.get(target)
        assert response.status_code == 200, (target, response.status_code)


def measure_pages(seeded: dict[str, object], results: dict[str, object]) -> None:
    from django.test import Client

    from portal.counts_cache import forget_company_counts

    big, partner = seeded["big"], seeded["partner"]
    client = Client()
    client.force_login(seeded["manager"])
    users_url = f"/companies/{big.public_id}/users/"
    floor_users = f"/floor/users/{big.pk}/"
    results["users_tab"] = measure_page(client, users_url, floor_users)
    results["users_search"] = measure_page(
        client, users_url + "?q=user1234", floor_users + "?q=user1234"
    )
    floor_companies = f"/floor/companies/{partner.pk}/"
    # With the floor, the floor with the portal's layers added one at a time, to show where
    # the page's time goes: the access check (membership and role), then the layout.
    results["company_list"] = measure_page(
        client,
        "/companies/",
        floor_companies,
        layers={
            "floor + access check": floor_companies + "with-access/",
            "floor + access check + layout": floor_companies + "in-layout/",
        },
    )
    # The list's first view after one of the partner's companies or licences changed: its tab
    # counts are counted afresh (portal.counts_cache). The change drops the old counts; that
    # is the change's cost, so it happens before each view, untimed.
    results["company_list_recount"] = measure_page(
        client,
        "/companies/",
        floor_companies,
        before_each=lambda: forget_company_counts([partner.public_id]),
    )
