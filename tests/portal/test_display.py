"""How values read on a page: one date format (the locale's), durations and counts in words,
internationalised domains in Unicode with their punycode in a title, copy buttons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from portal import display


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


# --- Dates: one format, Django's locale formats (portal/formats) ------------------------------


def test_a_day_and_a_time_read_the_same_in_templates_and_in_python(settings):
    settings.TIME_ZONE = "UTC"
    day = date(2026, 12, 29)
    moment = datetime(2026, 11, 29, 14, 5, 33, tzinfo=UTC)
    assert render("{{ d|date }}", d=day) == "29 Dec 2026"
    assert render("{{ d }}", d=day) == "29 Dec 2026"  # a date shown without a filter
    assert render('{{ t|date:"DATETIME_FORMAT" }}', t=moment) == "29 Nov 2026, 14:05"
    assert display.day(day) == "29 Dec 2026"
    assert display.moment(moment) == "29 Nov 2026, 14:05"
    assert display.day(moment) == "29 Nov 2026"
    assert display.day(None) == display.moment(None) == ""


def test_times_are_shown_in_the_portals_time_zone(settings):
    settings.TIME_ZONE = "Europe/Oslo"
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert display.moment(late) == "1 Jan 2027, 00:30"
    assert display.day(late) == "1 Jan 2027"


def test_no_template_writes_a_date_in_its_own_format():
    """Every date on a page goes through the locale's formats: no `|date:"Y-m-d"` for display
    (`'c'` for a machine-readable datetime attribute and `'Y-m-d'` for a date input's value are
    what HTML asks for)."""
    from pathlib import Path

    offenders = []
    for path in Path("templates").rglob("*.html"):
        if "emails" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for used in ('|date:"Y-m-d"', '|date:"Y-m-d H:i"', "|date:'Y-m-d H:i'"):
                if used in line:
                    offenders.append(f"{path}:{number}")
            if "|date:'Y-m-d'" in line and 'type="date"' not in line:
                offenders.append(f"{path}:{number}")
    assert offenders == []


# --- Durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (45, "45 seconds"),
        (60, "1 minute"),
        (600, "10 minutes"),
        (3600, "1 hour"),
        (3900, "1 hour 5 minutes"),
        (7322, "2 hours 2 minutes"),
        (86400 + 3 * 3600 + 59, "1 day 3 hours"),
        (-5, "0 seconds"),
        ("600", "10 minutes"),
        (None, ""),
        ("soon", ""),
    ],
)
def test_durations_read_in_words(seconds, words):
    assert display.duration_words(seconds) == words
    assert render("{{ s|duration }}", s=seconds) == words


# --- Plurals ------------------------------------------------------------------------------------


def test_counts_agree_with_their_noun():
    assert render('{{ n|counted:"endpoint|endpoints" }}', n=1) == "1 endpoint"
    assert render('{{ n|counted:"endpoint|endpoints" }}', n=2) == "2 endpoints"
    assert render('{{ n|counted:"endpoint|endpoints" }}', n=0) == "0 endpoints"
    assert render('{{ n|counted:"invitation" }}', n=3) == "3 invitations"
    assert render('{{ n|counted:"user|users" }}', n=1200) == "1,200 users"


def test_a_consumer_kind_counts_itself():
    from consumers.views import KINDS

    team_vmrs = KINDS["team_vmr"]
    assert render("Delete {{ n|counted:kind }}", n=2, kind=team_vmrs) == "Delete 2 team VMRs"
    assert render("Delete {{ n|counted:kind }}", n=1, kind=team_vmrs) == "Delete 1 team VMR"
    assert render("{{ n|counted:kind }}", n=1, kind=KINDS["endpoint"]) == "1 endpoint"


def test_admin_names_the_settings_models_without_a_double_s():
    from consumers.models import EndpointSettings, TeamVmrSettings

    assert str(EndpointSettings._meta.verbose_name_plural).capitalize() == "Endpoint settings"
    assert str(TeamVmrSettings._meta.verbose_name_plural) == "team VMR settings"


def test_the_seat_message_counts_one_seat_as_one(paid_company):
    from consumers.models import ConsumerKind, seat_family
    from consumers.seats import seat_allocation

    rooms = seat_allocation(company=paid_company, family=seat_family(ConsumerKind.ENDPOINT))
    assert rooms.message.startswith("Uses 1 of 1 remaining ")
    assert rooms.message.endswith(" seat (0 of 1 in use).")
    users = seat_allocation(company=paid_company, family=seat_family(ConsumerKind.USER))
    assert users.message == "Uses 1 of 3 remaining Enterprise User seats (0 of 3 in use)."


# --- Internationalised domains ------------------------------------------------------------------


def test_an_idn_reads_in_unicode_with_its_punycode_in_the_title():
    assert display.unicode_domain("xn--bcher-kva.example") == "bücher.example"
    assert display.unicode_domain("anna.berg@xn--bcher-kva.example") == "anna.berg@bücher.example"
    assert display.unicode_domain("room@acme.onpexip.com") == "room@acme.onpexip.com"
    html = render("{{ d|idn }}", d="anna@xn--bcher-kva.example")
    assert html == '<span class="idn" title="anna@xn--bcher-kva.example">anna@bücher.example</span>'
    assert render("{{ d|idn }}", d="plain.example") == "plain.example"


def test_the_idn_filter_escapes_and_leaves_broken_labels_as_stored():
    assert render("{{ d|idn }}", d="<b>@xn--bcher-kva.example").startswith(
        '<span class="idn" title="&lt;b&gt;@xn--bcher-kva.example">&lt;b&gt;@bücher'
    )
    assert render("{{ d|idn }}", d="<script>") == "&lt;script&gt;"
    assert display.unicode_domain("xn--zz.example") == "xn--zz.example"  # not valid punycode
    assert display.unicode_domain(None) == ""


# --- Copy buttons and truncated values ----------------------------------------------------------


def test_a_copyable_value_is_truncated_with_the_whole_value_in_its_title():
    long = "a-very-long-meeting-room-alias-for-the-board@xn--bcher-kva.example"
    html = render("{% copyable v %}", v=long)
    shown = "a-very-long-meeting-room-alias-for-the-board@bücher.example"
    assert f'<code class="truncate" title="{shown} ({long})">{shown}</code>' in html
    assert f'data-copy="{long}"' in html  # copies the address as stored, as SIP dials it
    assert f'aria-label="Copy {shown}"' in html
    assert 'type="button"' in html


def test_a_copy_button_says_what_it_copies_and_escapes_the_value():
    html = render('{% copy_button v "provisioning URL" %}', v='https://x.example/p?a=1&b="2"')
    assert 'data-copy="https://x.example/p?a=1&amp;b=&quot;2&quot;"' in html
    assert 'aria-label="Copy provisioning URL"' in html
    html = render('{% copyable v "SIP username" truncate=False %}', v="room@a.example")
    assert 'class="truncate"' not in html and 'aria-label="Copy SIP username"' in html


# --- The pager's links --------------------------------------------------------------------------


def test_the_pager_links_keep_the_filters_and_elide_far_pages(settings):
    from django.core.paginator import Paginator

    from portal.web import pager_links

    request = RequestFactory().get("/", {"q": "acme", "sort": "-name", "page": "7"})
    page = Paginator(range(500), 25).page(7)
    links = pager_links(request.GET.copy(), page)
    numbers = [item.get("number", "…") for item in links["pages"]]
    assert numbers == [1, "…", 5, 6, 7, 8, 9, "…", 20]
    current = [item for item in links["pages"] if item.get("current")]
    assert [item["number"] for item in current] == [7]
    assert links["first_url"] == "?q=acme&sort=-name"
    assert links["prev_url"] == "?q=acme&sort=-name&page=6"
    assert links["next_url"] == "?q=acme&sort=-name&page=8"
    assert links["last_url"] == "?q=acme&sort=-name&page=20"
    assert [(s["size"], s["url"]) for s in links["sizes"]] == [
        (25, "?q=acme&sort=-name&per_page=25"),
        (50, "?q=acme&sort=-name&per_page=50"),
        (100, "?q=acme&sort=-name&per_page=100"),
    ]
    first = pager_links(request.GET.copy(), Paginator(range(500), 25).page(1))
    assert first["first_url"] == first["prev_url"] == ""


def test_an_idn_address_reads_in_unicode_on_its_way_through_the_portal(personas, login):
    from django.urls import reverse
    from django.utils import timezone

    from domains.models import CallingDomain

    CallingDomain.objects.create(
        company=personas.company,
        name="xn--bcher-kva.example",
        status="verified",
        verification_method="dns_txt",
        verified_at=timezone.now(),
    )
    client = login(personas.regular)
    add = reverse("consumers:team_vmr_add", args=[personas.company.public_id])
    form = client.get(add).content.decode()
    assert '<option value="xn--bcher-kva.example">bücher.example</option>' in form
    done = client.post(
        add,
        {"display_name": "Board", "alias": "board-room", "domain": "xn--bcher-kva.example"},
        follow=True,
    ).content.decode()
    assert "board-room@bücher.example added as a trial." in done
    assert 'title="board-room@bücher.example (board-room@xn--bcher-kva.example)"' in done
    assert 'data-copy="board-room@xn--bcher-kva.example"' in done
    domains = client.get(reverse("domains:domain_list", args=[personas.company.public_id]))
    assert (
        '<span class="idn" title="xn--bcher-kva.example">bücher.example</span>'
        in domains.content.decode()
    )
