"""Readers of the registry's own tabular formats: CSV, XLSX and JSON, as exported or templated.

The header row names interchange columns (``code``, ``name``, ``owner_agency``…), as in an
export and in the downloadable template; English or Vietnamese labels of the same fields are
accepted too, because people retype headers. Columns the registry computes (version,
timestamps, the owner's name) are ignored.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from registry import jsonlimits
from registry.fields import field_label
from registry.interchange import workbook
from registry.interchange.record import INPUT_FIELD_OF_COLUMN, WRITABLE_COLUMNS
from registry.interchange.source import Source, SourceRecord, UnreadableFileError
from registry.text import fold

CSV_METADATA_PREFIX = "#"
FORMULA_STARTS = ("=", "+", "-", "@")
KNOWN_COLUMNS: tuple[str, ...] = ("code", "external_id", *WRITABLE_COLUMNS)
IGNORED_COLUMNS = frozenset({"owner_agency_name", "version", "created_at", "updated_at"})


def header_aliases() -> dict[str, str]:
    """Folded header text → column: the column itself and its English and Vietnamese labels."""
    aliases: dict[str, str] = {}
    for column in KNOWN_COLUMNS:
        aliases[fold(column)] = column
        label_key = INPUT_FIELD_OF_COLUMN.get(column, column)
        for locale in ("en", "vi"):
            with force_locale(locale):
                label = field_label(label_key)
            if label != label_key:
                aliases.setdefault(fold(label), column)
    return aliases


def _columns(header: list[Any], source: Source, location: str) -> list[str | None]:
    """Each header cell's column, ``None`` for ignored ones; unknown headers are problems."""
    aliases = header_aliases()
    columns: list[str | None] = []
    seen: set[str] = set()
    for index, cell in enumerate(header, 1):
        text = str(cell or "").strip()
        if not text:
            columns.append(None)
            continue
        column = aliases.get(fold(text))
        if column is None and fold(text) in {fold(c) for c in IGNORED_COLUMNS}:
            columns.append(None)
            continue
        if column is None:
            source.problems.append(
                (location, text, _l("Unknown column “%(name)s” (column %(index)s).", name=text, index=index))
            )
        elif column in seen:
            source.problems.append((location, text, _l("Column “%(name)s” appears twice.", name=text)))
            column = None
        else:
            seen.add(column)
        columns.append(column)
    if "name" not in seen:
        source.problems.append((location, "name", _l("The header row has no “name” column.")))
    return columns


