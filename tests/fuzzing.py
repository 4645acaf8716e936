"""The pieces of the fuzzing harness (tests/test_fuzz.py): what a view takes, found in the pages
themselves; Hypothesis strategies of hostile input; request encoding that can send what a
browser or a script can (invalid UTF-8, lone surrogates, repeated keys); and a fingerprint of the
rows the portal writes."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import Resolver404, resolve
from hypothesis import strategies as st

# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    """`unit` repeated `times`: a long value that prints short in Hypothesis' report."""

    unit: str | bytes
    times: int

    def __repr__(self) -> str:
        return f"{self.unit!r} * {self.times}"

    def expand(self) -> str | bytes:
        return self.unit * self.times


@dataclass(frozen=True)
class Multi:
    """The same key sent several times (a list where a form expects one value)."""

    values: tuple[Any, ...]

    def __repr__(self) -> str:
        return f"Multi{self.values!r}"


@dataclass(frozen=True)
class Upload:
    filename: str
    content: tuple[bytes | Repeat, ...]
    content_type: str = "text/csv"

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content!r})"

    def data(self) -> bytes:
        return b"".join(to_bytes(part) for part in self.content)


def to_bytes(value: Any) -> bytes:
    """A value as the bytes a client sends: text as UTF-8, lone surrogates as the bytes a
    careless encoder writes (CESU-8), which are not valid UTF-8."""
    if isinstance(value, Repeat):
        value = value.expand()
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def values_of(value: Any) -> tuple[Any, ...]:
    return value.values if isinstance(value, Multi) else (value,)


@dataclass
class FuzzRequest:
    method: str
    query: dict[str, Any] = field(default_factory=dict)
    form: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)
    body: Any = None  # bytes or Repeat: sent as is (APIs)
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def path(self, url: str) -> str:
        pairs = [(k, v) for k, value in self.query.items() for v in values_of(value)]
        return f"{url}?{urlencode(pairs)}" if pairs else url

    def encoded_body(self) -> tuple[bytes, str]:
        if self.body is not None:
            return to_bytes(self.body), self.content_type or "application/octet-stream"
        pairs = [(k, v) for k, value in self.form.items() for v in values_of(value)]
        if self.files:
            return multipart(pairs, self.files)
        return urlencode(pairs).encode("ascii"), "application/x-www-form-urlencoded"


def urlencode(pairs: Iterable[tuple[str, Any]]) -> str:
    return "&".join(
        f"{quote_from_bytes(to_bytes(k), safe='')}={quote_from_bytes(to_bytes(v), safe='')}"
        for k, v in pairs
    )


BOUNDARY = "fuzz-boundary-7d1f"


def multipart(pairs: list[tuple[str, Any]], files: dict[str, Upload]) -> tuple[bytes, str]:
    """multipart/form-data written by hand: Django's encoder refuses what is not valid text."""

    def part(disposition: bytes, content: bytes, content_type: bytes = b"") -> bytes:
        head = b"Content-Disposition: form-data; " + disposition + b"\r\n"
        if content_type:
            head += b"Content-Type: " + content_type + b"\r\n"
        return b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n" + content + b"\r\n"

    def quoted(value: str) -> bytes:
        return (
            b'"'
            + to_bytes(value).replace(b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"")
            + b'"'
        )

    body = b"".join(part(b"name=" + quoted(k), to_bytes(v)) for k, v in pairs)
    for name, upload in files.items():
        disposition = b"name=" + quoted(name) + b"; filename=" + quoted(upload.filename)
        body += part(disposition, upload.data(), upload.content_type.encode())
    body += b"--" + BOUNDARY.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={BOUNDARY}"


# --- what a view takes: read from the portal's own pages ---------------------------------------


