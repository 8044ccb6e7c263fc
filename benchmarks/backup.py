"""Time ``backup`` and ``restore`` on a generated portfolio, and print rows, sizes and times.

    python benchmarks/generate.py --systems 20000 --database-url sqlite:////tmp/bench.sqlite3
    python benchmarks/backup.py --database-url sqlite:////tmp/bench.sqlite3 \\
        --restore-url sqlite:////tmp/bench-restored.sqlite3 --folder /tmp/bench-backup

    python benchmarks/backup.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/registry_bench \\
        --restore-url postgresql+psycopg://postgres@127.0.0.1:5432/registry_bench_restored \\
        --folder /tmp/bench-backup-pg

The restore target must be empty (an SQLite file that does not exist yet, or a new PostgreSQL
database); the backup folder must not exist. Both are left in place for inspection. The
times include computing every table's checksum, which the commands always do.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from registry.config import normalise_database_url
from registry.db import make_engine
from registry.services.audit import verify
from registry.services.backup import backup, restore


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--restore-url", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()

    source = make_engine(normalise_database_url(args.database_url))
    started = time.perf_counter()
    manifest = backup(source, args.folder)
    backed_up = time.perf_counter() - started
    print(f"backup   {backed_up:7.2f} s  {manifest.summary()}; {folder_size(args.folder) / 2**20:.1f} MiB")

    target = make_engine(normalise_database_url(args.restore_url))
    started = time.perf_counter()
    restore(target, args.folder)
    restored = time.perf_counter() - started
    print(f"restore  {restored:7.2f} s  every table matches the manifest")

    from sqlmodel import Session

    started = time.perf_counter()
    with Session(target) as session:
        report = verify(session)
    print(f"verify   {time.perf_counter() - started:7.2f} s  {report.summary()}")
    source.dispose()
    target.dispose()


if __name__ == "__main__":
    main()
