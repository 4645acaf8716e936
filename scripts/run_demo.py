"""`make run`'s processes: Django's runserver and a Celery worker with embedded beat, on the
demo's embedded broker (CELERY_BROKER_URL=filesystem://, kombu's filesystem transport under
var/broker/), started together and stopped together.

Usage: python scripts/run_demo.py PORT (the environment is the demo's: see the Makefile).

Each child runs in a process group of its own, so that one signal reaches all of its processes
(beat is a child of the worker). Ctrl-C (SIGINT) or SIGTERM here stops both groups, waits for
them, and kills what is left after STOP_GRACE seconds; a child that exits stops the other. And
should this process be killed outright, the kernel sends the children SIGTERM (PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
STOP_GRACE = 10  # seconds a child has to stop before it is killed
PR_SET_PDEATHSIG = 1


def _own_group_dying_with_us() -> None:
    """In the child, before exec: a process group of its own, and SIGTERM when we die."""
    os.setpgid(0, 0)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the signal handlers below still stop them
        pass


def broker_dir() -> Path:
    path = urlsplit(os.environ.get("CELERY_BROKER_URL", "")).path
    return Path(path) if path.strip("/") else ROOT / "var" / "broker"


def commands(port: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        # One process for the tasks (solo pool: SQLite has one writer at a time anyway) and
        # beat in a child of it; the filesystem transport has no broadcast for gossip/mingle.
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--beat",
            "--schedule",
            str(broker_dir() / "celerybeat-schedule"),
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "info",
        ],
    }


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_GRACE
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # what is left of the group (beat, a stuck child)
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()


def main(port: str) -> int:
    broker_dir().mkdir(parents=True, exist_ok=True)
    children: dict[str, subprocess.Popen[bytes]] = {}

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status = 0
    try:
        for name, argv in commands(port).items():
            children[name] = subprocess.Popen(argv, cwd=ROOT, preexec_fn=_own_group_dying_with_us)
            print(f"demo: {name} started (pid {children[name].pid})", flush=True)
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        gone = next(name for name, child in children.items() if child.poll() is not None)
        print(f"demo: {gone} exited ({children[gone].returncode}); stopping", flush=True)
        status = children[gone].returncode or 1
    except KeyboardInterrupt:
        print("\ndemo: stopping the web server and the worker", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut it short
        stop(children)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "8000")))