@dataclass
class Field:
    name: str
    kinds: set[str] = field(default_factory=set)
    options: list[str] = field(default_factory=list)  # select, radio, checkbox values
    values: list[str] = field(default_factory=list)  # values a page filled in

    def merge(self, other: Field) -> None:
        self.kinds |= other.kinds
        self.options += [o for o in other.options if o not in self.options]
        self.values += [v for v in other.values if v not in self.values]


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, f: Field) -> None:
        if f.name in self.fields:
            self.fields[f.name].merge(f)
        else:
            self.fields[f.name] = f


class PageParser(HTMLParser):
    """The forms of a page (inputs outside their form with `form="id"` included), its links and
    its htmx requests."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._by_id: dict[str, Form] = {}
        self._current: Form | None = None
        self._orphans: list[tuple[str, Field]] = []
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for attr in ("hx-get", "hx-post"):
            if a.get(attr):
                method = attr.removeprefix("hx-")
                self.forms.append(Form(method=method, action=a[attr]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._current = Form(method=(a.get("method") or "get").lower(), action=a.get("action"))
            self.forms.append(self._current)
            if a.get("id"):
                self._by_id[a["id"]] = self._current
        elif tag in ("input", "select", "textarea", "button") and a.get("name"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            f = Field(name=a["name"], kinds={kind})
            if kind in ("checkbox", "radio"):
                f.options.append(a.get("value", "on"))
            elif "value" in a:
                f.values.append(a["value"])
            if tag == "select":
                self._select = f
            if a.get("form"):
                self._orphans.append((a["form"], f))
            elif self._current is not None:
                self._current.add(f)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None

    def close(self) -> None:
        super().close()
        for form_id, f in self._orphans:
            if form_id in self._by_id:
                self._by_id[form_id].add(f)


def view_name_of(url: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(the URL name a same-site URL resolves to, its query), or None."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if not match.url_name:
        return None
    return match.view_name, parse_qsl(parts.query, keep_blank_values=True)


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class ViewInputs:
    """What the pages say one view takes."""

    post_fields: dict[str, Field] = field(default_factory=dict)
    query_keys: dict[str, set[str]] = field(default_factory=dict)  # key -> values seen
    source_pages: set[str] = field(default_factory=set)  # pages with a form posting to it

    def add_post(self, f: Field) -> None:
        if f.name in self.post_fields:
            self.post_fields[f.name].merge(f)
        else:
            self.post_fields[f.name] = Field(f.name, set(f.kinds), list(f.options), list(f.values))

    def add_query(self, key: str, value: str) -> None:
        seen = self.query_keys.setdefault(key, set())
        if not UUID_RE.search(value):  # ids change from test to test: only stable values
            seen.add(value)

    @property
    def file_fields(self) -> list[str]:
        return sorted(n for n, f in self.post_fields.items() if "file" in f.kinds)


def read_page(page_name: str, page_url: str, html: str, into: dict[str, ViewInputs]) -> None:
    """Add what one page's forms and links send, to the views they send it to."""
    parser = PageParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        target = view_name_of(urljoin(page_url, form.action or page_url))
        if target is None:
            continue
        name, query = target
        inputs = into.setdefault(name, ViewInputs())
        for key, value in query:
            inputs.add_query(key, value)
        if form.method == "post":
            inputs.source_pages.add(page_name)
            for f in form.fields.values():
                inputs.add_post(f)
        else:
            for f in form.fields.values():
                for value in f.options + f.values or [""]:
                    inputs.add_query(f.name, value)
    for href in parser.links:
        target = view_name_of(urljoin(page_url, href))
        if target is not None:
            name, query = target
            inputs = into.setdefault(name, ViewInputs())
            for key, value in query:
                inputs.add_query(key, value)


# --- the fingerprint of what the portal stores ---------------------------------------------------


@functools.cache
def tracked_tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every model of the project's own apps, and the users."""
    base = Path(settings.BASE_DIR).resolve()
    models = [get_user_model()]
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and ".venv" not in path.parts:
            models.extend(config.get_models(include_auto_created=True))
    return sorted(
        {
            (m._meta.db_table, m._meta.pk.column)
            for m in models
            if m._meta.managed and not m._meta.proxy
        }
    )