def unescape(value: Any) -> Any:
    """Undo the export's protection of formula-like text (``'=…`` back to ``=…``).

    The value stays text: nothing read from a file is ever evaluated.
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


def too_many(limit: int) -> UnreadableFileError:
    return UnreadableFileError(
        _l("The file has more than %(limit)s systems; split it into smaller files.", limit=f"{limit:,}")
    )


# --- CSV ---------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The file's text if it is UTF-8 (with or without BOM) or UTF-16 with a BOM.

    Anything else is refused with the encoding it most likely is, because a guess that is
    wrong for one cell silently corrupts Vietnamese names (Windows-1258 and VNI files still
    circulate).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFileError(
            _l(
                "The file is not UTF-8 text (first bad byte on line %(line)s; it looks like %(guess)s). "
                "In Excel, save it as “CSV UTF-8 (Comma delimited)” and upload it again.",
                line=line,
                guess=_guess_encoding(data),
            )
        ) from None


def _guess_encoding(data: bytes) -> str:
    sample = data[:200_000]
    for name in ("cp1258", "cp1252", "latin-1"):
        try:
            sample.decode(name)
        except UnicodeDecodeError:
            continue
        return {"cp1258": "Windows-1258", "cp1252": "Windows-1252", "latin-1": "Latin-1"}[name]
    return "an unknown encoding"  # pragma: no cover - latin-1 decodes every byte


def _csv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    for row in reader:
        yield reader.line_num, row


class _Delimited(csv.excel):
    delimiter = ","


def _dialect(text: str) -> type[csv.Dialect]:
    """Excel writes commas, or semicolons where the decimal mark is a comma, or tabs."""
    first = next((line for line in text.splitlines() if line and not line.startswith("#")), "")
    counts = {mark: first.count(mark) for mark in (",", ";", "\t")}
    best = max(counts, key=lambda mark: counts[mark])
    return type("Detected", (_Delimited,), {"delimiter": best if counts[best] else ","})


def read_csv(data: bytes, *, max_records: int) -> Source:
    return _read_rows("csv", _csv_lines(decode_text(data)), max_records=max_records, prefix=_l("line"))


# --- XLSX --------------------------------------------------------------------------------------


def read_xlsx(data: bytes, *, max_records: int) -> Source:
    """The *Systems* sheet (or the first one), values only: formulas are refused, never evaluated."""
    book = workbook.open_workbook(data, max_rows=max_records + workbook.MAX_BLANK_ROWS)
    try:
        sheet = book["Systems"] if "Systems" in book.sheetnames else book.worksheets[0]
        rows = workbook.sheet_rows(sheet, max_rows=max_records + workbook.MAX_BLANK_ROWS)
        source = _read_rows("xlsx", rows, max_records=max_records, prefix=_l("row"))
    finally:
        book.close()
    return source


# --- shared by CSV and XLSX --------------------------------------------------------------------


def _read_rows(
    fmt: str, lines: Iterable[tuple[int, list[Any]]], *, max_records: int, prefix: object
) -> Source:
    source = Source(format=fmt)
    columns: list[str | None] | None = None
    header: tuple[str, list[Any]] | None = None
    word = str(prefix)
    for number, cells in lines:
        location = f"{word} {number}"
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        if columns is None:
            if header is None:
                if str(cells[0] or "").startswith(CSV_METADATA_PREFIX):
                    continue  # the export's description line
                header = (location, cells)
                continue
            # A workbook's row of labels stands above the column names: read the names.
            named = is_column_row(cells)
            columns = _columns(*((cells, source, location) if named else (header[1], source, header[0])))
            if source.problems:
                return source
            if named:
                continue
        if len(source.records) >= max_records:
            raise too_many(max_records)
        values = row_values(columns, cells, location, source)
        extra = [c for c in cells[len(columns) :] if c not in (None, "")]
        if extra:
            source.problems.append((location, "", _l("The row has more cells than the header row.")))
        source.records.append(SourceRecord(location, values))
    if columns is None:
        if header is None:
            raise UnreadableFileError(_l("The file is empty: it needs a header row and one row per system."))
        _columns(header[1], source, header[0])  # a header and no rows: its problems, if any
    return source


def is_column_row(cells: list[Any]) -> bool:
    """Whether a row holds only column names (``code``, ``name``…), as an export's second
    header row does under the labels in the reader's language."""
    names = [str(c).strip() for c in cells if c not in (None, "")]
    return "name" in names and all(n in KNOWN_COLUMNS or n in IGNORED_COLUMNS for n in names)


def row_values(columns: list[str | None], cells: list[Any], location: str, source: Source) -> dict[str, Any]:
    """A row's cells under their columns, unescaped; a formula is reported, not read, and a cell
    under an unknown column is left out."""
    values: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        if column is None:
            continue
        if workbook.is_formula(cell):
            source.problems.append(
                (location, column, _l("The cell holds a formula; enter the value itself."))
            )
            continue
        values[column] = unescape(cell)
    return values


# --- JSON --------------------------------------------------------------------------------------


def read_json(data: bytes, *, max_records: int) -> Source:
    """The export's ``{"meta", "systems": [...]}``, or a plain list of system objects."""
    try:
        document = jsonlimits.loads(decode_text(data))
    except jsonlimits.TooDeepError as exc:
        raise UnreadableFileError.too_deep(exc.max_depth) from None
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(
            _l("The file is not valid JSON (line %(line)s: %(reason)s).", line=exc.lineno, reason=exc.msg)
        ) from None
    items = document.get("systems") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise UnreadableFileError(_l("Expected a list of systems, or an object with a “systems” list."))
    if len(items) > max_records:
        raise too_many(max_records)
    source = Source(format="json")
    for index, item in enumerate(items):
        location = f"systems[{index}]"
        if not isinstance(item, dict):
            source.problems.append((location, "", _l("Each system must be a JSON object.")))
            continue
        unknown = [key for key in item if key not in KNOWN_COLUMNS and key not in IGNORED_COLUMNS]
        for key in unknown:
            source.problems.append((location, key, _l("Unknown field “%(name)s”.", name=key[:60])))
        source.records.append(SourceRecord(location, {k: v for k, v in item.items() if k in KNOWN_COLUMNS}))
    return source
