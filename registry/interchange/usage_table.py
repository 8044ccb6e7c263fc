"""Reading usage reports from CSV or XLSX: one row per system and period.

Columns: ``system_code``, ``period_start``, ``period_end``, ``active_users``, ``transactions``,
``cost_vnd``, ``note``; their English or Vietnamese labels are accepted as headers too. Cells
are returned as text or spreadsheet values; :func:`day` and :func:`whole_number` read them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from registry.fields import field_label
from registry.interchange import workbook
from registry.interchange.source import Source, SourceRecord, UnreadableFileError
from registry.interchange.tabular import (
    _csv_lines,  # shared with the systems' reader: same dialect detection
    decode_text,
    row_values,
)
from registry.text import fold

USAGE_COLUMNS = (
    "system_code",
    "period_start",
    "period_end",
    "active_users",
    "transactions",
    "cost_vnd",
    "note",
)
REQUIRED_COLUMNS = ("system_code", "period_start", "period_end")
MAX_ROWS = 100_000
THOUSANDS = re.compile(r"^\d{1,3}(?:[.,\s\u00a0]\d{3})+$")
DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _aliases() -> dict[str, str]:
    aliases = {fold(c): c for c in USAGE_COLUMNS}
    aliases.update({fold("code"): "system_code", fold("system"): "system_code"})
    for column in USAGE_COLUMNS:
        for locale in ("en", "vi"):
            with force_locale(locale):
                label = field_label(column)
            aliases.setdefault(fold(label), column)
    return aliases


def read_usage_table(filename: str, data: bytes) -> Source:
    """The rows of a CSV (UTF-8) or XLSX usage file; unknown columns and formulas are problems."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        book = workbook.open_workbook(data, max_rows=MAX_ROWS + workbook.MAX_BLANK_ROWS)
        try:
            sheet = book["Usage"] if "Usage" in book.sheetnames else book.worksheets[0]
            rows = workbook.sheet_rows(sheet, max_rows=MAX_ROWS + workbook.MAX_BLANK_ROWS)
            return _rows("xlsx", list(rows), str(_l("row")))
        finally:
            book.close()
    return _rows("csv", list(_csv_lines(decode_text(data))), str(_l("line")))


def _rows(fmt: str, lines: list[tuple[int, list[Any]]], word: str) -> Source:
    source = Source(format=fmt)
    aliases = _aliases()
    columns: list[str | None] | None = None
    for number, cells in lines:
        location = f"{word} {number}"
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        if columns is None:
            columns = []
            for cell in cells:
                text = str(cell or "").strip()
                column = aliases.get(fold(text)) if text else None
                if text and column is None:
                    source.problems.append((location, text, _l("Unknown column “%(name)s”.", name=text)))
                columns.append(column)
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            for column in missing:
                source.problems.append(
                    (location, column, _l("The header row has no “%(name)s” column.", name=column))
                )
            if source.problems:
                return source
            continue
        if len(source.records) >= MAX_ROWS:
            raise UnreadableFileError(
                _l(
                    "The file has more than %(limit)s rows; split it into smaller files.",
                    limit=f"{MAX_ROWS:,}",
                )
            )
        source.records.append(SourceRecord(location, row_values(columns, cells, location, source)))
    if columns is None:
        raise UnreadableFileError(_l("The file is empty: it needs a header row and one row per report."))
    return source


class CellError(ValueError):
    """A cell that cannot be read as what its column holds; ``message`` says what to write."""

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))


def day(value: Any) -> date | None:
    """A date cell: a spreadsheet date, ``2026-06-30`` or ``30/06/2026``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        match = DAY_MONTH_YEAR.match(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(_l("Write the date as YYYY-MM-DD or DD/MM/YYYY.")) from None


def whole_number(value: Any) -> int | None:
    """A whole-number cell; thousands may be grouped with dots, commas or spaces (1.200.000)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(_l("Write a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if THOUSANDS.match(text):
        text = re.sub(r"[.,\s\u00a0]", "", text)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise CellError(_l("Write a whole number."))
