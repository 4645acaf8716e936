"""No SSRF through webhooks: the target is resolved when a delivery is sent and refused when any
address is loopback, private, link-local, multicast, reserved or unspecified (IPv4-mapped IPv6
included) or the scheme is not http(s), unless WEBHOOK_ALLOW_PRIVATE_TARGETS; the connection
goes to the address checked; redirects are not followed. Registration refuses what it can see."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest
from django.core.exceptions import ValidationError
from dnslib import AAAA

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import webhook_endpoint_create
from api.webhooks import delivery as deliveries
from api.webhooks.targets import TargetRefused, address_problem, target_resolve
from tests.api.webhook_receiver import start_receiver


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.stop()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def deliver_to(personas, make, url: str) -> WebhookDelivery:
    """An endpoint whose stored URL is `url` (as if it passed registration: a name whose DNS
    answer changed since), one event for it, and one attempt to send it."""
    endpoint, _secret = webhook_endpoint_create(
        actor=personas.manager, url="https://hooks.partner.example/", events=["consumer.created"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    make.team_vmr(f"room-{WebhookDelivery.objects.count():04}")
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).get()
    deliveries.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, which Python counts as private
        ("100.64.0.1", "not public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_are_refused(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://0.0.0.0:{port}/hook",
        "ftp://127.0.0.1:{port}/hook",
        "file:///etc/passwd",
    ],
)
def test_a_private_or_non_http_target_is_refused_at_send_time(personas, make, receiver, url):
    delivery = deliver_to(personas, make, url.format(port=receiver.port))
    assert delivery.status == "pending"  # retried: a target may become valid
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("Refused: ")
    assert delivery.last_status_code is None
    assert receiver.received == []


def test_a_name_resolving_to_loopback_is_refused(personas, make, receiver, dns_server):
    dns_server.add_a("hooks.rebind.example", "127.0.0.1")
    delivery = deliver_to(personas, make, f"http://hooks.rebind.example:{receiver.port}/")
    assert delivery.last_error == ("Refused: hooks.rebind.example resolves to a loopback address.")
    assert receiver.received == []


def test_a_name_with_any_private_address_is_refused(personas, make, dns_server):
    dns_server.add_a("mixed.example", "93.184.216.34")
    with dns_server.lock:
        dns_server.records["mixed.example"].append(("AAAA", AAAA("::1")))
    with pytest.raises(TargetRefused, match="resolves to a loopback address"):
        target_resolve("https://mixed.example/hook")


def test_localhost_from_the_hosts_file_is_refused(personas, make, receiver, settings):
    settings.DNS_NAMESERVERS = []  # the system resolver: /etc/hosts answers for localhost
    delivery = deliver_to(personas, make, f"http://localhost:{receiver.port}/")
    assert "localhost resolves to" in delivery.last_error
    assert "loopback" in delivery.last_error
    assert receiver.received == []


def test_an_unresolvable_name_is_a_failure_with_its_reason(personas, make, dns_server):
    delivery = deliver_to(personas, make, "https://nowhere.example/hook")
    assert delivery.last_error == "Refused: nowhere.example has no address."


def test_with_the_setting_on_loopback_is_allowed(personas, make, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    delivery = deliver_to(personas, make, receiver.url())
    assert (delivery.status, delivery.last_status_code) == ("delivered", 200)
    assert len(receiver.received) == 1


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_with_the_setting_on_ipv6_loopback_is_allowed(personas, make, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = start_receiver("::1")
    try:
        delivery = deliver_to(personas, make, f"http://[::1]:{server.port}/hook")
        assert delivery.status == "delivered"
        assert len(server.received) == 1
    finally:
        server.stop()


def test_the_connection_goes_to_the_address_that_was_checked(
    personas, make, receiver, dns_server, settings
):
    """The name exists only in the test DNS server (the system cannot resolve it): the request
    reaches the receiver because it is sent to the checked address, with the name as Host."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    dns_server.add_a("hooks.pinned.example", "127.0.0.1")
    delivery = deliver_to(personas, make, f"http://hooks.pinned.example:{receiver.port}/in")
    assert delivery.status == "delivered"
    (request,) = receiver.received
    assert request.headers["host"] == f"hooks.pinned.example:{receiver.port}"
    assert request.path == "/in"
    queried = [q for q in dns_server.queries if q[0] == "hooks.pinned.example"]
    assert ("hooks.pinned.example", "A") in queried


def test_a_redirect_is_not_followed(personas, make, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    elsewhere = start_receiver()
    try:
        receiver.statuses = [302]
        receiver.redirect_to = elsewhere.url("/stolen")
        delivery = deliver_to(personas, make, receiver.url())
        assert delivery.status == "pending"
        assert delivery.last_status_code == 302
        assert delivery.last_error == "HTTP 302 (redirects are not followed)"
        assert len(receiver.received) == 1
        assert elsewhere.received == []
    finally:
        elsewhere.stop()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/",
        "javascript:alert(1)",
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.1/",
        "http://169.254.169.254/",
        "http://user:pass@hooks.example.com/",
        "http://hooks.example.com:99999/",
        "https:///nohost",
    ],
)
def test_registration_refuses_what_it_can_see(personas, url):
    with pytest.raises(ValidationError) as caught:
        webhook_endpoint_create(actor=personas.manager, url=url, events=["company.created"])
    assert caught.value.message_dict["url"]


def test_registration_allows_a_private_address_with_the_setting_on(personas, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint, _ = webhook_endpoint_create(
        actor=personas.manager, url="http://127.0.0.1:8080/hook", events=["company.created"]
    )
    assert endpoint.url == "http://127.0.0.1:8080/hook"


def test_the_setting_is_off_by_default():
    from portal import settings as portal_settings

    if "WEBHOOK_ALLOW_PRIVATE_TARGETS" not in os.environ:
        assert portal_settings.WEBHOOK_ALLOW_PRIVATE_TARGETS is False


def test_dns_answers_are_read_from_the_projects_resolver(dns_server):
    dns_server.add_a("public.example", "93.184.216.34")
    assert target_resolve("https://public.example/x").address == "93.184.216.34"
