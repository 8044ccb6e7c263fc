"""Uploaded Excel workbooks, read within fixed bounds before any work is done.

An .xlsx is a zip of XML parts, and both layers can lie: a 2 KB file may declare a sheet of
16,384 × 1,048,576 cells (which the reader then pads row by row), inflate to gigabytes of empty
``<row/>`` elements, or hold one cell of a gigabyte. Any submitter may upload one, so the archive's
declared sizes are checked before it is opened (Python's zip reader refuses a part that inflates
past its declared size), the declared dimensions are ignored, rows are streamed and counted, and
each bound stops the reading at once with a message that names it.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

from flask_babel import lazy_gettext as _l

from registry.interchange.source import UnreadableFileError

MAX_INFLATED_BYTES = 256 * 1024 * 1024
"""All parts together, inflated. A workbook of 100,000 systems inflates to about 120 MB."""
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
"""The shared strings are held in memory whole while the sheet streams."""
MAX_SHEET_BYTES = 160 * 1024 * 1024
"""One worksheet part; it streams, but one cell of it is held whole."""
MAX_PARTS = 1_000
MAX_COLUMNS = 200
"""The registry's columns number about thirty; cells further right are not read."""
MAX_CELL_CHARACTERS = 32_767
"""Excel's own limit for a cell: a longer one was not written by Excel."""
MAX_BLANK_ROWS = 10_000
"""Blank rows allowed beyond the records themselves (spacing, a stray format at row 1,048,576)."""
MAX_SECONDS = 60.0
"""A last bound for what the others miss: a real workbook of 100,000 systems reads in about 20 s."""


class _Formula(str):
    """A cell that holds a formula: reported, not read."""


def is_formula(value: Any) -> bool:
    return isinstance(value, _Formula)


