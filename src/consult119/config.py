"""Settings, read once from the environment (prefix ``CONSULT119_``)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_FILE = "consult119.db"
#: Access logs of systems holding sensitive data are kept at least two years (docs/privacy.md).
MIN_AUDIT_DAYS = 730

#: ``serve --ws`` choices (uvicorn's WebSocket implementations), the first the default;
#: docs/performance.md compares them for the console's fan-out.
WS_IMPLEMENTATIONS = ("websockets-sansio", "websockets", "wsproto")


class ConsoleSettings(BaseSettings):
    """Section: limits and timers of ``/ws/console`` and of the event relay."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    console_auth_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a new socket has to send its auth frame"
    )
    console_queue_size: int = Field(
        default=512, ge=1, description="Frames buffered per console before it is told to resume"
    )
    console_max_frame_bytes: int = Field(
        default=16 * 1024, ge=256, description="Largest frame a console may send"
    )
    console_max_replay: int = Field(
        default=10_000,
        ge=1,
        description="Most events replayed on resume; further behind gets a resync and snapshot",
    )
    console_snapshot_limit: int = Field(
        default=500, ge=1, description="Most queue cases in a snapshot (the total is always sent)"
    )
    console_close_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a close frame to reach a stuck client"
    )
    presence_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A doctor whose last console closed goes offline after this many seconds",
    )
    console_db_threads: int = Field(
        default=4, ge=1, description="Threads for the consoles' database work"
    )
    relay_poll_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between event-log polls when nothing wakes the relay",
    )
    relay_batch_size: int = Field(default=500, ge=1, description="Events read per relay query")
    gc_tuning: bool = Field(
        default=True,
        description="Freeze what start-up created (gc.freeze) and make full garbage "
        "collections rare, so they do not stall every console",
    )


class AssignmentPolicy(BaseSettings):
    """Section: how long things may wait before the scheduler acts."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    scheduler_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the scheduler checks clocks and assignments"
    )
    auto_assign_untriaged_after_seconds: int = Field(
        default=180, ge=0, description="An untriaged case waiting this long goes to a doctor"
    )
    accept_timeout_seconds: dict[int, int] = Field(
        default={1: 60, 2: 120, 3: 300, 4: 600, 5: 900},
        description="Per KTAS level: an assignment not accepted this soon moves on",
    )
    delivery_overdue_seconds: dict[int, int] = Field(
        default={1: 60, 2: 60, 3: 300, 4: 600, 5: 900},
        description="Per KTAS level: a staff reply not delivered this soon raises "
        "delivery_overdue (JSON)",
    )

    @field_validator("accept_timeout_seconds")
    @classmethod
    def _all_levels(cls, value: dict[int, int]) -> dict[int, int]:
        if set(value) != {1, 2, 3, 4, 5} or any(v <= 0 for v in value.values()):
            raise ValueError("give a positive timeout for each KTAS level 1-5")
        return value

    @field_validator("delivery_overdue_seconds")
    @classmethod
    def _every_delivery_level(cls, value: dict[int, int]) -> dict[int, int]:
        if set(value) != {1, 2, 3, 4, 5} or any(v <= 0 for v in value.values()):
            raise ValueError("give a positive number of seconds for each KTAS level 1-5")
        return value

    @property
    def untriaged_wait(self) -> timedelta:
        return timedelta(seconds=self.auto_assign_untriaged_after_seconds)

    def accept_timeout(self, level: int) -> timedelta:
        return timedelta(seconds=self.accept_timeout_seconds[level])

    def delivery_overdue(self, level: int) -> timedelta:
        return timedelta(seconds=self.delivery_overdue_seconds[level])


class PageSettings(BaseSettings):
    """Section: where the pages come from (``CONSULT119_FRONTEND_DIR`` overrides the search)."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    frontend_dir: Path | None = Field(
        default=None, description="Folder holding console/, reports/, chat/ and shared/"
    )


