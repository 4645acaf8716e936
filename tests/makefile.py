"""What the Makefile runs, read from its recipes (`make -n`), so that tests check the commands
the README gives rather than copies of them."""

from __future__ import annotations

import shlex
import subprocess
from itertools import takewhile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recipe(target: str) -> list[str]:
    """The commands `make <target>` would run, one per line."""
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.splitlines()


def demo_environment() -> dict[str, str]:
    """The variables `make run` starts the demo's processes with (DEBUG, SECRET_KEY, ...)."""
    line = next(line for line in recipe("run") if "scripts/run_demo.py" in line)
    return dict(t.split("=", 1) for t in takewhile(lambda t: "=" in t, shlex.split(line)))
