"""Writers for CSV, JSON and XLSX; each streams, names its filters, time and exporter.

Cells that a spreadsheet would take for a formula (beginning with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are prefixed with an apostrophe in CSV and XLSX: an export must
never run code on an auditor's machine (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from operator import itemgetter
from typing import Any

from registry.exports import inventory, xlsx
from registry.exports.inventory import COLUMNS
from registry.fields import column_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_METADATA_PREFIX = "#"
"""The CSV's first line is metadata, starting with ``#``; the header comes next."""
CHUNK = 500
"""Rows per chunk a writer yields (and per progress report)."""
_JSON = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class ExportMeta:
    exported_at: str
    exported_by: str
    filters: dict[str, Any]
    count: int
    title: str = "Registry inventory"
    unit: str = "systems"
    """What the rows are: also the key of the JSON array and the name of the XLSX sheet."""
    notes: str = ""
    """What a reader must know to read the rows right (how an "as of" file was made)."""

    def describe(self) -> str:
        filters = ", ".join(f"{k}={v}" for k, v in self.filters.items()) or "none"
        notes = f"; {self.notes}" if self.notes else ""
        return (
            f"{self.title}; exported {self.exported_at} by {self.exported_by}; "
            f"filters: {filters}; {self.count} {self.unit}{notes}"
        )

    def as_dict(self) -> dict[str, Any]:
        values = {k: v for k, v in self.__dict__.items() if k not in ("title", "unit", "notes")}
        return {**values, "notes": self.notes} if self.notes else values


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


TEXT_COLUMNS = tuple(
    i
    for i, name in enumerate(COLUMNS)
    if name
    not in {
        "is_shared_platform",
        "security_level",
        "estimated_cost_vnd",
        "target_users",
        "active_users",
        "version",
    }
)
_values_of = itemgetter(*COLUMNS)
_texts_of = itemgetter(*(COLUMNS[i] for i in TEXT_COLUMNS))
_FORMULA_AFTER_NUL = re.compile("\x00[=+\\-@\t\r]")


def escaped(row: dict[str, Any], columns: Sequence[str] = COLUMNS) -> list[Any]:
    """The row's values in column order, text cells escaped (numbers cannot start a formula).

    An inventory row's text cells are first joined behind NUL separators and searched once
    for a separator followed by a formula start: nearly every row has none, and one search
    over the row costs a fraction of testing its 24 cells one by one. A hit (or a NUL inside
    a value) only sends the row through the cell-by-cell test.
    """
    if columns is not COLUMNS:
        return [safe_cell(row[c]) for c in columns]
    values = list(_values_of(row))
    if _FORMULA_AFTER_NUL.search("\x00" + "\x00".join(filter(None, _texts_of(row)))) is None:
        return values
    for i in TEXT_COLUMNS:
        value = values[i]
        if value and value.startswith(FORMULA_STARTS):
            values[i] = "'" + value
    return values


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def csv_chunks(
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
    columns: Sequence[str] = COLUMNS,
) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel shows Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([f"{CSV_METADATA_PREFIX} {meta.describe()}"])
    writer.writerow(columns)
    done = 0
    for batch in _batches(rows, CHUNK):
        writer.writerows([escaped(row, columns) for row in batch])
        done += len(batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if progress:
            progress(done)
    if not done:
        yield buffer.getvalue().encode("utf-8")
        if progress:
            progress(done)


def json_chunks(
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
    columns: Sequence[str] = COLUMNS,
) -> Iterator[bytes]:
    """``{"meta": {...}, "systems": [...]}``, written object by object."""
    head = {"meta": {**meta.as_dict(), "columns": list(columns)}}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + f', "{meta.unit}": [').encode()
    done = 0
    for batch in _batches(rows, CHUNK):
        # One encoder for the file: json.dumps(..., ensure_ascii=False) builds a new one per call.
        text = ",\n".join(map(_JSON.encode, batch))
        yield (("," if done else "") + "\n" + text).encode()
        done += len(batch)
        if progress:
            progress(done)
    yield b"\n]}\n"
    if progress and not done:
        progress(done)


WIDTHS = {
    "code": 18,
    "name": 48,
    "description": 60,
    "purpose": 40,
    "owner_agency_name": 36,
    "user_agencies": 30,
    "legal_basis": 36,
    "mandate": 36,
    "usage_orientation": 36,
    "capabilities": 30,
    "overlap_justification": 40,
}