class ChannelSettings(BaseSettings):
    """Section: the channels in — secrets, limits and endpoints of each (docs/channels.md)."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    kakao_skill_secret: SecretStr | None = Field(
        default=None,
        description="Kakao skill calls must carry it in the header below (unset: Kakao off)",
    )
    kakao_skill_secret_header: str = Field(
        default="X-Consult119-Skill-Secret", description="Header the Kakao skill secret comes in"
    )
    kakao_dedupe_seconds: int = Field(
        default=30, description="Same user + same utterance within this window is one message"
    )
    kakao_request_id_header: str | None = Field(
        default=None, description="A header carrying a stable id per Kakao message (off: hash)"
    )
    kakao_event_api_url: str | None = Field(
        default=None, description="Kakao bot event API endpoint (off when unset)"
    )
    kakao_event_api_key: SecretStr | None = Field(default=None, description="Kakao REST API key")
    kakao_event_name: str = Field(default="consult119_reply", description="Bot event name")
    line_channel_secret: SecretStr | None = Field(
        default=None, description="LINE channel secret (webhook refused while unset)"
    )
    line_channel_token: SecretStr | None = Field(
        default=None, description="LINE channel access token (push replies off while unset)"
    )
    line_push_url: str = Field(
        default="https://api.line.me/v2/bot/message/push", description="LINE push API endpoint"
    )
    max_mail_bytes: int = Field(default=10 * 1024 * 1024, description="Largest e-mail accepted")
    max_attachment_bytes: int = Field(
        default=5 * 1024 * 1024, description="Largest single attachment kept (larger: dropped)"
    )
    max_attachments: int = Field(default=10, description="Most attachments kept per message")
    # Acknowledgement mails: a forged From must not turn the service into a mail cannon.
    ack_address_burst: int = Field(
        default=5, ge=0, description="Acknowledgement mails one address gets at once"
    )
    ack_address_per_hour: float = Field(
        default=5.0, gt=0, description="Acknowledgement mails one address gets per hour after"
    )
    ack_domain_burst: int = Field(
        default=60, ge=0, description="Acknowledgement mails one domain gets at once"
    )
    ack_domain_per_hour: float = Field(
        default=120.0, gt=0, description="Acknowledgement mails one domain gets per hour after"
    )
    webchat_session_hours: int = Field(default=72, description="Lifetime of a web-chat token")


class NotifySettings(BaseSettings):
    """Section: telling people outside the consoles — the operator's pager and SMS provider
    (both outbox sources, signed like chat intake; docs/api.md, "Pager webhook" and "SMS"),
    and the clock of an urgent case nobody holds."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    alert_webhook_url: str | None = Field(
        default=None,
        description="Escalated alerts are POSTed here through the outbox (unset: no pager rows)",
    )
    alert_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for X-Consult119-Signature on pager posts"
    )
    console_url: str | None = Field(
        default=None,
        description="The staff console's public address, sent in pager posts as a link",
    )
    sms_url: str | None = Field(
        default=None, description="The SMS provider's endpoint for outbox rows of source sms"
    )
    sms_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for X-Consult119-Signature on SMS posts"
    )
    unclaimed_critical_seconds: int = Field(
        default=60,
        ge=1,
        description="A KTAS 1-2 or red-flag case nobody holds this long raises unclaimed_critical",
    )


