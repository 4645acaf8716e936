"""A small authoritative DNS server on loopback (dnslib), for tests that verify real lookups.

Records are set per test; names can be made to answer SERVFAIL or never answer (timeout).
"""

from __future__ import annotations

import threading
from collections import defaultdict

from dnslib import QTYPE, RCODE, RR, SRV, TXT, A
from dnslib.server import BaseResolver, DNSError, DNSLogger, DNSServer


class _Resolver(BaseResolver):
    def __init__(self, zone: LoopbackDNS) -> None:
        self.zone = zone

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self.zone.lock:
            self.zone.queries.append((qname, qtype))
            if qname in self.zone.silent:
                raise DNSError("dropped on purpose: the client times out")
            if qname in self.zone.servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if qname not in self.zone.records:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            for rtype, rdata in self.zone.records[qname]:
                if rtype == qtype:
                    reply.add_answer(RR(qname, QTYPE.reverse[rtype], rdata=rdata, ttl=60))
        return reply


class LoopbackDNS:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, list[tuple[str, object]]] = defaultdict(list)
        self.servfail: set[str] = set()
        self.silent: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        resolver = _Resolver(self)
        logger = DNSLogger(log="-recv,-send,-request,-reply,-truncated,-data,-error", prefix=False)
        # UDP and TCP on one port number: the UDP port the system picks may be taken for TCP
        # by another process, so try again with another.
        for _attempt in range(50):
            self.udp = DNSServer(resolver, address="127.0.0.1", port=0, logger=logger)
            self.port = self.udp.server.server_address[1]
            try:
                self.tcp = DNSServer(
                    resolver, address="127.0.0.1", port=self.port, tcp=True, logger=logger
                )
                break
            except OSError:
                self.udp.server.server_close()
        else:
            raise RuntimeError("no free port for the loopback DNS server")
        self.udp.start_thread()
        self.tcp.start_thread()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.servfail.clear()
            self.silent.clear()
            self.queries.clear()

    def add_txt(self, name: str, *strings: str) -> None:
        with self.lock:
            self.records[name.lower()].append(("TXT", TXT([s.encode() for s in strings])))

    def add_srv(self, name: str, priority: int, weight: int, port: int, target: str) -> None:
        with self.lock:
            self.records[name.lower()].append(
                ("SRV", SRV(priority=priority, weight=weight, port=port, target=target))
            )

    def add_a(self, name: str, address: str = "192.0.2.1") -> None:
        with self.lock:
            self.records[name.lower()].append(("A", A(address)))

    def stop(self) -> None:
        self.udp.stop()
        self.tcp.stop()
