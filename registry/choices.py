"""Controlled vocabularies of the registry, each value with a translatable label.

Values are stable ASCII strings stored in the database and used in URLs, exports and the
API; labels are what people read, in Vietnamese by default.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class LabelledEnum(StrEnum):
    """A string enum whose members carry a human label."""

    @property
    def label(self) -> str:
        return str(LABELS[type(self)][self])

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class AgencyLevel(LabelledEnum):
    CENTRAL = "central"
    PROVINCE = "province"
    COMMUNE = "commune"


class AgencyBlock(LabelledEnum):
    PARTY = "party"
    STATE = "state"
    FRONT = "front"
    LOCALITY = "locality"


class SystemStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_OPERATION = "in_operation"
    RETIRED = "retired"


PROPOSAL_STATUSES = frozenset(
    {
        SystemStatus.SUBMITTED,
        SystemStatus.IN_REVIEW,
        SystemStatus.CHANGES_REQUESTED,
        SystemStatus.APPROVED,
        SystemStatus.REJECTED,
    }
)
"""Statuses of a proposal under or after review: every governance field must be filled."""


class Hosting(LabelledEnum):
    PARTY_DC = "party_dc"
    NATIONAL_DC = "national_dc"
    PROVINCIAL_DC = "provincial_dc"
    OWN_SERVER_ROOM = "own_server_room"
    CLOUD = "cloud"


class DependencyKind(LabelledEnum):
    DATA_EXCHANGE = "data_exchange"
    AUTHENTICATION = "authentication"
    HOSTED_ON = "hosted_on"
    CONSUMES_API = "consumes_api"
    REPLACES = "replaces"


class Disposition(LabelledEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    JUSTIFIED = "justified"
    DISMISSED = "dismissed"


class Severity(LabelledEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Role(LabelledEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class TokenScope(LabelledEnum):
    READ = "read"
    WRITE = "write"


class RoundStatus(LabelledEnum):
    OPEN = "open"
    CLOSED = "closed"


class AttestationOutcome(LabelledEnum):
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class ReportingState(LabelledEnum):
    """Where an agency stands in a reporting round."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    LATE = "late"


SECURITY_LEVELS = (1, 2, 3, 4, 5)


