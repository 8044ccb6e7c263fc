"""A streaming XLSX (Office Open XML) writer for tables of plain values.

An export's workbook is a few wide tables of text and numbers: a bold, frozen header with a
filter, column widths, and document properties. Writing that takes little of what a general
spreadsheet library offers, and general libraries pay for each cell in Python: on the same
100,000 systems, openpyxl's write-only mode took about 20 CPU-seconds and xlsxwriter's
constant-memory mode about 16. Here a row becomes one string (inline strings, no shared-string
table, so memory stays flat): under 4 seconds, compression included.

Each sheet's rows go to a temporary file first, because the sheet's ``<dimension>`` (its
size, which readers such as openpyxl's read-only mode rely on) comes before the rows; the
file is then copied into the ZIP archive.

What a cell becomes: ``str`` an inline string (``xml:space="preserve"`` keeps its spaces),
``bool`` a boolean, ``int``/``float``/``Decimal`` a number (in its column's number format),
``datetime``/``date`` a date cell (UTC, shown ``yyyy-mm-dd hh:mm:ss`` or ``yyyy-mm-dd``),
``None`` and ``""`` no cell, and anything else its ``str()`` as text. Text is never a
formula. Characters XML cannot hold (controls other than tab, newline and carriage return)
are written ``_xHHHH_``, as Excel writes them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

MAX_COLUMNS = 16384
MAX_CELL_TEXT = 32767
"""Excel's limit on a cell's characters: it calls a workbook with a longer one corrupt and
"repairs" it, so longer text is cut here, as XlsxWriter cuts it."""
COMPRESSION_LEVEL = 3
"""The systems sheet of 100,000 systems (224 MB of XML) deflates in 1.0 s to 28 MB at level 3;
level 6 (zlib's default) takes 2.4 s for 23 MB, level 1 0.9 s for 31 MB."""
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL_BYTES = bytes(range(0x20)).translate(None, b"\t\n\r")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Sheet:
    """One worksheet: an optional bold header, then ``rows`` (read once, as they come)."""

    title: str
    rows: Iterable[Sequence[Any]]
    header: Sequence[str] = ()
    widths: Sequence[float] = ()
    """Column widths in characters, from column A; columns past the end keep Excel's."""
    frozen_header: bool = True
    filtered: bool = True
    """An autofilter over the header and every row."""
    labels: Sequence[str] = ()
    """People's names of the header's columns, written in a row above it: the header itself
    stays the machine names an import reads back."""
    number_formats: Sequence[str] = ()
    """Per column from A: ``"thousands"`` (1,200,000), ``"percent"`` (85%) or ``""``."""


NUMBER_STYLES = {"thousands": ' s="2"', "percent": ' s="5"'}
_DATE_STYLE, _DATETIME_STYLE, _LABEL_STYLE, _NAME_STYLE = ' s="3"', ' s="4"', ' s="1"', ' s="6"'
_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's (1900) date system, as its serial numbers count from it."""


def _serial(value: date) -> str:
    """Excel's serial number of a date or an instant (days since :data:`_EPOCH`, UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return repr(round((value - _EPOCH).total_seconds() / 86400, 9))
    return str((value - _EPOCH.date()).days)


@dataclass(frozen=True)
class Properties:
    creator: str = ""
    title: str = ""
    description: str = ""


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    if not 0 <= index < MAX_COLUMNS:
        raise ValueError(f"column {index} is outside a worksheet")
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _legal(xml: str) -> str:
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", xml)


def _encoded(xml: str) -> bytes:
    """UTF-8 of ``xml``, characters XML cannot hold replaced.

    The test runs on the encoded bytes (controls are single bytes in UTF-8): deleting them
    and comparing lengths is several times faster than a regular expression over the text.
    """
    data = xml.encode()
    if (
        len(data.translate(None, _CONTROL_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
    ):
        data = _legal(xml).encode()
    return data


def _row(
    number: int, values: Sequence[Any], letters: Sequence[str], style: str = "", numbers: Sequence[str] = ()
) -> str:
    """One ``<row>``; ``letters`` must cover every value (see ``_sheet_data``); ``numbers`` holds
    each column's style for numbers (``""`` for none)."""
    cells = [f'<row r="{number}">']
    append = cells.append
    for letter, value, number_style in zip(letters, values, numbers or [style] * len(letters), strict=False):
        kind = value.__class__
        if kind is str:
            if value:
                if len(value) > MAX_CELL_TEXT:
                    value = value[:MAX_CELL_TEXT]
                # The three replacements inline: a function call per cell cost more than they do.
                append(
                    f'<c r="{letter}{number}"{style} t="inlineStr"><is><t xml:space="preserve">'
                    f"{value.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</t></is></c>"
                )
        elif value is None:
            continue
        elif kind is bool:
            append(f'<c r="{letter}{number}"{style} t="b"><v>{int(value)}</v></c>')
        elif kind is int or kind is float or kind is Decimal:
            append(f'<c r="{letter}{number}"{style or number_style}><v>{value}</v></c>')
        elif kind is datetime:
            append(f'<c r="{letter}{number}"{_DATETIME_STYLE}><v>{_serial(value)}</v></c>')
        elif kind is date:
            append(f'<c r="{letter}{number}"{_DATE_STYLE}><v>{_serial(value)}</v></c>')
        else:
            append(
                f'<c r="{letter}{number}"{style} t="inlineStr"><is><t xml:space="preserve">'
                f"{escape(str(value))}</t></is></c>"
            )
    append("</row>")
    return "".join(cells)


def _sheet_data(sheet: Sheet, body: IO[bytes]) -> Generator[None, None, tuple[int, int]]:
    """Write ``sheet``'s ``<row>`` elements to ``body``, pausing after each batch so a stream
    can pass them on; returns the number of rows and of columns."""
    letters = [column_letter(i) for i in range(max(len(sheet.header), len(sheet.labels)))]
    number, width = 0, len(letters)
    if sheet.labels:
        number = 1
        body.write(_encoded(_row(1, sheet.labels, letters, _LABEL_STYLE)))
    if sheet.header:
        number += 1
        body.write(
            _encoded(_row(number, sheet.header, letters, _NAME_STYLE if sheet.labels else _LABEL_STYLE))
        )
    numbers = [NUMBER_STYLES.get(f, "") for f in sheet.number_formats]
    pending: list[str] = []
    for values in sheet.rows:
        number += 1
        if len(values) > len(letters):
            width = max(width, len(values))
            letters.extend(column_letter(i) for i in range(len(letters), len(values)))
        if len(numbers) < len(letters):
            numbers.extend([""] * (len(letters) - len(numbers)))
        pending.append(_row(number, values, letters, "", numbers))
        if len(pending) == 500:
            body.write(_encoded("".join(pending)))
            pending.clear()
            yield
    body.write(_encoded("".join(pending)))
    return number, width


def _sheet_head(sheet: Sheet, selected: bool) -> str:
    """The worksheet's start. It has no ``<dimension>``: the element is optional, and the row
    count is not known until the rows have streamed."""
    view = '<sheetView tabSelected="1" workbookViewId="0"' if selected else '<sheetView workbookViewId="0"'
    if sheet.frozen_header and sheet.header:
        top = _header_rows(sheet)
        view += (
            f'><pane ySplit="{top}" topLeftCell="A{top + 1}" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView>'
        )
    else:
        view += "/>"
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>'
        for i, width in enumerate(sheet.widths, 1)
    )
    return (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _filter_ref(sheet: Sheet, rows: int, columns: int) -> str | None:
    if not (sheet.filtered and sheet.header):
        return None
    top = _header_rows(sheet)  # the filter sits on the machine names' row
    return f"A{top}:{column_letter(max(columns, 1) - 1)}{max(rows, top)}"


def _header_rows(sheet: Sheet) -> int:
    return (1 if sheet.header else 0) + (1 if sheet.labels else 0)


def write(output: IO[bytes], sheets: Sequence[Sheet], properties: Properties) -> None:
    """Write a workbook of ``sheets`` to ``output``, reading each sheet's rows once."""
    for _ in _writing(output, sheets, properties):
        pass


def stream(sheets: Sequence[Sheet], properties: Properties) -> Iterator[bytes]:
    """The workbook's bytes as they are written: the first arrive after the first rows, so a
    download of 100,000 systems starts at once instead of after the whole workbook is built.
    The zip goes out with data descriptors, as a zip written to a pipe does."""
    sink = _Sink()
    for _ in _writing(sink, sheets, properties):
        if chunk := sink.take():
            yield chunk
    if chunk := sink.take():
        yield chunk


class _Sink(io.RawIOBase):
    """A write-only, unseekable file whose bytes are taken out as they come."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _writing(output: IO[bytes], sheets: Sequence[Sheet], properties: Properties) -> Iterator[None]:
    """Write the workbook, pausing after each batch of rows (see :func:`stream`)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    filters: list[str | None] = []
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _root_rels())
        archive.writestr("docProps/core.xml", _encoded(_core(properties)))
        archive.writestr("docProps/app.xml", _app(sheets))
        yield
        for index, sheet in enumerate(sheets):
            name = f"xl/worksheets/sheet{index + 1}.xml"
            # A sheet part stays far below the 4 GB that would need ZIP64 (100,000 systems: ~100 MB).
            with archive.open(name, "w") as entry:
                entry.write(_sheet_head(sheet, selected=index == 0).encode())
                rows, columns = yield from _sheet_data(sheet, entry)
                ref = _filter_ref(sheet, rows, columns)
                filters.append(ref)
                entry.write(
                    (
                        "</sheetData>"
                        + (f'<autoFilter ref="{ref}"/>' if ref else "")
                        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
                        ' footer="0.3"/></worksheet>'
                    ).encode()
                )
            yield
        archive.writestr("xl/workbook.xml", _workbook(sheets, filters))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES)


