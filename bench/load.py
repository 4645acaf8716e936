"""The load test: wrk against gunicorn on loopback, on the company list and the users tab, with
8 and 32 connections; gunicorn as deployed (gunicorn.conf.py: its worker class and counts).

The server is measured as it runs once it is up: wrk starts when it answers /healthz (gunicorn
listens about a second before it forks its workers, after the warm-up, and connections made
meanwhile wait in the listen queue: the old bench timed that as the first page's slowest 1 %),
and after WARM_UP_SECONDS of the same load, not counted (each worker's first requests open its
database connection and fill its caches)."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bench.config import LOAD_CONNECTIONS, LOAD_SECONDS, ROOT

WARM_UP_SECONDS = 5


def measure_load(seeded: dict[str, object], results: dict[str, object]) -> None:
    results["load"] = load_test(seeded, seeded["big"])
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    results["load_server"] = f"gunicorn {config['workers']} {config['worker_class']} workers" + (
        f" × {config['threads']} threads" if config["threads"] > 1 else ""
    )


def load_test(seeded: dict[str, object], big) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """wrk against gunicorn on loopback for LOAD_SECONDS per page."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
    pages = {"company_list": "/companies/", "users_tab": f"/companies/{big.public_id}/users/"}
    port = free_port()
    results = {}
    with gunicorn(port):
        cookie = session_cookie(seeded["manager"])
        for connections in LOAD_CONNECTIONS:
            for name, path in pages.items():
                url = f"http://127.0.0.1:{port}{path}"
                run_wrk(url, cookie, connections, WARM_UP_SECONDS)
                results[f"{name}@{connections}"] = run_wrk(url, cookie, connections)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(port: int) -> Iterator[None]:
    """The portal served by gunicorn on `port` for as long as the block runs."""
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        # Its access log (a JSON line per request, written as in production) is not the bench's.
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_workers(port)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wait_for_workers(port: int) -> None:
    """Until /healthz answers: the master listens (a refused connection is retried) and its
    workers are forked (it listens before it forks them, all at once, after the warm-up)."""
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn on port {port} did not answer /healthz within 30 s")


def session_cookie(user) -> str:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def run_wrk(
    url: str, cookie: str, connections: int, seconds: int = LOAD_SECONDS
) -> dict[str, object]:
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    return parse_wrk(result.stdout)


def parse_wrk(text: str) -> dict[str, object]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = unit_ms(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = unit_ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    )
    return {
        "requests_per_second": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": requests,
        "errors": errors,
    }


def unit_ms(value: str) -> float:
    """A wrk latency ("812.50us", "4.20ms", "1.02s") in milliseconds."""
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