class Settings(ConsoleSettings, AssignmentPolicy, PageSettings, ChannelSettings, NotifySettings):
    """Everything an operator can set, read once from the environment and handed to
    :func:`consult119.main.create_app`. The sections above hold the console, the assignment
    policy, the pages, the channels and the pager/SMS notifications; this class the rest.
    Secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(env_prefix="CONSULT119_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_FILE}",
        description="SQLite file (default, in the working folder) or postgresql://user@host:port/db",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="JWT signing key; when unset a random key is kept in a file beside the database",
    )
    intake_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for X-Consult119-Signature on chat intake"
    )
    allow_unsigned_channels: bool = Field(
        default=False,
        description="Take chat gateway, Kakao and e-mail intake with no secret set (local demo "
        "only; off: such a channel answers 503 channel_not_configured)",
    )
    report_timezone: str = Field(default="Asia/Seoul", description="IANA zone for report periods")
    smtp_relay: str | None = Field(default=None, description="host:port of the outgoing mail relay")
    mail_from: str = Field(default="consult119@localhost", description="From address of replies")
    smtp_port: int = Field(default=2525, description="SMTP intake listener port (0: off)")
    smtp_host: str = Field(default="127.0.0.1", description="Address the SMTP listener binds")
    token_ttl_seconds: int = Field(
        default=12 * 3600, ge=60, le=31 * 24 * 3600, description="Lifetime of a staff token"
    )
    demo_password: SecretStr | None = Field(
        default=None,
        description="Password of every `consult119 demo` account (default: a random one)",
    )
    # Sign-in limits (docs/security.md, "Sign-in limits").
    login_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Passwords checked at once (Argon2, 64 MiB each); more answer 429 at once",
    )
    login_account_failures: int = Field(
        default=5, ge=1, description="Wrong passwords for one account before lockouts begin"
    )
    login_address_failures: int = Field(
        default=20, ge=1, description="Wrong passwords from one client address before lockouts"
    )
    login_lockout_max_seconds: int = Field(
        default=900, ge=1, description="Longest lockout (they double from 1 s up to this)"
    )
    max_body_bytes: int = Field(default=64 * 1024, description="Largest JSON body accepted")
    max_text_chars: int = Field(default=5000, description="Longest message text accepted")
    reopen_window_hours: int = Field(default=72, description="A message this soon reopens a case")
    escalate_after_seconds: int = Field(
        default=120,
        ge=1,
        description="An urgent alert nobody acknowledged this long escalates (alert.escalated)",
    )
    sla_target_seconds: dict[int, int] = Field(
        default={1: 0, 2: 600, 3: 1800, 4: 3600, 5: 7200},
        description="Per KTAS level: target time to a response, first and next (JSON)",
    )
    sqlite_synchronous: str = Field(
        default="FULL", description="SQLite synchronous pragma (FULL survives power loss)"
    )
    pg_pool_size: int = Field(default=10, description="PostgreSQL connection pool size")
    group_commit_max: int = Field(
        default=64,
        ge=1,
        description="Intakes committed together at most (1 commits each alone; docs/architecture.md)",
    )

    # Channels out: the outbox dispatcher.
    outbound_poll_seconds: float = Field(default=2.0, description="Outbox poll interval")
    outbound_retry_base_seconds: float = Field(default=5.0, description="First retry delay")
    outbound_retry_max_seconds: float = Field(default=300.0, description="Longest retry delay")
    outbound_max_attempts: int = Field(
        default=300, description="Attempts before a reply is marked failed (about a day)"
    )
    outbound_timeout_seconds: float = Field(default=15.0, description="Per-attempt timeout")

    # Retention (docs/privacy.md): days each kind of record is kept; `consult119 retention purge`.
    retention_case_days: int = Field(
        default=3650,
        ge=1,
        description="A resolved, closed or merged case is de-identified this long after its last "
        "change (medical records: 10 years)",
    )
    retention_attachment_days: int = Field(
        default=3650, ge=1, description="Files on a finished case are deleted this long after"
    )
    retention_event_days: int = Field(
        default=365, ge=1, description="Event-log entries are deleted this long after they happened"
    )
    retention_audit_days: int = Field(
        default=MIN_AUDIT_DAYS,
        description="Access-log entries are kept this long (at least 2 years, by law)",
    )
    retention_contact_days: int = Field(
        default=365,
        ge=1,
        description="A contact with no case left is erased this long after its last change",
    )
    retention_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Cases (or rows) per purge transaction"
    )

    # The HTTP server's own limits (docs/security.md, "Input limits").
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection's request line and headers must arrive within this (else closed)",
    )
    max_header_bytes: int = Field(
        default=65536, ge=1024, description="Largest request line plus headers (431 above it)"
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection is closed after this"
    )
    max_connections: int = Field(
        default=4096,
        ge=1,
        description="Connections and requests at once per process (503 above it; consoles count)",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma list of proxy addresses whose X-Forwarded-For is believed (none: off)",
    )

    # Operations (docs/operations.md): metrics, backups.
    metrics_allow: str = Field(
        default="127.0.0.1",
        description="Comma list of addresses or CIDR blocks GET /metrics answers without a "
        "token (empty: token only)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that lets a scrape from any address read GET /metrics",
    )
    attachment_dir: str | None = Field(
        default=None,
        description="Content-addressed store of attachments, copied by `consult119 backup` "
        "(default: attachments/ beside the SQLite file; for PostgreSQL in the working folder)",
    )
    line_api_base: str = Field(
        default="https://api-data.line.me",
        description="LINE content API: images, videos and files of LINE messages are fetched "
        "from {base}/v2/bot/message/{id}/content",
    )
    kakao_media_hosts: str = Field(
        default="talk.kakaocdn.net,k.kakaocdn.net,dn.kakaocdn.net",
        description="Comma list of hosts Kakao image URLs are fetched from (HTTPS only; "
        "a URL on any other host is not fetched)",
    )
    media_fetch_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Whole-download timeout of a LINE or Kakao file"
    )
    media_fetch_attempts: int = Field(
        default=5, ge=1, description="Tries of a LINE download before the file is marked failed"
    )
    media_allow_plain_http: bool = Field(
        default=False,
        description="Tests only: fetch Kakao media over plain HTTP and from loopback stand-ins",
    )

    @field_validator("retention_audit_days")
    @classmethod
    def _two_years_of_access_log(cls, value: int) -> int:
        if value < MIN_AUDIT_DAYS:
            raise ValueError(
                f"the access log is kept at least {MIN_AUDIT_DAYS} days (two years); got {value}"
            )
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:

        for item in (part.strip() for part in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError as exc:
                    raise ValueError(f"not an address or CIDR block: {item!r}") from exc
        return value

    @field_validator("sla_target_seconds")
    @classmethod
    def _every_level(cls, value: dict[int, int]) -> dict[int, int]:
        if set(value) != {1, 2, 3, 4, 5} or any(v < 0 for v in value.values()):
            raise ValueError("give a target of 0 seconds or more for each KTAS level 1-5")
        return value

    @field_validator("report_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver the project chooses (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def data_dir(self) -> Path:
        """Folder that holds the SQLite file, or the working folder for PostgreSQL."""
        if self.is_sqlite:
            path = self.database_url.split("///", 1)[-1]
            if path and path != ":memory:":
                return Path(path).resolve().parent
        return Path.cwd()

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None (PostgreSQL, or an in-memory database)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        if not path or path == ":memory:":
            return None
        return Path(path).resolve()

    @property
    def attachments_path(self) -> Path:
        """The attachment store's folder (``consult119 backup`` copies it; it need not exist)."""
        if self.attachment_dir:
            return Path(self.attachment_dir).resolve()
        return self.data_dir / "attachments"

    @property
    def report_zone(self) -> ZoneInfo:
        return ZoneInfo(self.report_timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()
