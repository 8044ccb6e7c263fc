"""The streaming XLSX writer: what Excel and openpyxl read back from it."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from registry.db import get_engine
from registry.exports import xlsx
from registry.exports.formats import ExportMeta, write_xlsx


def _book(sheets: list[xlsx.Sheet], **properties: str) -> bytes:
    output = io.BytesIO()
    xlsx.write(output, sheets, xlsx.Properties(**properties))
    return output.getvalue()


def test_cells_keep_their_types_and_text_is_never_a_formula():
    row = ["0123", "=1+1", 5, 2.5, True, None, Decimal("12.5"), " spaced ", "a & <b>", "dòng\nhai", ""]
    data = _book([xlsx.Sheet("Systems", [row], [f"h{i}" for i in range(len(row))])])
    values = [(c.value, c.data_type) for c in openpyxl.load_workbook(io.BytesIO(data))["Systems"][2]]
    assert values == [
        ("0123", "s"),
        ("=1+1", "s"),
        (5, "n"),
        (2.5, "n"),
        (True, "b"),
        (None, "n"),
        (12.5, "n"),
        (" spaced ", "s"),
        ("a & <b>", "s"),
        ("dòng\nhai", "s"),
        (None, "n"),
    ]


def test_a_sheet_has_a_bold_frozen_filtered_header_widths_and_a_filter():
    rows = [[f"S{i}", i] for i in range(3)]
    data = _book(
        [
            xlsx.Sheet("Systems", rows, ["code", "count"], [18, 40]),
            xlsx.Sheet("About", [["k", "v"]], widths=[20], frozen_header=False, filtered=False),
        ],
        creator="admin",
        title="Registry inventory",
        description="3 systems",
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Systems", "About"]
    systems, about = book["Systems"], book["About"]
    assert systems.freeze_panes == "A2" and systems.auto_filter.ref == "A1:B4"
    assert systems["A1"].font.b and not systems["A2"].font.b
    assert systems.column_dimensions["A"].width == 18 and systems.column_dimensions["B"].width == 40
    assert about.freeze_panes is None and not about.auto_filter.ref
    assert about.column_dimensions["A"].width == 20 and about["A1"].value == "k"
    assert book.properties.creator == "admin" and book.properties.title == "Registry inventory"
    assert book.properties.description == "3 systems"
    # No <dimension>: it would have to precede rows that are still streaming. It is optional, and
    # a reader that wants the size works it out.
    read_only = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Systems"]
    assert read_only.calculate_dimension(force=True) == "A1:B4"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert 'localSheetId="0" hidden="1">\'Systems\'!$A$1:$B$4</definedName>' in workbook


def test_an_empty_sheet_keeps_its_header_and_filter():
    book = openpyxl.load_workbook(io.BytesIO(_book([xlsx.Sheet("Findings", [], ["system", "rule"])])))
    sheet = book["Findings"]
    assert [c.value for c in sheet[1]] == ["system", "rule"] and sheet.auto_filter.ref == "A1:B1"


def test_rows_wider_than_the_header_get_their_column_letters():
    data = _book([xlsx.Sheet("Wide", [list(range(30))], ["a"])])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Wide"]
    assert sheet["AD2"].value == 29 and sheet.auto_filter.ref == "A1:AD2"


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index, letter):
    assert xlsx.column_letter(index) == letter


def test_control_characters_are_written_as_excel_writes_them():
    """XML cannot hold them; openpyxl refused the whole export (IllegalCharacterError)."""
    meta = ExportMeta(exported_at="2026-01-01T00:00:00+00:00", exported_by="admin", filters={}, count=1)
    rows = [{"code": "HTTT-2026-000001", "name": "Bell\x07 and tab\tkept"}]
    with write_xlsx(meta, rows, [], columns=("code", "name")) as output:
        book = openpyxl.load_workbook(io.BytesIO(output.read()))
    assert book["Systems"]["B3"].value == "Bell_x0007_ and tab\tkept"  # under labels and names


def test_characters_xml_cannot_hold_are_replaced_wherever_they_are():
    rows = [["ok"] * 3 for _ in range(600)] + [["a\x00b", "c\ufffed", "e\x1ff"]]
    sheet = openpyxl.load_workbook(io.BytesIO(_book([xlsx.Sheet("S", rows, ["a", "b", "c"])])))["S"]
    assert [c.value for c in sheet[602]] == ["a_x0000_b", "c_xFFFE_d", "e_x001F_f"]
    assert sheet["A601"].value == "ok"


def test_text_longer_than_excel_allows_in_a_cell_is_cut_to_its_limit():
    long = "ă" * (xlsx.MAX_CELL_TEXT + 10)
    sheet = openpyxl.load_workbook(io.BytesIO(_book([xlsx.Sheet("S", [[long, "ok"]], ["a", "b"])])))["S"]
    assert sheet["A2"].value == long[: xlsx.MAX_CELL_TEXT] and sheet["B2"].value == "ok"


def test_a_streamed_workbook_starts_before_its_rows_are_read_and_reads_back_the_same():
    """A download of 100,000 systems once waited ~8 s for the whole workbook before its first byte."""
    read = 0

    def rows(count: int):
        nonlocal read
        for i in range(count):
            read += 1
            yield [f"HTTT-{i:06d}", f"Hệ thống {i}", i * 1000]

    def sheets() -> list[xlsx.Sheet]:
        return [
            xlsx.Sheet("Systems", rows(5_000), ["code", "name", "cost"]),
            xlsx.Sheet("About", [["a", "b"]]),
        ]

    chunks = xlsx.stream(sheets(), xlsx.Properties())
    first = next(chunks)
    assert first.startswith(b"PK") and read < 5_000
    streamed = first + b"".join(chunks)
    assert read == 5_000
    read = 0
    written = _book(sheets())

    def cells(data: bytes) -> list[list[list[object]]]:
        book = openpyxl.load_workbook(io.BytesIO(data))
        return [[[c.value for c in row] for row in sheet.iter_rows()] for sheet in book.worksheets]

    assert cells(streamed) == cells(written)
    assert len(cells(streamed)[0]) == 5_001
    assert zipfile.ZipFile(io.BytesIO(streamed)).testzip() is None


def test_the_streamed_web_download_opens_in_a_spreadsheet_reader(client, make_system):
    for i in range(3):
        make_system(name=f"Hệ thống {i}")
    response = client.get("/exports/systems.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.worksheets[0].max_row == 2 + 3  # labels, column names, three systems


def test_the_web_download_streams_and_leaves_no_connection_behind(app, client, make_system, monkeypatch):
    """Streamed related sheets once read on the request's session after it had committed: the
    transaction they reopened stayed open on PostgreSQL and blocked the next writer for good."""
    make_system(name="Hệ thống quản lý văn bản")
    streamed = []
    real_stream = xlsx.stream
    monkeypatch.setattr(xlsx, "stream", lambda *a: streamed.append(1) or real_stream(*a))
    response = client.get("/exports/systems.xlsx")
    assert streamed  # written as it goes, not built whole before the first byte
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).testzip() is None
    assert get_engine(app).pool.checkedout() == 0
