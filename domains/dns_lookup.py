"""DNS lookups (dnspython) and the one TXT evaluator of domain verification.

`txt_evaluate` decides every verification outcome: Verify, the periodic check, Microsoft 365
domains and the live DNS panel all ask it. Outcomes are deliberately three-valued: `verified`,
`not_verified` (the DNS answered and the record is not there: NXDOMAIN, no answer, wrong token)
and `transient` (timeout, SERVFAIL, no nameserver answered): a transient failure proves nothing,
so callers change nothing but the recorded error.

(Named dns_lookup, not dns, so that it never shadows dnspython's `dns` package.)
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
from django.conf import settings

VERIFIED = "verified"
NOT_VERIFIED = "not_verified"
TRANSIENT = "transient"


def resolver() -> dns.resolver.Resolver:
    configured = settings.DNS_NAMESERVERS
    res = dns.resolver.Resolver(configure=not configured)
    if configured:
        servers = []
        for entry in configured:
            host, port = entry, 53
            if entry.count(":") == 1:
                host, _, raw_port = entry.partition(":")
                port = int(raw_port)
            servers.append(dns.nameserver.Do53Nameserver(host, port))
        res.nameservers = servers
    res.lifetime = settings.DNS_LIFETIME
    res.timeout = min(2.0, settings.DNS_LIFETIME)
    res.cache = None
    return res


@dataclass(frozen=True)
class Lookup:
    status: str  # "ok", "nxdomain", "noanswer", "transient"
    values: tuple[str, ...] = ()
    error: str = ""


def lookup(name: str, rdtype: str, res: dns.resolver.Resolver | None = None) -> Lookup:
    res = res or resolver()
    try:
        answer = res.resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return Lookup("nxdomain")
    except dns.resolver.NoNameservers as exc:
        return Lookup("transient", error=f"no nameserver answered ({_short(exc)})")
    except dns.exception.Timeout:
        return Lookup("transient", error="the DNS lookup timed out")
    except dns.exception.DNSException as exc:
        return Lookup("transient", error=f"DNS error ({_short(exc)})")
    if answer.rrset is None:
        return Lookup("noanswer")
    values = []
    for rdata in answer.rrset:
        if rdata.rdtype == dns.rdatatype.TXT:
            # A TXT record may be split into several strings: join them before matching.
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        else:
            values.append(rdata.to_text())
    return Lookup("ok", tuple(values))


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 120 else text[:117] + "…"


def expected_txt(token: str) -> str:
    return f"{settings.DOMAIN_VERIFICATION_PREFIX}={token}"


def txt_names(domain: str) -> list[str]:
    return [domain, f"_{settings.DOMAIN_VERIFICATION_PREFIX}.{domain}"]


def txt_has_token(values: tuple[str, ...], token: str) -> bool:
    wanted = expected_txt(token)
    return any(wanted in value.split() for value in values)


@dataclass(frozen=True)
class TxtCheck:
    outcome: str  # VERIFIED, NOT_VERIFIED, TRANSIENT
    reason: str  # why it is not verified, for the domain's last error
    found: tuple[str, ...] = ()  # the TXT values seen at either name
    errors: str = ""  # what failed, when transient


def txt_evaluate(domain: str, token: str, res: dns.resolver.Resolver | None = None) -> TxtCheck:
    """Is `<prefix>=<token>` published at the domain or at `_<prefix>.<domain>`?"""
    res = res or resolver()
    lookups = {name: lookup(name, "TXT", res) for name in txt_names(domain)}
    found = tuple(v for r in lookups.values() for v in r.values)
    if any(r.status == "ok" and txt_has_token(r.values, token) for r in lookups.values()):
        return TxtCheck(VERIFIED, "", found)
    transient = [f"{name}: {r.error}" for name, r in lookups.items() if r.status == "transient"]
    if transient:
        errors = "; ".join(transient)
        return TxtCheck(TRANSIENT, "Temporary DNS problem, will retry: " + errors, found, errors)
    names = " or ".join(txt_names(domain))
    if found:
        reason = f"TXT records were found at {names}, but none is {expected_txt(token)}."
    elif all(r.status == "nxdomain" for r in lookups.values()):
        reason = f"{domain} does not exist in DNS (NXDOMAIN)."
    else:
        reason = f"No TXT record was found at {names}."
    return TxtCheck(NOT_VERIFIED, reason, found)
