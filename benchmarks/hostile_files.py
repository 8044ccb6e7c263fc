"""How fast, and in how much memory, hostile import files are refused.

Builds the files a security review used against the import (a workbook declaring every cell of
the sheet, one inflating to 1.3 GB of empty rows, one with a cell of a gigabyte, JSON nested
100,000 deep) and hands each to the import's reader, in a fresh process per file so the peak
resident memory is the file's own. The goal: each is answered with a clear message in at most
2 s and 200 MB.

    python benchmarks/hostile_files.py
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _workbook_with(sheet_xml_tail: bytes | None = None, dimension: str | None = None) -> bytes:
    """A minimal valid workbook, its sheet data extended with raw XML (streamed into the zip)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(("name", "description", "owner_agency", "scope_level"))
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item.filename, content)
                continue
            if dimension:
                content = content.replace(b'<dimension ref="A1:D1"', f'<dimension ref="{dimension}"'.encode())
            head, _, tail = content.partition(b"</sheetData>")
            with target.open(item.filename, "w", force_zip64=True) as part:
                part.write(head)
                if sheet_xml_tail is not None:
                    _write_tail(part, sheet_xml_tail)
                part.write(b"</sheetData>" + tail)
    return out.getvalue()


def _write_tail(part, spec: bytes) -> None:
    kind, _, size = spec.partition(b":")
    total = int(size)
    if kind == b"rows":
        chunk = b"<row/>" * 100_000
    else:  # one huge inline cell
        part.write(b'<row r="2"><c r="B2" t="inlineStr"><is><t>')
        chunk = b"x" * 1_000_000
    written = 0
    while written < total:
        part.write(chunk)
        written += len(chunk)
    if kind != b"rows":
        part.write(b"</t></is></c></row>")


CASES = {
    "xlsx: declares A1:XFD1048576": lambda: ("bomb.xlsx", _workbook_with(dimension="A1:XFD1048576")),
    "xlsx: 1.3 GB of empty rows": lambda: ("bomb.xlsx", _workbook_with(b"rows:1300000000")),
    "xlsx: 150 MB of empty rows": lambda: ("bomb.xlsx", _workbook_with(b"rows:150000000")),
    "xlsx: one cell of 1 GB": lambda: ("bomb.xlsx", _workbook_with(b"cell:1000000000")),
    "xlsx: one cell of 150 MB": lambda: ("bomb.xlsx", _workbook_with(b"cell:150000000")),
    "json: nested 100,000 deep": lambda: ("deep.json", ("[" * 100_000 + "]" * 100_000).encode()),
}


def _measure(name: str) -> None:
    """Child process: read one file, print seconds, peak MB above the start, and the answer."""
    filename, data = CASES[name]()
    from registry.factory import create_app
    from registry.interchange.readers import read_source
    from registry.interchange.source import UnreadableFileError

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "AUTO_SETUP": False, "SECRET_KEY": "x"})
    with app.test_request_context():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            source = read_source(filename, data)
            answer = f"read {len(source.records)} records, {len(source.problems)} problems"
        except UnreadableFileError as exc:
            answer = str(exc.message)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size": len(data), "seconds": seconds, "mb": (peak - before) / 1024, "answer": answer}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        _measure(sys.argv[2])
        return
    print(f"{'file':32} {'size':>10} {'seconds':>8} {'extra MB':>9}  answer")
    for name in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, cwd=ROOT, check=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        figures = f"{result['size']:>10,} {result['seconds']:>8.2f} {result['mb']:>9.0f}"
        print(f"{name:32} {figures}  {result['answer'][:90]}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
