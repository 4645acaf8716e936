from __future__ import annotations

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consumers.services.ingest import IngestError, call_records_ingest

CSV_INT_FIELDS = {"duration_seconds"}


class Command(BaseCommand):
    help = (
        "Import endpoint call records from a CSV file (with a header line) or JSON lines. "
        "Every record is validated; if any is invalid, nothing is stored."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"], default=None)

    def handle(self, *args, file: Path, format: str | None, **options) -> None:  # type: ignore[no-untyped-def]
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        kind = format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
        records = self._read_csv(file) if kind == "csv" else self._read_jsonl(file)
        try:
            stored = call_records_ingest(records=records)
        except IngestError as exc:
            for index, problems in sorted(exc.errors.items()):
                line = index + 2 if kind == "csv" else index + 1
                self.stderr.write(f"line {line}: {'; '.join(problems)}")
            raise CommandError("No record was imported.") from None
        self.stdout.write(
            f"{stored} call records imported ({len(records) - stored} already known)."
        )

    def _read_csv(self, file: Path) -> list[dict]:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            records = []
            for row in csv.DictReader(handle):
                record: dict = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
                for name in CSV_INT_FIELDS:
                    value = record.get(name)
                    if isinstance(value, str) and value.isdigit():
                        record[name] = int(value)
                records.append(record)
            return records

    def _read_jsonl(self, file: Path) -> list:
        records = []
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise CommandError(f"line {number}: not JSON ({exc})") from None
        return records
