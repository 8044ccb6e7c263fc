"""Reading an import file in any of the formats the registry accepts, within its limits.

Each format's reader (CSV, XLSX, JSON, publiccode.yml, Backstage, RIHA) turns the bytes into a
:class:`~registry.interchange.source.Source` of records in the interchange shape; this module
picks the reader from the file and holds every format to the same size and record limits.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from registry.interchange import tabular
from registry.interchange.backstage import read_backstage
from registry.interchange.publiccode import read_publiccode
from registry.interchange.riha import read_riha
from registry.interchange.source import Source, UnreadableFileError

MAX_RECORDS = 100_000
MAX_BYTES = 200 * 1024 * 1024
"""A 100,000-system export is about 60 MB as CSV and 100 MB as JSON; beyond this, split it."""


Reader = Callable[..., Source]


def _counted(read: Callable[..., Source]) -> Reader:
    """A reader of the ecosystem formats, held to the same record limit as the tabular ones."""

    def reader(data: bytes, *, max_records: int) -> Source:
        source = read(data, max_bytes=MAX_BYTES)
        if len(source.records) > max_records:
            raise tabular.too_many(max_records)
        return source

    return reader


READERS: dict[str, Reader] = {
    "csv": tabular.read_csv,
    "xlsx": tabular.read_xlsx,
    "json": tabular.read_json,
    "publiccode": _counted(read_publiccode),
    "backstage": _counted(read_backstage),
    "riha": _counted(read_riha),
}
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}
FORMAT_LABELS = {
    "publiccode": "publiccode.yml",
    "backstage": "Backstage (catalog-info.yaml)",
    "riha": "RIHA (JSON)",
}


def detect_format(filename: str, data: bytes) -> str:
    """The format from the file's extension, and for JSON and YAML from its first bytes."""
    lowered = filename.lower()
    for extension, fmt in EXTENSIONS.items():
        if lowered.endswith(extension):
            return fmt
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = data[:4000].lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith((b"{", b"[")):
        return "riha" if b'"details"' in head and b'"content"' in head else "json"
    if lowered.endswith((".yml", ".yaml")) or b"publiccodeYmlVersion" in head or b"apiVersion:" in head:
        return "backstage" if b"backstage.io/" in head or "catalog-info" in lowered else "publiccode"
    return "csv"


def extra_format_choices() -> list[tuple[str, str]]:
    """The formats from other tools, as the import page offers them."""
    return list(FORMAT_LABELS.items())


def read_source(
    filename: str, data: bytes, fmt: str | None = None, *, max_records: int = MAX_RECORDS
) -> Source:
    if len(data) > MAX_BYTES:
        raise UnreadableFileError(
            _l("The file is larger than %(limit)s MB; split it into smaller files.", limit=MAX_BYTES // 2**20)
        )
    fmt = fmt or detect_format(filename, data)
    reader = READERS.get(fmt)
    if reader is None:
        raise UnreadableFileError(_l("Unknown import format “%(format)s”.", format=fmt))
    return reader(data, max_records=max_records)
