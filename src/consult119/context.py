"""What a running app holds, and the FastAPI dependencies that hand it to routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from consult119.auth.throttle import LoginGuard
from consult119.config import Settings
from consult119.db import Database, utcnow
from consult119.errors import RateLimited
from consult119.i18n import lazy_gettext as _l
from consult119.intake.service import InboundMessage, IntakeResult, IntakeService
from consult119.ratelimit import RateLimiter

Clock = Callable[[], datetime]

#: Presence changes a person may make at once, and how fast the allowance comes back.
PRESENCE_BURST = 10
PRESENCE_PER_SECOND = 0.2


@dataclass
class AppContext:
    """Process-wide collaborators, built once by :func:`consult119.main.create_app`."""

    settings: Settings
    db: Database
    signing_key: str
    clock: Clock = utcnow
    intake: IntakeService = field(init=False)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: Presence changes per staff member, from the API and the console alike: each change is
    #: an event to every console, so a loop posting presence must not flood them.
    presence_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(burst=PRESENCE_BURST, per_second=PRESENCE_PER_SECOND)
    )
    login: LoginGuard = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.intake = IntakeService(
            report_zone=self.settings.report_zone,
            reopen_window=timedelta(hours=self.settings.reopen_window_hours),
        )
        self.login = LoginGuard(
            concurrency=self.settings.login_concurrency,
            account_failures=self.settings.login_account_failures,
            address_failures=self.settings.login_address_failures,
            max_lockout=self.settings.login_lockout_max_seconds,
        )

    def now(self) -> datetime:
        return self.clock()

    def check_presence_rate(self, staff_id: int) -> None:
        """Take one presence change for ``staff_id``, or raise 429 ``presence_rate_limited``."""
        try:
            self.presence_limiter.check(str(staff_id))
        except RateLimited:
            raise RateLimited(
                "presence_rate_limited", _l("Presence changes too often; wait a moment.")
            ) from None

    def receive(self, inbound: InboundMessage) -> IntakeResult:
        """Run one intake and return once it is committed (blocking: call it from a thread).

        The intake shares a transaction with whatever else is queued for the writer
        (:mod:`consult119.groupcommit`); a redelivery racing in from another process is retried
        there and answers as a duplicate.
        """
        return self.db.writer.run(self.intake_work(inbound), locks=inbound.locks)

    async def receive_async(self, inbound: InboundMessage) -> IntakeResult:
        """:meth:`receive` for async code: awaits the commit without holding a thread."""
        return await self.db.writer.run_async(self.intake_work(inbound), locks=inbound.locks)

    def intake_work(self, inbound: InboundMessage) -> Callable[[Session], IntakeResult]:
        """The unit of work of one intake, stamped with the time it runs."""
        return lambda session: self.intake.receive(session, inbound, now=self.now())


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


ContextDep = Annotated[AppContext, Depends(get_context)]
