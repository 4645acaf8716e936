"""Where a webhook may be sent: no SSRF.

A partner chooses the URL, and the portal's worker sends to it from inside the service's
network, so the target is checked where it counts, at send time: the host is resolved then, and
the delivery is refused when ANY of its addresses is loopback, private, link-local, multicast,
reserved or unspecified (IPv4 and IPv6, an IPv4-mapped IPv6 address by the IPv4 address it
maps), or the scheme is not http(s). The connection then goes to the address that was checked
(the Host header and TLS server name stay the URL's host), so a DNS answer that changes between
the check and the connection (DNS rebinding) changes nothing. `WEBHOOK_ALLOW_PRIVATE_TARGETS`
(off by default; tests turn it on) allows private and loopback addresses.

Registration checks what it can without DNS (the scheme, a literal private address), so that a
plain mistake is a form error at once rather than a failed delivery later.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings
from django.core.exceptions import ValidationError

from domains.dns_lookup import resolver

SCHEMES = ("http", "https")
URL_MAX_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """Why a delivery was not sent to its URL (recorded on the delivery)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (lower-case, IDNA)
    port: int
    address: str  # the checked IP address the connection goes to


def address_problem(address: IPAddress) -> str | None:
    """Why an address is not a public one (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_problem(address.ipv4_mapped)
    if isinstance(address, ipaddress.IPv6Address) and address.sixtofour is not None:
        # 6to4 (2002::/16) carries an IPv4 address a relay forwards to: judged by that one.
        return address_problem(address.sixtofour)
    for flag, what in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, flag):
            return what
    if not address.is_global:
        return "not public"
    return None


def _parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, or ValueError with the reason."""
    if len(url) > URL_MAX_LENGTH:
        raise ValueError(f"Use at most {URL_MAX_LENGTH} characters.")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError("Use an http:// or https:// URL.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("Enter a valid URL (its port is not a number from 0 to 65535).") from None
    if not host:
        raise ValueError("Enter a valid URL with a host name.")
    if parts.username or parts.password:
        raise ValueError("Leave user names and passwords out of the URL.")
    try:
        host = host.encode("idna").decode("ascii") if not _literal(host) else host
    except UnicodeError:
        raise ValueError("Enter a valid host name.") from None
    return scheme, host.lower(), port or (443 if scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    """The address a host names by itself: dotted, or in the legacy forms the system's
    resolver also reads as IPv4 (2130706433, 0x7f.1, 0177.0.0.1, 127.1)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(part and part.isalnum() for part in host.split(".")):
        try:
            return ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def url_validate(url: str) -> str:
    """The registration check (no DNS): a ValidationError on `url` for a non-http(s) URL or a
    literal address that is not public (unless private targets are allowed)."""
    try:
        _scheme, host, _port = _parse(url)
    except ValueError as exc:
        raise ValidationError({"url": str(exc)}) from None
    literal = _literal(host)
    problem = literal and address_problem(literal)
    if problem and not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        raise ValidationError({"url": f"{host} is a {problem} address: use a public URL."})
    return url.strip()


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host`: with DNS_NAMESERVERS, from those servers (the resolver the
    domain checks use); without, from the system (its hosts file included)."""
    if settings.DNS_NAMESERVERS:
        res, found = resolver(), []
        for rdtype in ("A", "AAAA"):
            try:
                answer = res.resolve(host, rdtype, raise_on_no_answer=False, search=False)
            except dns.resolver.NXDOMAIN:
                break
            except dns.exception.DNSException as exc:
                raise TargetRefused(f"could not resolve {host} ({type(exc).__name__})") from None
            found += [ipaddress.ip_address(r.to_text()) for r in answer.rrset or ()]
        return found
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"could not resolve {host} ({exc})") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def target_resolve(url: str) -> Target:
    """The send-time check: the address to connect to, or TargetRefused with the reason."""
    try:
        scheme, host, port = _parse(url)
    except ValueError as exc:
        raise TargetRefused(str(exc)) from None
    literal = _literal(host)
    addresses = [literal] if literal else _resolve(host, port)
    if not addresses:
        raise TargetRefused(f"{host} has no address")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                # Not which address: the delivery log would map the service's inner network.
                what = f"is a {problem} address" if literal else f"resolves to a {problem} address"
                raise TargetRefused(f"{host} {what}")
    return Target(scheme, host, port, str(addresses[0]))
