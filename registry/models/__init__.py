"""SQLModel tables of the registry; importing this package registers them all on the metadata."""

import registry.models.base  # noqa: F401 - naming convention first, before any table
from registry.models.agency import Agency
from registry.models.audit import AuditEvent, AuditHead
from registry.models.dependency import Dependency
from registry.models.embedding import TextEmbedding
from registry.models.job import Job
from registry.models.overlap import DuplicateWarning
from registry.models.reporting import ReportingRound, RoundAgency, SystemAttestation
from registry.models.review import Decision, Finding, Notification, OutboxMessage, ReviewAssignment
from registry.models.system import (
    InformationSystem,
    SystemCapabilityLink,
    SystemCodeCounter,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)
from registry.models.taxonomy import Capability, DataDomain
from registry.models.upload import ImportUpload
from registry.models.usage import UsageReport
from registry.models.user import ApiToken, LoginFailure, User

__all__ = [
    "Agency",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Capability",
    "DataDomain",
    "Decision",
    "Dependency",
    "DuplicateWarning",
    "Finding",
    "ImportUpload",
    "InformationSystem",
    "Job",
    "LoginFailure",
    "Notification",
    "OutboxMessage",
    "ReportingRound",
    "ReviewAssignment",
    "RoundAgency",
    "SystemCapabilityLink",
    "SystemCodeCounter",
    "SystemAttestation",
    "SystemDataDomainLink",
    "SystemUserAgencyLink",
    "TextEmbedding",
    "UsageReport",
    "User",
]
