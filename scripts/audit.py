"""Dependency audit: fail when an installed package has a known vulnerability with a fix.

Runs pip-audit against the virtualenv's installed set (the project itself skipped) and reads
its JSON; vulnerabilities without a released fix are listed but do not fail the build.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        print("pip-audit did not produce a report", file=sys.stderr)
        return 2
    fixable, unfixed = [], []
    for dep in report.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            line = f"{dep['name']} {dep['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(line)
    for line in unfixed:
        print(f"known, no fix released yet: {line}")
    for line in fixable:
        print(f"VULNERABLE: {line}")
    audited = len(report.get("dependencies", []))
    print(f"pip-audit: {audited} packages audited, {len(fixable)} with a fix available")
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())
