"""The DNS records a customer publishes for a hosted calling domain, and a live check of them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from . import dns as engine
from .models import CallingDomain


@dataclass(frozen=True)
class Record:
    rtype: str  # "TXT" or "SRV"
    name: str
    value: str
    purpose: str


def required_records(domain: CallingDomain) -> list[Record]:
    records: list[Record] = []
    if not domain.is_verified:
        records.append(
            Record(
                "TXT",
                domain.name,
                engine.expected_txt(domain.verification_token),
                f"Proves ownership (may also be published at "
                f"_{settings.DOMAIN_VERIFICATION_PREFIX}.{domain.name})",
            )
        )
    sip, h323 = settings.SIP_SERVICE_HOST, settings.H323_SERVICE_HOST
    records += [
        Record("SRV", f"_sip._udp.{domain.name}", f"10 100 5060 {sip}.", "SIP over UDP"),
        Record("SRV", f"_sip._tcp.{domain.name}", f"10 100 5060 {sip}.", "SIP over TCP"),
        Record("SRV", f"_sips._tcp.{domain.name}", f"10 100 5061 {sip}.", "SIP over TLS"),
        Record(
            "SRV", f"_h323cs._tcp.{domain.name}", f"10 100 1720 {h323}.", "H.323 call signalling"
        ),
        Record("SRV", f"_h323ls._udp.{domain.name}", f"10 100 1719 {h323}.", "H.323 location"),
    ]
    return records


@dataclass(frozen=True)
class RecordCheck:
    record: Record
    state: str  # "ok", "wrong", "missing", "error"
    found: tuple[str, ...]
    detail: str


def check_records(domain: CallingDomain) -> list[RecordCheck]:
    res = engine.resolver()
    checks = []
    for record in required_records(domain):
        if record.rtype == "TXT":
            results = [engine.lookup(n, "TXT", res) for n in engine.txt_names(domain.name)]
            found = tuple(v for r in results for v in r.values)
            if any(
                r.status == "ok" and engine.txt_has_token(r.values, domain.verification_token)
                for r in results
            ):
                checks.append(RecordCheck(record, "ok", found, "Published correctly."))
            elif any(r.status == "transient" for r in results):
                errors = "; ".join(r.error for r in results if r.error)
                checks.append(RecordCheck(record, "error", found, f"Could not check: {errors}"))
            elif found:
                checks.append(RecordCheck(record, "wrong", found, "TXT found, but not this value."))
            else:
                checks.append(RecordCheck(record, "missing", (), "Not published yet."))
            continue
        result = engine.lookup(record.name, record.rtype, res)
        if result.status == "transient":
            checks.append(RecordCheck(record, "error", (), f"Could not check: {result.error}"))
        elif result.status != "ok" or not result.values:
            checks.append(RecordCheck(record, "missing", (), "Not published yet."))
        elif record.value in result.values:
            checks.append(RecordCheck(record, "ok", result.values, "Published correctly."))
        else:
            checks.append(
                RecordCheck(record, "wrong", result.values, f"Found, but should be {record.value}")
            )
    return checks
