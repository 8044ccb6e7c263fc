"""Importing an existing list of systems: validate and preview everything, then commit it whole.

An agency that already keeps its systems in a spreadsheet, or another registry's export, should
not retype them. The import is two steps: :func:`plan_import` (:mod:`.import_plan`) reads the
file (:mod:`registry.interchange.readers`), checks every row against the registry and says what
would be created, updated, left unchanged or refused, and which overlap warnings the new systems
would raise; :func:`commit_import` (:mod:`.import_write`) writes it in one transaction, all or
nothing. This module is the doors' one entry to both.
"""

from registry.interchange.readers import (
    MAX_BYTES,
    MAX_RECORDS,
    detect_format,
    extra_format_choices,
    read_source,
)
from registry.services.import_plan import (
    Action,
    ImportPlan,
    ImportRefusedError,
    ImportResult,
    OverlapPreview,
    RowPlan,
    plan_import,
    plan_source,
)
from registry.services.import_write import commit_import, commit_plan

__all__ = [
    "MAX_BYTES",
    "MAX_RECORDS",
    "Action",
    "ImportPlan",
    "ImportRefusedError",
    "ImportResult",
    "OverlapPreview",
    "RowPlan",
    "commit_import",
    "commit_plan",
    "detect_format",
    "extra_format_choices",
    "plan_import",
    "plan_source",
    "read_source",
]
