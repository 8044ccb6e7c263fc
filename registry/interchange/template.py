"""The import template: the columns an import reads, with what each expects, and the codes.

Offered on the import page so that an agency fills a sheet the registry can read on the first
try: the header row is exactly what the reader expects, a guide sheet says what every column
takes, and further sheets list the codes of agencies, capabilities and data domains.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlmodel import Session

from registry.choices import AgencyLevel, Hosting, SystemStatus
from registry.fields import field_label
from registry.interchange.record import (
    BOOLEAN_COLUMNS,
    DATE_COLUMNS,
    INPUT_FIELD_OF_COLUMN,
    INTEGER_COLUMNS,
    LIST_COLUMNS,
)
from registry.interchange.tabular import KNOWN_COLUMNS
from registry.models import Agency, Capability, DataDomain

REQUIRED = ("name", "description", "owner_agency", "scope_level")
EXAMPLE = {
    "external_id": "QLVB-TU-2019",
    "name": "Hệ thống quản lý văn bản và điều hành",
    "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc và ký số.",
    "status": "in_operation",
    "scope_level": "province",
    "is_shared_platform": "false",
    "capabilities": "document_management",
    "hosting": "provincial_dc",
    "security_level": "2",
    "estimated_cost_vnd": "1200000000",
    "target_users": "450",
}


def expectation(column: str) -> str:
    """What a cell of ``column`` takes, in the reader's language."""
    if column == "code":
        return _("Leave empty for a new system; a registry code (HTTT-…) updates that system.")
    if column == "external_id":
        return _(
            "Your own identifier of the system; importing the file again updates instead of duplicating."
        )
    if column == "status":
        return ", ".join(s.value for s in SystemStatus) + " — " + _("empty means draft")
    if column == "scope_level":
        return ", ".join(level.value for level in AgencyLevel)
    if column == "hosting":
        return ", ".join(h.value for h in Hosting)
    if column in ("owner_agency", "operator_agency", "instance_of"):
        return _("A code (see the Agencies sheet, or the registry code of a shared platform).")
    if column in LIST_COLUMNS:
        return _("Codes separated by semicolons (see the code sheets).")
    if column in BOOLEAN_COLUMNS:
        return _("true or false")
    if column in DATE_COLUMNS:
        return _("A date, 2025-03-31 or 31/03/2025")
    if column in INTEGER_COLUMNS:
        return _("A whole number")
    return _("Text")


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(KNOWN_COLUMNS)
    writer.writerow([EXAMPLE.get(column, "") for column in KNOWN_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(session: Session) -> bytes:
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    sheet.title = "Systems"
    sheet.append(list(KNOWN_COLUMNS))
    sheet.append([EXAMPLE.get(column, "") for column in KNOWN_COLUMNS])
    for index, column in enumerate(KNOWN_COLUMNS, 1):
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column) + 4)
    sheet.freeze_panes = "A2"

    guide = book.create_sheet(_("Guide"))
    guide.append([_("Column"), _("Field"), _("Required"), _("What it takes")])
    for column in KNOWN_COLUMNS:
        guide.append(
            [
                column,
                field_label(INPUT_FIELD_OF_COLUMN.get(column, column)),
                _("yes") if column in REQUIRED else "",
                expectation(column),
            ]
        )
    for letter, width in zip("ABCD", (24, 36, 10, 90), strict=True):
        guide.column_dimensions[letter].width = width
    for cell in guide[1]:
        cell.font = bold

    for title, model in (
        (_("Agencies"), Agency),
        (_("Capabilities"), Capability),
        (_("Data domains"), DataDomain),
    ):
        codes = book.create_sheet(title[:31])
        codes.append([_("Code"), _("Name")])
        for cell in codes[1]:
            cell.font = bold
        for code, name in session.execute(select(model.code, model.name).order_by(model.code)):
            codes.append([code, name])
        codes.column_dimensions["A"].width = 24
        codes.column_dimensions["B"].width = 70
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
