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
        try:
            records = self._read_csv(file) if kind == "csv" else self._read_jsonl(file)
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text ({exc.reason})") from None
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
            reader = csv.DictReader(handle)
            try:
                for row in reader:
                    records.append(self._csv_record(row))
            except csv.Error as exc:
                raise CommandError(
                    f"{file}: not readable as CSV after line {reader.line_num} ({exc})"
                ) from None
            return records

    def _csv_record(self, row: dict) -> dict:
        record: dict = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        for name in CSV_INT_FIELDS:
            value = record.get(name)
            if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
                record[name] = int(value)
        return record

    def _read_jsonl(self, file: Path) -> list:
        records = []
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
                raise CommandError(f"line {number}: not JSON ({exc})") from None
        return records
