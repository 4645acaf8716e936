"""Every paginated list (portal.web.paginate and templates/includes/pagination.html): page
numbers with … between, first / previous / next / last, a rows-per-page choice that is bounded
and remembered, no 500 for any page or size, and the same number of queries on any page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import add_company


def team_vmrs_url(company) -> str:
    return reverse("consumers:team_vmr_list", args=[company.public_id])


def page_links(html: str) -> list[str]:
    """The page numbers the pagination shows, "…" for a gap, [n] for the current one."""
    nav = re.search(r'<nav class="pagination".*?</nav>', html, re.S)
    assert nav, "no pagination"
    shown = []
    for item in re.findall(r"<li>(.*?)</li>", nav.group(0), re.S):
        if 'class="ellipsis"' in item:
            shown.append("…")
        elif m := re.search(r">(\d+)</a>", item):
            shown.append(f"[{m.group(1)}]" if 'aria-current="page"' in item else m.group(1))
    return shown


@pytest.fixture
def rooms(personas, make, settings):
    settings.PAGE_SIZE = 5
    make.team_vmrs(48)  # 10 pages of 5
    return personas.company


def test_the_pages_are_numbered_with_gaps_and_keep_the_filters(rooms, personas, login):
    client = login(personas.read_only)
    html = client.get(team_vmrs_url(rooms), {"page": 5, "sort": "-alias"}).content.decode()
    assert page_links(html) == ["1", "2", "3", "4", "[5]", "6", "7", "…", "10"]
    assert 'href="?sort=-alias&amp;page=4" rel="prev"' in html
    assert 'href="?sort=-alias&amp;page=6" rel="next"' in html
    assert 'href="?sort=-alias" aria-label="First page"' in html
    assert 'href="?sort=-alias&amp;page=10" aria-label="Last page"' in html
    assert "Page 5 of 10 · 48 in all" in html
    first = client.get(team_vmrs_url(rooms)).content.decode()
    assert page_links(first) == ["[1]", "2", "3", "…", "10"]
    assert '<span class="disabled" aria-hidden="true">‹ Previous</span>' in first


def test_the_page_size_is_a_choice_remembered_for_the_next_lists(rooms, personas, login):
    client = login(personas.read_only)
    response = client.get(team_vmrs_url(rooms), {"per_page": "25", "page": 2})
    page = response.context["page"]
    assert (page.paginator.per_page, page.number, len(page)) == (25, 2, 23)
    html = response.content.decode()
    assert '<a href="?per_page=25" aria-current="true">25</a>' in html
    assert 'href="?per_page=50">50</a>' in html
    assert 'href="?per_page=25" aria-label="First page"' in html
    # The next list, without asking again, shows 25 a page too.
    again = client.get(team_vmrs_url(rooms)).context["page"]
    assert again.paginator.per_page == 25
    endpoints = reverse("consumers:endpoint_list", args=[rooms.public_id])
    assert client.get(endpoints).context["page"].paginator.per_page == 25


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "1000000"},
        {"per_page": "7"},
        {"per_page": "-25"},
        {"per_page": "x"},
        {"per_page": "9" * 5000},
        {"per_page": "25\x00"},
        {"per_page": ["25", "50"]},
        {"page": "0"},
        {"page": "-3"},
        {"page": "9" * 5000},
        {"page": "1e3"},
        {"page": "2", "per_page": "0"},
    ],
)
def test_bad_page_or_size_values_show_a_page_never_a_500(rooms, personas, login, params):
    client = login(personas.read_only)
    response = client.get(team_vmrs_url(rooms), params)
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.per_page in {5, 25, 50, 100}
    assert 1 <= page.number <= page.paginator.num_pages


def test_an_unbounded_size_is_never_remembered(rooms, personas, login):
    client = login(personas.read_only)
    client.get(team_vmrs_url(rooms), {"per_page": "100000"})
    assert client.get(team_vmrs_url(rooms)).context["page"].paginator.per_page == 5


def test_every_page_and_size_runs_the_same_number_of_queries(
    rooms, personas, login, django_assert_max_num_queries
):
    client = login(personas.read_only)
    client.get(team_vmrs_url(rooms))
    with django_assert_max_num_queries(12) as first:
        client.get(team_vmrs_url(rooms))
    limit = len(first.captured_queries)
    for params in ({"page": 7}, {"page": 10}, {"q": "room", "page": 3}, {"page": 999}):
        with django_assert_max_num_queries(limit):
            assert client.get(team_vmrs_url(rooms), params).status_code == 200
    # Choosing a size writes it to the session once; then the same count again.
    client.get(team_vmrs_url(rooms), {"per_page": 50})
    with django_assert_max_num_queries(limit):
        assert client.get(team_vmrs_url(rooms), {"per_page": 50, "page": 1}).status_code == 200


def test_the_company_list_and_the_activity_page_paginate_the_same_way(personas, login, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        add_company(personas.partner, f"Company {i:02}")
    client = login(personas.read_only)
    html = client.get(reverse("portal:company_list"), {"page": 2}).content.decode()
    assert page_links(html) == ["1", "[2]", "3"]
    assert "Rows per page:" in html
    sized = client.get(reverse("portal:company_list"), {"per_page": 25})
    assert sized.context["page"].paginator.per_page == 25
    assert len(sized.context["page"]) == 13  # the twelve and partner A's own company
