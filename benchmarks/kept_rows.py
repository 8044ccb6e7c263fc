"""What parsing an import once saves each preview: reading the file versus reading the kept rows.

Builds a workbook of N systems (default 20,000) in the import's columns, then times what a
preview used to pay on every visit (unpacking and reading the workbook) against what it pays
now (loading the rows kept at upload from JSON), and prints the size of the kept JSON.

    python benchmarks/kept_rows.py [ROWS]
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.factory import create_app  # noqa: E402
from registry.interchange.readers import read_source  # noqa: E402
from registry.interchange.source import keep_source, kept_source  # noqa: E402


def workbook(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Systems")
    sheet.append(["name", "description", "owner_agency", "scope_level", "capabilities", "target_users"])
    for n in range(rows):
        sheet.append(
            [
                f"Hệ thống quản lý văn bản số {n}",
                f"Quản lý văn bản đi, văn bản đến và điều hành công việc của đơn vị {n}.",
                f"TU-{n % 63:02d}",
                "province",
                "document_management; e_signature",
                1000 + n,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{folder}/b.sqlite3",
                "AUTO_SETUP": False,
                "SECRET_KEY": "b",
            }
        )
        with app.app_context():
            data = workbook(rows)
            read = best_of(3, lambda: read_source("list.xlsx", data))
            stored = json.dumps(keep_source(read_source("list.xlsx", data)))
            kept = best_of(3, lambda: kept_source(json.loads(stored)))
    print(
        f"{rows:,} rows, workbook {len(data) / 2**20:.1f} MB, kept rows {len(stored) / 2**20:.1f} MB of JSON"
    )
    print(f"read the workbook (every preview before): {read:.2f} s")
    print(f"load the kept rows (every preview now):   {kept:.2f} s  ({read / kept:.0f}x faster)")


if __name__ == "__main__":
    main()
