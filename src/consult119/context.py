"""What a running app holds, and the FastAPI dependencies that hand it to routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from consult119.auth.throttle import LoginGuard
from consult119.config import Settings
from consult119.db import Database, utcnow
from consult119.errors import RateLimited
from consult119.i18n import lazy_gettext as _l
from consult119.intake.service import IntakeService
from consult119.ratelimit import RateLimiter

if TYPE_CHECKING:  # the parts' own modules import this one
    from aiosmtpd.controller import Controller
    from prometheus_client import CollectorRegistry

    from consult119.channels.email.inbound import AckLimits
    from consult119.channels.webchat.hub import WebchatHub
    from consult119.console.runtime import ConsoleRuntime
    from consult119.outbound.dispatcher import Dispatcher
    from consult119.realtime.hub import Hub
    from consult119.triage.scheduler import SchedulerHandle

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
    # The parts the app starts (None until they run): each set by whoever starts it.
    #: The triage scheduler (``consult119.triage.scheduler.start``), read by ``/readyz``.
    scheduler: SchedulerHandle | None = None
    #: The outbox dispatcher (``consult119.outbound.dispatcher.start_dispatcher``).
    dispatcher: Dispatcher | None = None
    #: The SMTP intake listener, when ``smtp_port`` is set and it could bind.
    smtp_listener: Controller | None = None
    #: The console's hub, relay and presence (``consult119.console.runtime.console_lifespan``).
    console: ConsoleRuntime | None = None
    #: The console's real-time hub (also ``console.hub``).
    hub: Hub | None = None
    #: Wakes this process's web-chat sockets (made on first use by a socket).
    webchat_hub: WebchatHub | None = None
    #: Acknowledgement-mail limits per address and domain (made on first use).
    ack_limits: AckLimits | None = None
    #: ``/metrics``: the addresses served without a token, and the registry (``install_metrics``).
    metrics_allow: list[IPv4Network | IPv6Network] = field(default_factory=list)
    metrics_registry: CollectorRegistry | None = None

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


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


ContextDep = Annotated[AppContext, Depends(get_context)]