def fingerprint() -> dict[str, tuple[int, int]]:
    """Per table: the row count and a hash of every row's content (PostgreSQL), so an insert, a
    delete and an update all show; on SQLite the row count and the highest id."""
    qn = connection.ops.quote_name
    tables = tracked_tables()
    if connection.vendor == "postgresql":
        digest = "coalesce(sum(hashtextextended(t::text, 0)), 0)"
        parts = [f"SELECT %s, count(*), {digest} FROM {qn(table)} t" for table, _ in tables]
    else:
        parts = [
            f"SELECT %s, count(*), coalesce(max(t.{qn(pk)}), 0) FROM {qn(table)} t"
            for table, pk in tables
        ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [table for table, _ in tables])
        return {table: (int(count), int(digest)) for table, count, digest in cursor.fetchall()}


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# --- strategies ---------------------------------------------------------------------------------

NUL = "\x00"
# Characters that break naive code: NUL and control characters, bidirectional overrides and
# marks, zero-width characters, line and paragraph separators, lone surrogates (sent as the bytes
# a careless encoder writes), astral characters, full-width and case-mapping oddities, and the
# characters that start a spreadsheet formula or break CSV, HTML or SQL quoting.
SPECIAL_CHARS = (
    *(NUL, "\x01", "\x1b", "\x7f", "\x85", "\t", "\r", "\n", "\u2028", "\u2029"),
    *("\u202e", "\u202d", "\u200f", "\u200e", "\u2066", "\u061c"),
    *("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"),
    *("\ud800", "\udfff", "\U0001f600", "\U0010ffff", "\ufffd", "\uffff"),
    *("ｅ", "．", "＠", "İ", "ß", "ﬁ", "Å", "Ω", "١", "𝟗"),
    *("'", '"', "`", "<", ">", "&", ";", ",", "%", "\\", "/", "=", "+", "-", "@", "_", "."),
)
FIXED_TEXT = (
    "",
    " ",
    "\t\r\n",
    NUL,
    "a\x00b",
    "null",
    "None",
    "undefined",
    "true",
    "[]",
    "{}",
    "[object Object]",
    "0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "-0",
    "0x1F",
    "1_000",
    "١٢٣",
    "９",
    "9" * 40,
    '=HYPERLINK("http://x.example")',
    "+1-2",
    "@SUM(A1)",
    "\u202egnp.exe",
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "%00",
    "%s%n",
    "{{ 7*7 }}",
    "../../etc/passwd",
)
PLAUSIBLE_TEXT = (
    "fuzz.user@example.com",
    "Fuzz.User@Example.COM",
    "a@b",
    "@example.com",
    "fuzz-alias-1",
    "Fuzz_Alias.2",
    "x",
    "room",
    "example.org",
    "walk.example",
    "xn--a.com",
    "xn--mnchen-3ya.example",
    "münchen.example",
    "ｅｘａｍｐｌｅ．com",
    "1.2.3.4",
    "[::1]",
    "-bad-.example",
    "a..b.example",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "O'Brien & Sons <Ltd>",
    "Ελληνικά",
    "مرحبا",
    "1234",
    "12345678901234567890123",
)
LONG_LENGTHS = (255, 256, 1_001, 65_536, 131_073)
MALFORMED_DATES = (
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-2026-01-01",
    "2026-1-1",
    "31/12/2026",
    "２０２６-０１-０１",
    "2026-01-01T25:61",
    "2026-01-01\x00",
    "today",
)
MALFORMED_UUIDS = (
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "72f988bf86f141af91ab2d7cd011db47",
    "72f988bf-86f1-41af-91ab-2d7cd011db4",
    "72f988bf-86f1-41af-91ab-2d7cd011db47-",
    "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
    "72f988bf-86f1-41af-91ab-2d7cd011db4\x00",
    "not-a-uuid",
    "1",
)
HUGE_NUMBERS = (
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 400,
    "1e400",
    "-1",
    "0",
)


