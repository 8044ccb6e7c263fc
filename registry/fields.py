"""Human labels of system fields, shared by forms, the detail page and loader messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SYSTEM_FIELD_LABELS: dict[str, object] = {
    "code": _l("Public code"),
    "name": _l("Name"),
    "description": _l("Description"),
    "purpose": _l("Purpose"),
    "status": _l("Status"),
    "scope_level": _l("Scope level"),
    "is_shared_platform": _l("Shared platform"),
    "instance_of_id": _l("Deployment of shared platform"),
    "owner_agency_id": _l("Managing agency"),
    "operator_agency_id": _l("Operating agency"),
    "user_agency_ids": _l("User agencies"),
    "legal_basis": _l("Legal basis"),
    "mandate": _l("Task or requirement served"),
    "operating_rules_ref": _l("Operating rules (document reference)"),
    "operating_rules_date": _l("Operating rules issued on"),
    "usage_orientation": _l("Usage orientation"),
    "capability_ids": _l("Capabilities"),
    "data_domain_ids": _l("Data domains"),
    "hosting": _l("Hosting"),
    "security_level": _l("Security level"),
    "estimated_cost_vnd": _l("Estimated cost (VND)"),
    "funding_source": _l("Funding source"),
    "target_users": _l("Target users"),
    "active_users": _l("Active users"),
    "overlap_justification": _l("Justification of overlap"),
    "version": _l("Version"),
    "registered_year": _l("Year registered"),
}


def field_label(name: str) -> str:
    return str(SYSTEM_FIELD_LABELS.get(name, name))
