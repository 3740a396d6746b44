"""What a running app holds, and the FastAPI dependencies that hand it to routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError

from consult119.config import Settings
from consult119.db import Database, utcnow
from consult119.intake.service import InboundMessage, IntakeResult, IntakeService
from consult119.ratelimit import RateLimiter

Clock = Callable[[], datetime]


@dataclass
class AppContext:
    """Process-wide collaborators, built once by :func:`consult119.main.create_app`."""

    settings: Settings
    db: Database
    signing_key: str
    clock: Clock = utcnow
    intake: IntakeService = field(init=False)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.intake = IntakeService(
            report_zone=self.settings.report_zone,
            reopen_window=timedelta(hours=self.settings.reopen_window_hours),
        )

    def now(self) -> datetime:
        return self.clock()

    def receive(self, inbound: InboundMessage) -> IntakeResult:
        """Run one intake in its own unit of work; returns only after the commit."""
        for attempt in range(3):
            try:
                with self.db.unit_of_work() as session:
                    return self.intake.receive(session, inbound, now=self.now())
            except IntegrityError:
                # A concurrent writer inserted the same message or identity first: run again,
                # and the duplicate check finds what it committed.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


ContextDep = Annotated[AppContext, Depends(get_context)]