def text() -> st.SearchStrategy[Any]:
    """Hostile text: short mixes of special and arbitrary characters, fixed nasties, very long
    values."""
    chars = st.one_of(st.sampled_from(SPECIAL_CHARS), st.characters())
    return st.one_of(
        st.sampled_from(FIXED_TEXT),
        st.text(alphabet=chars, max_size=24),
        st.builds(
            Repeat,
            st.sampled_from(("a", NUL, "é", "\U0001f600", "\u202e")),
            st.sampled_from(LONG_LENGTHS),
        ),
    )


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HUGE_NUMBERS),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def dates() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(MALFORMED_DATES), st.dates().map(lambda d: d.isoformat()))


def uuids(known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    strategies = [st.sampled_from(MALFORMED_UUIDS), st.uuids().map(str)]
    if known := tuple(known):  # in the caller's order: the same draw picks the same object
        strategies.append(st.sampled_from(known))
    return st.one_of(*strategies)


def any_value(known_ids: Iterable[str] = ()) -> st.SearchStrategy[Any]:
    """Any kind of hostile value, raw bytes (not UTF-8) included."""
    return st.one_of(
        text(),
        st.sampled_from(PLAUSIBLE_TEXT),
        numbers(),
        dates(),
        uuids(known_ids),
        st.binary(max_size=12),
    )


def field_value(f: Field, known_ids: Iterable[str] = ()) -> st.SearchStrategy[Any]:
    """A hostile value for one form field: any kind of value, or one the page offers with a NUL
    after it; sometimes several values under the same key."""
    good = sorted(set(f.options + f.values))
    one = st.one_of(
        any_value(known_ids),
        st.sampled_from(good).map(lambda v: v + NUL) if good else st.nothing(),
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3).map(lambda v: Multi(tuple(v))))


WORDS = st.from_regex(r"[a-z][a-z0-9]{5,11}", fullmatch=True)
VALID_DEFAULTS = {  # the value of the fixed "valid" example, by the plausible() rule it follows
    "email": "fuzz.valid@example.com",
    "digits": "482913",
    "id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "text": "fuzzvalid1.example.org",
}


def _rule(f: Field) -> str:
    name = f.name.lower()
    if "email" in f.kinds or "email" in name:
        return "email"
    if "number" in f.kinds or "pin" in name or name == "code":
        return "digits"
    if "uuid" in f.kinds or name.endswith(("_id", "ids")):
        return "id"
    return "text"


def plausible(f: Field, known_ids: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """A value the form would likely accept: one the page offers, else one made from the field's
    type and name (an address for email fields, digits for PINs, an id of this test's objects
    for id fields, a name that is also a valid alias and domain name for the rest)."""
    if good := sorted(set(f.options + f.values)):
        return st.sampled_from(good)
    rule = _rule(f)
    if rule == "email":
        return WORDS.map(lambda w: f"{w}@example.com")
    if rule == "digits":
        return st.from_regex(r"[0-9]{4,8}", fullmatch=True)
    if rule == "id" and (known := tuple(known_ids)):
        return st.sampled_from(known)
    return st.one_of(WORDS, WORDS.map(lambda w: f"{w}.example.org"))


def valid_value(f: Field) -> str:
    """The first value the page offers that is not blank, else the rule's default."""
    return next((v for v in f.options + f.values if v.strip()), VALID_DEFAULTS[_rule(f)])


# Query parameters the list and detail pages read, tried on every view besides those the pages'
# own links and search forms use.
QUERY_KEYS = (
    "q",
    "page",
    "sort",
    "status",
    "state",
    "from",
    "to",
    "kind",
    "show",
    "pending",
    "action",
    "export",
    "download",
    "next",
)
# Names a form might read without the page showing them (the batch tool's selection).
EXTRA_FIELDS = ("ids", "source", "all_matching", "confirm", "kind", "next", "csrfmiddlewaretoken")


def query_value(seen: Iterable[str], known_ids: Iterable[str]) -> st.SearchStrategy[Any]:
    seen = sorted(seen)
    one = st.one_of(
        st.sampled_from(seen) if seen else st.nothing(),
        any_value(known_ids),
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3).map(lambda v: Multi(tuple(v))))