def _content_types(count: int) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet}"/>'
        for i in range(1, count + 1)
    )
    return (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/docProps/app.xml"'
        ' ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        '<Override PartName="/docProps/core.xml"'
        ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/xl/styles.xml"'
        ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/workbook.xml"'
        ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )


def _root_rels() -> str:
    return (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def _core(properties: Properties) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = "".join(
        f"<{tag}>{escape(value)}</{tag}>"
        for tag, value in (
            ("dc:title", properties.title),
            ("dc:creator", properties.creator),
            ("dc:description", properties.description),
        )
        if value
    )
    return (
        f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'{fields}<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'
    )


def _app(sheets: Sequence[Sheet]) -> str:
    titles = "".join(f"<vt:lpstr>{escape(s.title)}</vt:lpstr>" for s in sheets)
    return (
        f'{_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>Microsoft Excel</Application><HeadingPairs>"
        '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>'
        f"<vt:variant><vt:i4>{len(sheets)}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        f'<TitlesOfParts><vt:vector size="{len(sheets)}" baseType="lpstr">{titles}</vt:vector>'
        "</TitlesOfParts></Properties>"
    )


def _workbook(sheets: Sequence[Sheet], filters: Sequence[str | None]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(s.title)} sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{escape(_quoted(sheets[i].title))}!{_absolute(ref)}</definedName>"
        for i, ref in enumerate(filters)
        if ref
    )
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
        f"<sheets>{entries}</sheets>{f'<definedNames>{names}</definedNames>' if names else ''}"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    )


_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><i/><sz val="9"/><color rgb="FF595959"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    # 0 plain, 1 bold (a header), 2 thousands, 3 date, 4 date and time, 5 percent,
    # 6 the machine names under a row of labels.
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
