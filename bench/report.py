"""The report: the machine the bench ran on, the table of results against their targets, and
bench/results/latest.json and latest.md."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench.config import LOAD_SECONDS, RESULTS

HEADER = [
    "| measurement | portal (median, min–max) | floor (median) | ratio | target | SQL queries |",
    "|---|---|---|---|---|---|",
]
NO_TARGET = "— (shown, no target)"
PAGES = (
    ("users_tab", "Users tab, first page (20,000 users)", True),
    ("users_search", "Users tab, search", True),
    ("company_list", "Company list (500 companies)", True),
    ("api_consumers", "API: GET /api/v1/companies/{id}/consumers (20,000 users)", True),
    # Not a target of its own: the list is the page above; this is its first view after a
    # company or licence changed, when the tab counts are counted again.
    ("company_list_recount", "Company list, first view after a change", False),
)
JOBS = (
    ("retention", "Retention job (2M call records)", 1.5),
    ("batch_delete", "Batch delete, 10,000 users (the confirmed run)", 1.5),
    # Not one of the targets (its batch target is the delete): shown so that the
    # whole batch tool is in the table, the preview beside a one-statement SQL plan.
    ("batch_preview", "Batch preview of that delete (the plan shown before confirming)", None),
)
INVITATION_JOBS = (
    ("invitation_resend", "Invitation re-send job"),
    ("invitation_purge", "Invitation purge job"),
)


def publish(results: dict[str, object], partial: bool) -> None:
    """Prints the table; writes it and the results unless the run was partial or reused (a
    full `make bench` is what latest.* must show)."""
    results["machine"] = machine()
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table, misses = render_table(results)
    print(table)
    if partial:
        print("\n(partial or reused run: bench/results/latest.* left as they were)")
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
        (RESULTS / "latest.md").write_text(table + "\n")
        print(f"\nWritten {RESULTS / 'latest.json'} in {results['total_seconds']:.0f} s")
    if misses:
        print("\nTargets missed:\n- " + "\n- ".join(misses))


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def render_table(r: dict[str, object]) -> tuple[str, list[str]]:
    """The Markdown table, and the targets missed (each row appends its own miss)."""
    misses: list[str] = []
    lines = [
        *HEADER,
        *page_rows(r, misses),
        *job_rows(r, misses),
        *invitation_rows(r, misses),
        *handout_rows(r, misses),
        *load_rows(r, misses),
        *footer(r),
    ]
    return "\n".join(lines), misses


def ms(s: dict[str, float]) -> str:
    return f"{s['median'] * 1000:.1f} ms ({s['min'] * 1000:.1f}–{s['max'] * 1000:.1f})"


def sec(s: dict[str, float]) -> str:
    return f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f})"


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def floor_ratio(m: dict[str, dict[str, float]]) -> float:
    return m["portal"]["median"] / m["floor"]["median"]


def measured(r: dict[str, object], rows: tuple[tuple, ...]) -> Iterator[tuple]:
    """The rows' measurements with the rest of each row, for those in `r` (a run with
    BENCH_ONLY has only some)."""
    for key, *rest in rows:
        if key in r:
            yield r[key], *rest


def page_rows(r: dict[str, object], misses: list[str]) -> list[str]:
    lines = []
    for m, label, has_target in measured(r, PAGES):
        ratio = floor_ratio(m)
        if has_target:
            ok = ratio <= 2 and m["portal"]["median"] < 0.1
            verdict = f"≤2×, <100 ms {mark(ok)}"
            if not ok:
                misses.append(f"{label}: {ratio:.1f}x floor, {m['portal']['median'] * 1000:.0f} ms")
        else:
            verdict = NO_TARGET
        lines.append(
            f"| {label} | {ms(m['portal'])} | {m['floor']['median'] * 1000:.1f} ms | "
            f"{ratio:.2f}× | {verdict} | {m['queries']} (floor {m['floor_queries']}) |"
        )
    return lines


def job_rows(r: dict[str, object], misses: list[str]) -> list[str]:
    lines = []
    for m, label, target in measured(r, JOBS):
        ratio = floor_ratio(m)
        if target is None:
            verdict = NO_TARGET
        else:
            ok = ratio <= target
            verdict = f"≤{target}× {mark(ok)}"
            if not ok:
                misses.append(f"{label}: {ratio:.2f}x its SQL floor")
        lines.append(
            f"| {label} | {sec(m['portal'])} | {m['floor']['median']:.2f} s | "
            f"{ratio:.2f}× | {verdict} | — |"
        )
    return lines


def invitation_rows(r: dict[str, object], misses: list[str]) -> list[str]:
    return [invitation_row(m, label, misses) for m, label in measured(r, INVITATION_JOBS)]


def invitation_row(m: dict[str, dict], label: str, misses: list[str]) -> str:
    """An invitation job's row: its queries per invitation must not grow with the number of
    invitations; a job with a floor (the purge) must also stay near it."""
    full, smaller = m["full"], m["smaller"]
    constant = full["queries_per_invitation"] <= smaller["queries_per_invitation"] * 1.05 + 0.01
    floor = ""
    ratio = "—"
    target = "queries per invitation constant"
    within = True
    if "floor" in full:
        floor = f"{full['floor']['median']:.2f} s"
        ratio_value = full["time"]["median"] / full["floor"]["median"]
        ratio = f"{ratio_value:.2f}×"
        within = ratio_value <= 1.5
        target = "≤1.5×, " + target
        if not within:
            misses.append(f"{label}: {ratio_value:.2f}x its SQL floor")
    if not constant:
        misses.append(f"{label}: queries per invitation grow")
    return (
        f"| {label} ({full['invitations']} / {smaller['invitations']} invitations) | "
        f"{sec(full['time'])} | {floor or '—'} | {ratio} | {target} "
        f"{mark(constant and within)} | {full['queries_per_invitation']:.3f} / "
        f"{smaller['queries_per_invitation']:.3f} per invitation |"
    )


def handout_rows(r: dict[str, object], misses: list[str]) -> list[str]:
    if "handout_pdf" not in r:
        return []
    m = r["handout_pdf"]
    ratio = floor_ratio(m)
    ok = ratio <= 1.2
    if not ok:
        misses.append(f"Handout PDF: {ratio:.2f}x bare WeasyPrint")
    return [
        f"| Handout PDF ({m['consumers']} consumers) | {sec(m['portal'])} | "
        f"{m['floor']['median']:.2f} s | {ratio:.2f}× | ≤1.2× {mark(ok)} | — |"
    ]


def load_rows(r: dict[str, object], misses: list[str]) -> list[str]:
    load = r.get("load", {})
    if "skipped" in load:
        return [f"| Load | {load['skipped']} | | | | |"]
    lines = []
    for name, res in load.items():
        ok = res["errors"] == 0
        if not ok:
            misses.append(f"Load on {name}: {res['errors']} errors")
        lines.append(
            f"| Load, {name} ({LOAD_SECONDS} s, wrk 8 connections, gunicorn 3 workers) | "
            f"{res['requests_per_second']:.0f} req/s, p99 {res['p99_ms']:.0f} ms | | | "
            f"0 errors {'✓' if ok else '✗ ' + str(res['errors'])} | |"
        )
    return lines


def footer(r: dict[str, object]) -> list[str]:
    """The company list's time layer by layer, when measured; the seed's time and the machine."""
    lines = []
    steps = r.get("company_list", {}).get("steps")
    if steps:
        lines.append(
            "\nCompany list, layer by layer (median server time): "
            + " → ".join(f"{name} {t['median'] * 1000:.1f} ms" for name, t in steps.items())
            + "."
        )
    seed = f"Seed: {r['seed_seconds']:.0f} s. " if "seed_seconds" in r else ""
    lines.append(
        f"\n{seed}Machine: {r['machine']['cpu']}, "
        f"{r['machine']['cores']} cores, Python {r['machine']['python']}."
    )
    return lines
