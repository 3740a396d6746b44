"""The alerts table: something that needs a person now, open until the action that answers it.

One row per *cause* (``red_flag:ticket:12:chest_pain``, ``sla_breached:ticket:12:first_response``):
the unique ``cause`` makes raising idempotent across processes, an insert that finds the cause
taken does nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime

MAX_CAUSE_CHARS = 200


class AlertKind(StrEnum):
    RED_FLAG = "red_flag"
    SLA_BREACHED = "sla_breached"
    NEXT_RESPONSE_BREACHED = "next_response_breached"
    REOPENED = "reopened"
    DELIVERY_OVERDUE = "delivery_overdue"
    DELIVERY_FAILED = "delivery_failed"
    UNCLAIMED_CRITICAL = "unclaimed_critical"
    NO_DOCTOR_AVAILABLE = "no_doctor_available"
    ROSTER_GAP = "roster_gap"
    FOLLOWUP_DUE = "followup_due"


class FallbackAction(StrEnum):
    """What a delivery alert's one-click fallback does."""

    #: Queue the reply again on another channel the traveller is known on.
    CHANNEL = "channel"
    #: The reply by SMS through the operator's provider (listed; performed once wired).
    SMS = "sms"
    #: A callback task for the team (listed; performed once wired).
    CALLBACK = "callback"


class AlertState(StrEnum):
    """An alert is ``open`` until the action that answers it; acknowledging it (someone has
    seen it and is on it) is a separate fact that stops its escalation, not its life."""

    OPEN = "open"
    RESOLVED = "resolved"


class Alert(SQLModel, table=True):
    """One alert: its kind, the case it is about (or none), who must act, and its state."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("cause", name="uq_alert_cause"),
        Index("ix_alerts_state_raised", "state", "raised_at"),
        Index("ix_alerts_ticket_state", "ticket_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    cause: str = Field(max_length=MAX_CAUSE_CHARS)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    #: The case's rank when raised (KTAS level or suspected level), null without a case.
    level: int | None = Field(default=None)
    #: Who must act: a role (``doctor``, ``emt``), and a person when one holds the case.
    role: str | None = Field(default=None, max_length=10)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    state: str = Field(max_length=10)
    raised_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: int | None = Field(default=None, foreign_key="staff.id")
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