def queries(inputs: ViewInputs, known_ids: Iterable[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = sorted(set(QUERY_KEYS) | set(inputs.query_keys))
    return st.fixed_dictionaries(
        {},
        optional={k: query_value(inputs.query_keys.get(k, ()), known_ids) for k in keys},
    )


def csv_files() -> st.SearchStrategy[Upload]:
    """Uploads for the views that take files: NUL bytes, text that is not UTF-8 (or is UTF-16),
    a single cell larger than Python's csv field limit, quoted cells across lines, formulas."""
    fixed = st.sampled_from(
        (
            (b"Ann,ann@example.com,ann.alias\n",),
            (b"\x00\x00\x00",),
            (b"Ann,ann@example.com,ann\x00alias\n",),
            (b"\xff\xfe\xfa not utf-8\n",),
            ("Ann,ann@example.com,ann.alias\n".encode("utf-16"),),
            (b"\xef\xbb\xbfName,Email,Alias\nAnn,ann@example.com,ann.alias\n",),
            (b'"', Repeat(b"a", 131_073), b'",b@example.com,alias.b\n'),
            (Repeat(b"x", 131_073), b"\n"),
            (b'"first.address@example.com\nsecond@example.com",x,y\n',),
            (b'=cmd|" /C calc"!A0,+1@example.com,-alias\n',),
            (b"a,b,c,d,e,f,g\n" * 3,),
            (b"",),
            (b"\r\r\r\n\n",),
            (Repeat(b"a,b,c\n", 20_001),),
        )
    )
    rows = st.lists(
        st.lists(st.one_of(text(), st.sampled_from(PLAUSIBLE_TEXT)), min_size=1, max_size=5),
        min_size=1,
        max_size=4,
    ).map(lambda rows: ("\n".join(",".join(_flat(c) for c in row) for row in rows),))
    encoded = st.tuples(rows, st.sampled_from(("utf-8", "utf-16", "latin-1"))).map(
        lambda t: (t[0][0].encode(t[1], "surrogatepass" if t[1].startswith("utf") else "replace"),)
    )
    return st.builds(
        Upload,
        st.sampled_from(("users.csv", "", "a\x00b.csv", "../../x.csv", "x" * 300 + ".csv")),
        st.one_of(fixed, encoded, st.binary(max_size=64).map(lambda b: (b,))),
        st.sampled_from(("text/csv", "application/octet-stream", "text/plain; charset=latin-1")),
    )


def _flat(value: Any) -> str:
    value = value.expand() if isinstance(value, Repeat) else value
    return value.decode("latin-1") if isinstance(value, bytes) else value


@dataclass
class Target:
    """One view to fuzz: where it is, who asks, what it takes."""

    name: str
    url: str
    get: bool  # answers GET (not 405)
    post: bool  # a page posts to it, or it answers only POST
    inputs: ViewInputs
    known_ids: tuple[str, ...] = ()


def form_requests(target: Target) -> st.SearchStrategy[FuzzRequest]:
    """Requests to a form view: its query string fuzzed; for a POST, either a plausible form with
    one or two fields spoiled (to reach the service behind the form) or every field hostile."""
    page_fields = {
        name: f for name, f in sorted(target.inputs.post_fields.items()) if "file" not in f.kinds
    }
    hostile = {name: field_value(f, target.known_ids) for name, f in page_fields.items()}
    for name in EXTRA_FIELDS:
        hostile.setdefault(name, field_value(Field(name), target.known_ids))
    likely = {name: plausible(f, target.known_ids) for name, f in page_fields.items()}
    methods = [m for m, ok in (("GET", target.get), ("POST", target.post)) if ok] or ["POST"]
    files = {name: csv_files() for name in target.inputs.file_fields}

    @st.composite
    def build(draw: st.DrawFn) -> FuzzRequest:
        method = draw(st.sampled_from(methods))
        request = FuzzRequest(method=method, query=draw(queries(target.inputs, target.known_ids)))
        if draw(st.booleans()):
            request.headers["HX-Request"] = "true"
        if method == "GET":
            return request
        if draw(st.booleans()):
            request.form = draw(st.fixed_dictionaries(likely))
            spoiled = draw(st.lists(st.sampled_from(sorted(hostile)), max_size=2, unique=True))
            for name in spoiled:
                request.form[name] = draw(hostile[name] | st.just(None))
            request.form = {k: v for k, v in request.form.items() if v is not None}
        else:
            request.form = draw(st.fixed_dictionaries({}, optional=hostile))
        # The file fields; now and then a text field sent as a file, the way a script can.
        if files or draw(st.integers(0, 9)) == 0:
            names = sorted(files) + sorted(hostile)
            request.files = draw(st.dictionaries(st.sampled_from(names), csv_files(), max_size=2))
        return request

    return build()


def form_examples(target: Target) -> list[FuzzRequest]:
    """The explicit examples every form view gets, tried first and every run: NUL in every
    field and parameter, every field very long, hostile query values, each hostile upload with
    the form otherwise valid, and the form as the page fills it in."""
    fields = target.inputs.post_fields
    keys = sorted(set(QUERY_KEYS) | set(target.inputs.query_keys))
    hostile_query = {
        **dict.fromkeys(keys, NUL),
        "page": "9" * 30,
        "from": "0001-01-01",
        "to": "9999-12-31",
        "sort": "-\u202e",
    }
    valid = {n: valid_value(f) for n, f in sorted(fields.items()) if "file" not in f.kinds}
    examples = []
    if target.get:
        examples.append(FuzzRequest("GET", query=dict.fromkeys(keys, NUL)))
        examples.append(FuzzRequest("GET", query=hostile_query))
    if target.post or not target.get:
        text_fields = [n for n, f in sorted(fields.items()) if "file" not in f.kinds]
        examples.append(FuzzRequest("POST", query={"q": NUL}, form=dict.fromkeys(text_fields, NUL)))
        examples.append(FuzzRequest("POST", form=dict.fromkeys(text_fields, Repeat("a", 131_073))))
        examples.append(FuzzRequest("POST", form=valid))
        for name in target.inputs.file_fields:
            for content in (
                (b"ann\x00@example.com,Ann,ann\x00alias\n",),
                (b"\xff\xfe\xfa not utf-8\n",),
                (b'"', Repeat(b"a", 131_073), b'",b@example.com,alias.b\n'),
            ):
                examples.append(
                    FuzzRequest("POST", form=valid, files={name: Upload("x.csv", content)})
                )
    return examples


# --- the call-record ingest API -------------------------------------------------------------------

RECORD_KEYS = (
    "endpoint",
    "started_at",
    "duration_seconds",
    "direction",
    "remote_ip",
    "remote_address",
    "remote_display_name",
    "call_id",
)
BAD_DATETIMES = (
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59Z",
    "10000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T10:00:00",
    "2026-01-01T24:00:00Z",
    "2026-01-01T10:00:00+25:00",
    "2026-01-01T10:00:00.9999999999Z",
    "1999-12-31T23:59:59Z",
    "2126-01-01T00:00:00Z",
    "2026-01-01T10:00:00Z\x00",
    "",
)
JSON_NUMBERS = (10**12, 2**63, -(2**63) - 1, 10**400, -1, 0, 1.5, 1e308, 7 * 24 * 3600)


def json_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.sampled_from(JSON_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        text().map(_flat),
    )
    return st.recursive(
        leaf,
        lambda kids: (
            st.lists(kids, max_size=3)
            | st.dictionaries(st.sampled_from(RECORD_KEYS) | st.text(max_size=6), kids, max_size=3)
        ),
        max_leaves=8,
    )


def aware_datetimes() -> st.SearchStrategy[str]:
    zones = st.sampled_from(
        (UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30)))
    )
    return st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=zones
    ).map(datetime.isoformat)


