"""The DNS records a customer publishes for a hosted calling domain, and a live check of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from . import dns_lookup as engine
from .models import CallingDomain
from .names import is_service_domain


@dataclass(frozen=True)
class Record:
    rtype: str  # "TXT" or "SRV"
    name: str
    value: str
    purpose: str


def required_records(domain: CallingDomain) -> list[Record]:
    """What the customer publishes in their DNS for a hosted calling domain: the TXT record until
    it is verified, and the SRV records that route calls. A subdomain of the service's own
    domain (`<slug>.<SERVICE_DOMAIN>`) is in a zone the service runs: nothing to publish there
    (the DNS email, the detail page and the live DNS panel all read this list)."""
    if is_service_domain(domain.name):
        return []
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
    """The live DNS panel: each required record as published now."""
    res = engine.resolver()
    return [
        _check_txt(domain, record, res) if record.rtype == "TXT" else _check(record, res)
        for record in required_records(domain)
    ]


def _check_txt(domain: CallingDomain, record: Record, res: Any) -> RecordCheck:
    check = engine.txt_evaluate(domain.name, domain.verification_token, res)
    if check.outcome == engine.VERIFIED:
        return RecordCheck(record, "ok", check.found, "Published correctly.")
    if check.outcome == engine.TRANSIENT:
        return RecordCheck(record, "error", check.found, f"Could not check: {check.errors}")
    if check.found:
        return RecordCheck(record, "wrong", check.found, "TXT found, but not this value.")
    return RecordCheck(record, "missing", (), "Not published yet.")


def _check(record: Record, res: Any) -> RecordCheck:
    result = engine.lookup(record.name, record.rtype, res)
    if result.status == "transient":
        return RecordCheck(record, "error", (), f"Could not check: {result.error}")
    if result.status != "ok" or not result.values:
        return RecordCheck(record, "missing", (), "Not published yet.")
    if record.value in result.values:
        return RecordCheck(record, "ok", result.values, "Published correctly.")
    return RecordCheck(record, "wrong", result.values, f"Found, but should be {record.value}")