class JobState(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(LabelledEnum):
    SCAN = "scan"
    IMPORT = "import"
    EXPORT = "export"
    REMIND = "remind"
    INDEX = "index"
    EMBED = "embed"
    IMPORT_CHECK = "import_check"


class JobStep(LabelledEnum):
    COMPARE = "compare"
    RULES = "rules"
    CHECK = "check"
    WRITE = "write"
    EXPORT = "export"
    REMIND = "remind"
    INDEX = "index"
    EMBED = "embed"


JOB_STEPS: dict[str, tuple[str, ...]] = {
    JobKind.SCAN: (JobStep.COMPARE, JobStep.RULES),
    JobKind.IMPORT: (JobStep.CHECK, JobStep.WRITE),
    JobKind.EXPORT: (JobStep.EXPORT,),
    JobKind.REMIND: (JobStep.REMIND,),
    JobKind.INDEX: (JobStep.INDEX,),
    JobKind.EMBED: (JobStep.EMBED, JobStep.COMPARE),
    JobKind.IMPORT_CHECK: (JobStep.CHECK,),
}
"""Each kind of job's steps in order, for the page's "step 1 of 2"."""


LABELS: dict[type[LabelledEnum], dict[LabelledEnum, object]] = {
    AgencyLevel: {
        AgencyLevel.CENTRAL: _l("Central"),
        AgencyLevel.PROVINCE: _l("Province"),
        AgencyLevel.COMMUNE: _l("Commune"),
    },
    AgencyBlock: {
        AgencyBlock.PARTY: _l("Party agencies"),
        AgencyBlock.STATE: _l("Ministries and branches"),
        AgencyBlock.FRONT: _l("Fatherland Front and mass organisations"),
        AgencyBlock.LOCALITY: _l("Localities"),
    },
    SystemStatus: {
        SystemStatus.DRAFT: _l("Draft"),
        SystemStatus.SUBMITTED: _l("Submitted"),
        SystemStatus.IN_REVIEW: _l("In review"),
        SystemStatus.CHANGES_REQUESTED: _l("Changes requested"),
        SystemStatus.APPROVED: _l("Approved"),
        SystemStatus.REJECTED: _l("Rejected"),
        SystemStatus.IN_OPERATION: _l("In operation"),
        SystemStatus.RETIRED: _l("Retired"),
    },
    Hosting: {
        Hosting.PARTY_DC: _l("Party data centre (National Data Centre)"),
        Hosting.NATIONAL_DC: _l("National Data Centre"),
        Hosting.PROVINCIAL_DC: _l("Provincial shared data centre"),
        Hosting.OWN_SERVER_ROOM: _l("Own server room"),
        Hosting.CLOUD: _l("Cloud"),
    },
    Disposition: {
        Disposition.OPEN: _l("Open"),
        Disposition.CONFIRMED: _l("Confirmed duplicate"),
        Disposition.JUSTIFIED: _l("Justified overlap"),
        Disposition.DISMISSED: _l("False positive"),
    },
    Severity: {
        Severity.HIGH: _l("High"),
        Severity.MEDIUM: _l("Medium"),
        Severity.LOW: _l("Low"),
    },
    Role: {
        Role.SUBMITTER: _l("Agency submitter"),
        Role.REVIEWER: _l("Reviewer (standing office)"),
        Role.AUDITOR: _l("Auditor"),
        Role.ADMIN: _l("Administrator"),
    },
    TokenScope: {
        TokenScope.READ: _l("Read only"),
        TokenScope.WRITE: _l("Read and write (as my role allows)"),
    },
    DependencyKind: {
        DependencyKind.DATA_EXCHANGE: _l("Data exchange"),
        DependencyKind.AUTHENTICATION: _l("Authentication"),
        DependencyKind.HOSTED_ON: _l("Hosted on"),
        DependencyKind.CONSUMES_API: _l("Consumes API"),
        DependencyKind.REPLACES: _l("Replaces"),
    },
    RoundStatus: {
        RoundStatus.OPEN: _l("Open for reporting"),
        RoundStatus.CLOSED: _l("Closed"),
    },
    AttestationOutcome: {
        AttestationOutcome.CONFIRMED: _l("Confirmed as it is"),
        AttestationOutcome.CORRECTED: _l("Corrected"),
    },
    ReportingState: {
        ReportingState.NOT_STARTED: _l("Not started"),
        ReportingState.IN_PROGRESS: _l("In progress"),
        ReportingState.COMPLETED: _l("Done"),
        ReportingState.LATE: _l("Late"),
    },
    JobState: {
        JobState.QUEUED: _l("Waiting for a worker"),
        JobState.RUNNING: _l("Running"),
        JobState.SUCCEEDED: _l("Finished"),
        JobState.FAILED: _l("Failed"),
        JobState.CANCELLED: _l("Cancelled"),
    },
    JobKind: {
        JobKind.SCAN: _l("Portfolio scan"),
        JobKind.IMPORT: _l("Import of systems"),
        JobKind.EXPORT: _l("Export of the inventory"),
        JobKind.REMIND: _l("Reporting reminders"),
        JobKind.INDEX: _l("Overlap index build"),
        JobKind.EMBED: _l("Meaning analysis of system texts"),
        JobKind.IMPORT_CHECK: _l("Check of an import file"),
    },
    JobStep: {
        JobStep.COMPARE: _l("Comparing systems"),
        JobStep.RULES: _l("Checking the rules R1–R10"),
        JobStep.CHECK: _l("Checking every row against the registry"),
        JobStep.WRITE: _l("Writing the systems"),
        JobStep.EXPORT: _l("Writing the file"),
        JobStep.REMIND: _l("Reminding the agencies not done"),
        JobStep.INDEX: _l("Fitting and saving the overlap index"),
        JobStep.EMBED: _l("Analysing the meaning of system texts"),
    },
}
