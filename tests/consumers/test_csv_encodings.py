"""The CSV import reads what Excel saves (issue 17, item 8): UTF-8 with or without a BOM, UTF-16
with a BOM (LE or BE) and Windows-1252, separated by commas or semicolons; the page says which it
read, and a file it cannot read is a clear form error, never a 500."""

from __future__ import annotations

import codecs

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consumers.csv_input import csv_decode, csv_delimiter, csv_reading
from consumers.models import BatchJob, Consumer, Invitation

ROWS = [
    ("Zoë Müller", "zoe@acme.example", "zoe.muller"),
    ("Renée O’Brien", "renee@acme.example", "renee.obrien"),
]

ENCODINGS = {
    "UTF-8": lambda text: text.encode("utf-8"),
    "UTF-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "UTF-16 LE": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "UTF-16 BE": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "Windows-1252": lambda text: text.encode("cp1252"),
}


def csv_text(separator: str, *, header: bool = True) -> str:
    lines = [separator.join(("Full name", "Email", "Alias"))] if header else []
    lines += [separator.join(row) for row in ROWS]
    return "\r\n".join(lines) + "\r\n"  # Excel ends its lines with CRLF


def upload(client, company, content: bytes, **extra):
    return client.post(
        reverse("consumers:user_bulk_invite", args=[company.public_id]),
        {"file": SimpleUploadedFile("users.csv", content, content_type="text/csv"), **extra},
    )


# --- the rules, one function each ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_excel_encoding_is_read_and_named(encoding):
    text = csv_text(",")
    decoded = csv_decode(ENCODINGS[encoding](text))
    assert decoded.text == text and decoded.encoding == encoding


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        ("a,b,c\nd,e,f\n", ","),
        ("a;b;c\nd;e;f\n", ";"),
        ('"Müller, Zoë";zoe@x.example;zoe.muller\n', ";"),
        ('"Müller; Zoë",zoe@x.example,zoe.muller\n', ","),
        ("room-one@x.example\nroom-two@x.example\n", ","),  # one column: a comma by default
        ("", ","),
    ],
)
def test_the_separator_is_sniffed_comma_or_semicolon(text, separator):
    assert csv_delimiter(text) == separator


def test_what_was_read_is_said_in_words():
    assert csv_reading(text="a;b\n", encoding="Windows-1252") == (
        "Read as Windows-1252, separated by semicolons."
    )
    assert csv_reading(text="a,b\n") == "Read separated by commas."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, r"Excel workbook \(\.xlsx\)"),
        (bytes(range(0x80, 0x100)) * 3, "encoding could not be read"),
        (codecs.BOM_UTF8 + b"caf\xe9,x\n", "not valid UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE + b"a", "not valid UTF-16 LE"),
        ("a,b\n".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
    ],
    ids=["xlsx", "binary", "bad utf-8 after a BOM", "odd utf-16", "utf-16 without BOM"],
)
def test_unreadable_bytes_are_a_clear_error(content, message):
    with pytest.raises(ValidationError, match=message) as raised:
        csv_decode(content)
    assert "Save As" in raised.value.messages[0], "it says what to do"


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", ";"], ids=["comma", "semicolon"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_bulk_invite_reads_every_excel_csv_and_says_how(personas, login, encoding, separator):
    client = login(personas.regular)
    response = upload(client, personas.company, ENCODINGS[encoding](csv_text(separator)))
    assert response.status_code == 200
    page = response.content.decode()
    plan = response.context["plan"]
    assert plan is not None and plan.ok, page
    assert [(r.full_name, r.email, r.alias) for r in plan.rows] == ROWS
    assert "Zoë Müller" in page and "Renée O’Brien" in page
    words = {",": "commas", ";": "semicolons"}[separator]
    assert f"Read as {encoding}, separated by {words}." in page
    assert not Consumer.objects.exists(), "the preview creates nothing"


def test_confirming_a_windows_1252_semicolon_file_invites_the_names_as_written(personas, login):
    client = login(personas.regular)
    preview = upload(client, personas.company, ENCODINGS["Windows-1252"](csv_text(";")))
    text = preview.context["form"].initial["text"]
    response = client.post(
        reverse("consumers:user_bulk_invite", args=[personas.company.public_id]),
        {"text": text, "confirm": "1"},
    )
    assert response.status_code == 302
    invited = dict(Invitation.objects.values_list("email", "full_name"))
    assert invited == {"zoe@acme.example": "Zoë Müller", "renee@acme.example": "Renée O’Brien"}


def test_pasted_semicolon_rows_are_read_and_said(personas, login):
    client = login(personas.regular)
    response = client.post(
        reverse("consumers:user_bulk_invite", args=[personas.company.public_id]),
        {"text": csv_text(";", header=False)},
    )
    assert response.context["plan"].ok
    assert "Read separated by semicolons." in response.content.decode()


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
        bytes(range(0x80, 0x100)) * 3,
        codecs.BOM_UTF16_LE + "a\x00b,c@x.example,alias-one\n".encode("utf-16-le"),
    ],
    ids=["xlsx", "binary", "NUL in UTF-16"],
)
def test_an_unreadable_file_is_a_form_error_and_creates_nothing(personas, login, content):
    response = upload(login(personas.regular), personas.company, content)
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and ("Save As" in errors[0] or "NUL" in errors[0])
    assert response.context["plan"] is None
    assert not Consumer.objects.exists()


def test_the_batch_tool_reads_a_semicolon_utf16_address_list(personas, login, make):
    rooms = make.team_vmrs(2)
    text = "Address;Note\r\n" + "".join(f"{r.address};old room\r\n" for r in rooms)
    response = login(personas.regular).post(
        reverse("consumers:batch_new", args=[personas.company.public_id]),
        {
            "kind": "team_vmr",
            "action": "delete",
            "source": "list",
            "file": SimpleUploadedFile("rooms.csv", text.encode("utf-16")),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = BatchJob.objects.get()
    assert sorted(item.label for item in batch.items.filter(will_run=True)) == sorted(
        r.address for r in rooms
    )


def test_another_partner_gets_404_on_the_csv_import(personas, login):
    response = upload(
        login(personas.other_manager), personas.company, ENCODINGS["UTF-8"](csv_text(","))
    )
    assert response.status_code == 404