NUMBER_FORMATS = {
    "estimated_cost_vnd": "thousands",
    "cost_vnd": "thousands",
    "target_users": "thousands",
    "active_users": "thousands",
    "score": "percent",
}
"""How the workbook shows a column's numbers (the value stays the plain number)."""
DATE_COLUMNS = frozenset({*inventory.DATE_COLUMNS, "decided_at", "flagged_at", "detected_at", "exported_at"})
"""Columns written as real date cells in a workbook (ISO 8601 text in CSV and JSON)."""


def _dated(rows: Iterable[list[Any]], header: Sequence[str]) -> Iterator[list[Any]]:
    """The rows with their ISO dates and times turned into dates, for spreadsheet date cells."""
    indices = [i for i, name in enumerate(header) if name in DATE_COLUMNS]
    if not indices:
        yield from rows
        return
    for row in rows:
        for i in indices:
            value = row[i] if i < len(row) else None
            if isinstance(value, str) and value:
                with suppress(ValueError):  # not a date after all: kept as the text it is
                    row[i] = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        yield row


def write_xlsx(
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    extra_sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]],
    progress: Callable[[int], None] | None = None,
    columns: Sequence[str] = COLUMNS,
) -> tempfile.SpooledTemporaryFile:  # type: ignore[type-arg]
    """The workbook of :func:`_workbook` in a file, for a command that writes it to disk."""
    sheets, properties = _workbook(meta, rows, extra_sheets, progress, columns)
    # Returned open to the caller, who streams it and closes it.
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    xlsx.write(output, sheets, properties)
    output.seek(0)
    if progress:
        progress(meta.count)
    return output


def xlsx_chunks(
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    extra_sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]],
    columns: Sequence[str] = COLUMNS,
) -> Iterator[bytes]:
    """The workbook of :func:`_workbook` as it is written, for a download that starts at once."""
    sheets, properties = _workbook(meta, rows, extra_sheets, None, columns)
    return xlsx.stream(sheets, properties)


def _workbook(
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    extra_sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]],
    progress: Callable[[int], None] | None,
    columns: Sequence[str],
) -> tuple[list[xlsx.Sheet], xlsx.Properties]:
    """The sheets of an export, their rows still to be read: Systems, the related sheets, About.

    Every sheet but About has a bold, frozen header with a filter; text cells are escaped.
    """

    def system_rows() -> Iterator[list[Any]]:
        for done, row in enumerate(rows, 1):
            if progress and done % CHUNK == 0:
                progress(done)
            yield escaped(row, columns)

    def escaped_rows(sheet_rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
        for row in sheet_rows:
            # safe_cell inline: a call per cell of the 160,000-row dependencies sheet is not free.
            yield [("'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v) for v in row]

    def widths(header: Sequence[str], named: dict[str, int]) -> list[int]:
        return [
            named.get(name, max(12, len(name) + 2, min(len(column_label(name)) + 2, 40))) for name in header
        ]

    def sheet(
        title: str, header: Sequence[str], rows: Iterable[list[Any]], named: dict[str, int]
    ) -> xlsx.Sheet:
        return xlsx.Sheet(
            title,
            _dated(rows, header),
            list(header),
            widths(header, named),
            labels=[column_label(name) for name in header],
            number_formats=[NUMBER_FORMATS.get(name, "") for name in header],
        )

    about = [
        ["exported_at", meta.exported_at],
        ["exported_by", meta.exported_by],
        ["filters", json.dumps(meta.filters, ensure_ascii=False)],
        [meta.unit, meta.count],
        *([["notes", meta.notes]] if meta.notes else []),
    ]
    sheets = [
        sheet(meta.unit.capitalize(), columns, system_rows(), WIDTHS),
        *(sheet(title, header, escaped_rows(sheet_rows), {}) for title, header, sheet_rows in extra_sheets),
        xlsx.Sheet(
            "About",
            [[key, safe_cell(value)] for key, value in about],
            widths=[20, 100],
            frozen_header=False,
            filtered=False,
        ),
    ]
    properties = xlsx.Properties(creator=meta.exported_by, title=meta.title, description=meta.describe())
    return sheets, properties
