"""The domain's codes (SPEC.md). Stored as these strings; translated only at the edge."""

from __future__ import annotations

import re
from enum import StrEnum

from consult119.i18n.catalog import LazyText
from consult119.i18n.catalog import lazy_gettext as _l


class Channel(StrEnum):
    CHAT = "chat"
    PHONE = "phone"
    EMAIL = "email"


class Source(StrEnum):
    KAKAO = "kakao"
    LINE = "line"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    WEBCHAT = "webchat"
    SMTP = "smtp"
    MANUAL = "manual"
    PHONE = "phone"


#: The origin channel of each source.
SOURCE_CHANNEL: dict[Source, Channel] = {
    Source.KAKAO: Channel.CHAT,
    Source.LINE: Channel.CHAT,
    Source.TELEGRAM: Channel.CHAT,
    Source.WHATSAPP: Channel.CHAT,
    Source.WEBCHAT: Channel.CHAT,
    Source.SMTP: Channel.EMAIL,
    Source.MANUAL: Channel.PHONE,
    Source.PHONE: Channel.PHONE,
}


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


OPEN_STATUSES: frozenset[Status] = frozenset(
    {Status.NEW, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING}
)

#: What a reader calls each status (refusals name statuses in the reader's language).
STATUS_LABELS: dict[str, LazyText] = {
    Status.NEW: _l("new"),
    Status.TRIAGED: _l("triaged"),
    Status.ASSIGNED: _l("assigned"),
    Status.IN_PROGRESS: _l("in progress"),
    Status.WAITING: _l("waiting for the traveller"),
    Status.RESOLVED: _l("resolved"),
    Status.CLOSED: _l("closed"),
    Status.MERGED: _l("merged"),
}


def status_label(status: str) -> LazyText | str:
    """The status as a reader calls it, in their language when it is rendered."""
    return STATUS_LABELS.get(status, status)


#: Allowed status transitions. Anything not listed answers 409 ``transition_forbidden``.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {
            Status.TRIAGED,
            Status.ASSIGNED,
            Status.IN_PROGRESS,
            Status.WAITING,
            Status.RESOLVED,
            Status.CLOSED,
            Status.MERGED,
        }
    ),
    Status.TRIAGED: frozenset(
        {
            Status.ASSIGNED,
            Status.IN_PROGRESS,
            Status.WAITING,
            Status.RESOLVED,
            Status.CLOSED,
            Status.MERGED,
        }
    ),
    Status.ASSIGNED: frozenset(
        {
            Status.TRIAGED,
            Status.IN_PROGRESS,
            Status.WAITING,
            Status.RESOLVED,
            Status.CLOSED,
            Status.MERGED,
        }
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.TRIAGED, Status.WAITING, Status.RESOLVED, Status.CLOSED, Status.MERGED}
    ),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.MERGED}),
    # A reopen goes back to where the case stood; a person may also pick it up again.
    Status.RESOLVED: frozenset(
        {Status.NEW, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED}
    ),
    Status.CLOSED: frozenset(),
    Status.MERGED: frozenset(),
}

#: The timestamp column each status stamps when first entered.
STATUS_TIMESTAMP: dict[Status, str] = {
    Status.TRIAGED: "triaged_at",
    Status.ASSIGNED: "assigned_at",
    Status.IN_PROGRESS: "in_progress_at",
    Status.WAITING: "waiting_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
    Status.MERGED: "merged_at",
}


class Category(StrEnum):
    MEDICAL_CONSULTATION = "medical_consultation"
    FIRST_AID = "first_aid"
    MEDICATION = "medication"
    HOSPITAL_INFO = "hospital_info"
    TRANSFER = "transfer"
    OTHER = "other"


class Disposition(StrEnum):
    CALL_LOCAL_EMS = "call_local_ems"
    GO_TO_ED_NOW = "go_to_ed_now"
    SEE_DOCTOR_SOON = "see_doctor_soon"
    SELF_CARE = "self_care"
    REPATRIATION = "repatriation"
    REFERRED = "referred"


class LocationType(StrEnum):
    LAND = "land"
    SEA = "sea"
    AIR = "air"


class PurposeOfStay(StrEnum):
    """Why the traveller is abroad, as the service asks it (FACTS.md)."""

    TRAVEL = "travel"
    RESIDENCE = "residence"
    BUSINESS = "business"
    STUDY = "study"
    CREW = "crew"
    OTHER = "other"


class ResolveReason(StrEnum):
    """Why a case is resolved although no staff reply was sent to the traveller."""

    HANDLED_BY_PHONE = "handled_by_phone"
    UNREACHABLE = "unreachable"
    DUPLICATE = "duplicate"
    NO_REPLY_NEEDED = "no_reply_needed"


class Sex(StrEnum):
    """The patient's sex as the API names it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


#: ``tickets.patient_sex`` stores one letter, the code reports and imports already use (M/F).
SEX_STORED = {Sex.FEMALE: "F", Sex.MALE: "M", Sex.OTHER: "O", Sex.UNKNOWN: "U"}
SEX_OF_STORED = {code: sex.value for sex, code in SEX_STORED.items()}


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Delivery(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


#: An untriaged case ranks with KTAS 2 until a person triages it: it needs eyes now.
UNTRIAGED_PRIORITY = 2


#: A case number as it is written everywhere: ``C119-YYYY-NNNNNN``, the year in the reporting
#: timezone, the sequence from the year's counter (``tickets.repository.allocate_case_seqs``).
CASE_NUMBER_PREFIX = "C119"
#: A case number in a subject line, ``[C119-2026-000042]``.
CASE_TOKEN_RE = re.compile(r"\[(" + CASE_NUMBER_PREFIX + r"-\d{4}-\d{6})\]")


def format_case_number(year: int, seq: int) -> str:
    """The one spelling of a case number."""
    return f"{CASE_NUMBER_PREFIX}-{year:04d}-{seq:06d}"