def call_records(endpoint_address: str) -> st.SearchStrategy[dict[str, Any]]:
    recent = st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat)
    anything = json_values()
    return st.fixed_dictionaries(
        {},
        optional={
            "endpoint": st.sampled_from(
                (endpoint_address, endpoint_address.upper(), f" {endpoint_address}\x00")
            )
            | anything,
            "started_at": recent | aware_datetimes() | st.sampled_from(BAD_DATETIMES) | anything,
            "duration_seconds": st.integers(min_value=0, max_value=10**13)
            | st.sampled_from(JSON_NUMBERS)
            | anything,
            "direction": st.sampled_from(("in", "out", "IN", "")) | anything,
            "remote_ip": st.sampled_from(("192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3"))
            | anything,
            "remote_address": st.sampled_from(("sip:a@b.example", "")) | anything,
            "remote_display_name": text().map(_flat) | anything,
            "call_id": st.sampled_from(("call-1", "call-2", "\x00", "x" * 101)) | anything,
        },
    )


def ingest_requests(endpoint_address: str, token: str) -> st.SearchStrategy[FuzzRequest]:
    payload = st.one_of(
        st.fixed_dictionaries(
            {"records": st.lists(call_records(endpoint_address) | json_values(), max_size=4)}
        ),
        json_values(),
    )
    body = st.one_of(
        st.tuples(payload, st.booleans()).map(
            lambda t: json.dumps(t[0], ensure_ascii=t[1]).encode("utf-8", "surrogatepass")
        ),
        st.sampled_from(
            (
                b"",
                b"null",
                b"\xff\xfe{}",
                b'{"records": [',
                b'{"records": {"0": {}}}',
                b'{"records": "x"}',
            )
        ),
        st.binary(max_size=32),
    )
    auth = st.sampled_from(
        (f"Bearer {token}",) * 6 + (token, f"bearer {token}", f"Bearer {token}\x00", "Bearer ", "")
    )
    content_type = st.sampled_from(
        ("application/json", "text/plain", "application/x-www-form-urlencoded")
    )
    return st.builds(
        lambda b, a, c: FuzzRequest(
            "POST", body=b, content_type=c, headers={"Authorization": a} if a else {}
        ),
        body,
        auth,
        content_type,
    )