def _check_archive(data: bytes, *, max_rows: int) -> None:
    """Refuse a workbook past the bounds before the reader builds anything from it.

    Declared sizes first (a lie there is caught by the zip reader's CRC check); then every
    worksheet and the shared strings are streamed through expat in 1 MB pieces, counting rows
    and the length of each text, so a gigabyte cell is refused after its first 32 KB.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _not_a_workbook() from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise UnreadableFileError(
                _l(
                    "The workbook has more than %(limit)s parts; it was not written by Excel.",
                    limit=MAX_PARTS,
                )
            )
        _refuse_inflated(parts)
        deadline = time.monotonic() + MAX_SECONDS
        for part in parts:
            name = part.filename
            is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
            if is_sheet or name.endswith("sharedStrings.xml"):
                try:
                    with archive.open(part) as stream:
                        _scan(stream, max_rows=max_rows if is_sheet else None, deadline=deadline)
                except (zipfile.BadZipFile, expat.ExpatError, OSError, EOFError) as exc:
                    raise _not_a_workbook() from exc


def _refuse_inflated(parts: list[zipfile.ZipInfo]) -> None:
    inflated = sum(part.file_size for part in parts)
    strings = max((p.file_size for p in parts if p.filename.endswith("sharedStrings.xml")), default=0)
    sheet = max((p.file_size for p in parts if p.filename.startswith("xl/worksheets/")), default=0)
    if inflated > MAX_INFLATED_BYTES or strings > MAX_SHARED_STRINGS_BYTES or sheet > MAX_SHEET_BYTES:
        raise UnreadableFileError(
            _l(
                "The workbook unpacks to %(size)s MB, more than the %(limit)s MB a registry import can hold. "
                "Save it again from Excel without empty formatted rows, or split it into several files.",
                size=f"{inflated / 2**20:,.0f}",
                limit=f"{MAX_INFLATED_BYTES / 2**20:,.0f}",
            )
        )


def _scan(stream: IO[bytes], *, max_rows: int | None, deadline: float) -> None:
    """Stream one XML part, refusing too many rows or too long a text as soon as either shows."""
    parser = expat.ParserCreate()
    parser.buffer_text = False  # long texts arrive in pieces: counted, never joined
    state = {"row": 0, "text": 0}

    def start(name: str, attributes: dict[str, str]) -> None:
        state["text"] = 0
        if max_rows is not None and name.rpartition(":")[2] == "row":
            number = attributes.get("r", "")
            state["row"] = max(state["row"] + 1, int(number) if number.isdigit() else 0)
            if state["row"] > max_rows:
                raise too_many_rows(max_rows)

    def text(data: str) -> None:
        state["text"] += len(data)
        if state["text"] > MAX_CELL_CHARACTERS:
            raise cell_too_long(state["row"] or None)

    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    while chunk := stream.read(1 << 20):
        parser.Parse(chunk, False)
        if time.monotonic() > deadline:
            raise too_slow()
    parser.Parse(b"", True)


def _not_a_workbook() -> UnreadableFileError:
    return UnreadableFileError(_l("This is not an Excel workbook (.xlsx) that can be read."))


def too_many_rows(limit: int) -> UnreadableFileError:
    return UnreadableFileError(
        _l("The sheet has more than %(limit)s rows; split it into smaller files.", limit=f"{limit:,}")
    )


def cell_too_long(row: int | None) -> UnreadableFileError:
    limit = f"{MAX_CELL_CHARACTERS:,}"
    if row is None:
        return UnreadableFileError(
            _l(
                "A text in the workbook holds more than %(limit)s characters, the most a cell can hold.",
                limit=limit,
            )
        )
    return UnreadableFileError(
        _l(
            "A cell in row %(row)s holds more than %(limit)s characters, the most a cell can hold.",
            row=row,
            limit=limit,
        )
    )


def too_slow() -> UnreadableFileError:
    return UnreadableFileError(
        _l("Reading the workbook took longer than %(seconds)s seconds.", seconds=f"{MAX_SECONDS:.0f}")
    )


def open_workbook(data: bytes, *, max_rows: int) -> Any:
    """An uploaded workbook opened read-only with its formulas as written (never evaluated);
    anything that is not a readable .xlsx within the bounds is an :class:`UnreadableFileError`."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_archive(data, max_rows=max_rows)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise _not_a_workbook() from exc


def sheet_rows(sheet: Any, *, max_rows: int, clock: Any = time.monotonic) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, cell values)`` of a read-only sheet, streamed within the module's bounds.

    The sheet's declared dimensions are dropped first: they are what makes the reader pad every
    row to 16,384 cells. Blank rows yielded for gaps are the same tuple each time, so skipping
    them costs nothing per row; the row count still bounds them.
    """
    sheet.reset_dimensions()
    deadline = clock() + MAX_SECONDS
    blank: tuple[Any, ...] | None = None
    try:
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), 1):
            if number > max_rows:
                raise UnreadableFileError(
                    _l(
                        "The sheet has more than %(limit)s rows; split it into smaller files.",
                        limit=f"{max_rows:,}",
                    )
                )
            if number % 1024 == 0 and clock() > deadline:
                raise UnreadableFileError(
                    _l(
                        "Reading the workbook took longer than %(seconds)s seconds.",
                        seconds=f"{MAX_SECONDS:.0f}",
                    )
                )
            if row is blank:
                continue
            values = [_value(cell, number) for cell in row]
            if all(value is None for value in values):
                blank = row
                continue
            yield number, values
    except (KeyError, ValueError, SyntaxError, zipfile.BadZipFile) as exc:
        # A malformed part (bad XML, a CRC error from a part inflating past its declared size).
        raise _not_a_workbook() from exc


def _value(cell: Any, row: int) -> Any:
    value = cell.value
    if isinstance(value, str) and len(value) > MAX_CELL_CHARACTERS:
        raise cell_too_long(row)
    if getattr(cell, "data_type", None) == "f":
        return _Formula(value)
    return value
