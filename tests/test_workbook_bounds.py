"""Hostile workbooks are refused quickly, in bounded memory, with a message naming the bound."""

from __future__ import annotations

import io
import itertools
import re
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from registry.interchange import workbook
from registry.interchange.source import UnreadableFileError
from registry.interchange.tabular import read_xlsx
from registry.interchange.usage_table import read_usage_table

HEADER = ("name", "description", "owner_agency", "scope_level")
ROW = ("Hệ thống quản lý văn bản", "Quản lý văn bản đi và đến.", "TU-THA", "province")


def _workbook(*rows: tuple[object, ...]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Systems"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite_sheet(data: bytes, change) -> bytes:
    """The same workbook with its first sheet's XML passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode()).encode()
            target.writestr(item.filename, content)
    return out.getvalue()


def _refused(data: bytes, app, max_records: int = 100_000) -> tuple[str, float, int]:
    """The refusal's message, the seconds and the peak bytes the reading took."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with app.test_request_context(), pytest.raises(UnreadableFileError) as refused:
            read_xlsx(data, max_records=max_records)
        message = str(refused.value.message)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return message, time.perf_counter() - started, peak


def test_a_real_workbook_still_reads(app):
    with app.test_request_context():
        source = read_xlsx(_workbook(HEADER, ROW, (), ROW), max_records=10)
    assert [record.location.split()[-1] for record in source.records] == ["2", "4"]
    assert source.records[0].values["name"] == ROW[0]


def test_a_declared_sheet_of_every_cell_is_not_padded(app):
    """1.6 KB declaring A1:XFD1048576 once kept a worker busy until it was killed."""
    bomb = _rewrite_sheet(
        _workbook(HEADER, ROW),
        lambda xml: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:XFD1048576"', xml),
    )
    assert len(bomb) < 10_000
    started = time.perf_counter()
    with app.test_request_context():
        source = read_xlsx(bomb, max_records=10)
    assert time.perf_counter() - started < 2
    assert len(source.records) == 1


def test_a_row_at_the_bottom_of_the_sheet_stops_at_the_row_bound(app):
    far = _rewrite_sheet(
        _workbook(HEADER, ROW),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        ),
    )
    message, seconds, peak = _refused(far, app, max_records=10)
    assert "10,010 rows" in message
    assert seconds < 2 and peak < 200 * 1024 * 1024


def test_an_archive_inflating_past_the_bound_is_refused_before_reading(app, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_SHEET_BYTES", 1024 * 1024)
    rows = "".join(itertools.repeat("<row/>", 400_000))  # 2.4 MB inflated, a few KB deflated
    bomb = _rewrite_sheet(
        _workbook(HEADER, ROW), lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    assert len(bomb) < 100_000
    message, seconds, _ = _refused(bomb, app)
    assert "unpacks to" in message and seconds < 2


def test_a_cell_longer_than_excel_allows_is_refused_with_its_row(app):
    """Excel never writes one (nor does openpyxl, which truncates): only a crafted file has it."""
    cell = "x" * (workbook.MAX_CELL_CHARACTERS + 1)
    crafted = _rewrite_sheet(
        _workbook(HEADER),
        lambda xml: xml.replace(
            "</sheetData>", f'<row r="2"><c r="B2" t="inlineStr"><is><t>{cell}</t></is></c></row></sheetData>'
        ),
    )
    message, _, _ = _refused(crafted, app)
    assert "row 2" in message and "more than 32,767 characters" in message


def test_reading_stops_at_the_time_bound(app):
    ticks = itertools.count(step=workbook.MAX_SECONDS)
    with app.test_request_context():
        book = workbook.open_workbook(_workbook(HEADER, *[ROW] * 2100), max_rows=10_000)
        with pytest.raises(UnreadableFileError) as refused:
            list(workbook.sheet_rows(book.worksheets[0], max_rows=10_000, clock=lambda: next(ticks)))
    assert "longer than 60 seconds" in str(refused.value.message)


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"\x00" * 100])
def test_what_is_not_a_workbook_is_unreadable(app, data):
    message, _, _ = _refused(data, app)
    assert "not an Excel workbook" in message


def test_the_usage_reader_has_the_same_bounds(app, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_SHEET_BYTES", 1024 * 1024)
    rows = "".join(itertools.repeat("<row/>", 400_000))
    bomb = _rewrite_sheet(
        _workbook(("system_code",)), lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    with app.test_request_context(), pytest.raises(UnreadableFileError):
        read_usage_table("usage.xlsx", bomb)