def ingest_examples(endpoint_address: str, token: str) -> list[FuzzRequest]:
    """The issue's inputs: dates out of range after the shift to UTC, impossible dates, huge
    durations, NUL bytes and lone surrogates, deep nesting."""

    def records(**overrides: Any) -> FuzzRequest:
        record = {
            "endpoint": endpoint_address,
            "started_at": "2026-01-01T10:00:00Z",
            "duration_seconds": 60,
            "direction": "in",
            "remote_ip": "192.0.2.1",
            "remote_address": "sip:a@b.example",
            "remote_display_name": "Caller",
            "call_id": "fuzz-call-1",
            **overrides,
        }
        body = json.dumps({"records": [record]}).encode()
        return FuzzRequest(
            "POST",
            body=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    deep = FuzzRequest(
        "POST",
        body=Repeat(b"[", 100_000),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    deep_records = FuzzRequest(
        "POST",
        body=b'{"records": [' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"]}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return [
        deep,
        deep_records,
        records(),
        *(records(started_at=value) for value in BAD_DATETIMES[:6]),
        records(duration_seconds=10**12),
        records(duration_seconds=10**400),
        records(remote_display_name="a\x00b"),
        records(call_id="\x00"),
        records(remote_address="\ud800"),
        records(endpoint=["x"]),
    ]
