"""Settings, read once from the environment (prefix ``CONSULT119_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_FILE = "consult119.db"


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are ``SecretStr`` so they never print."""

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
    report_timezone: str = Field(default="Asia/Seoul", description="IANA zone for report periods")
    smtp_relay: str | None = Field(default=None, description="host:port of the outgoing mail relay")
    mail_from: str = Field(default="consult119@localhost", description="From address of replies")
    smtp_port: int = Field(default=2525, description="SMTP intake listener port (0: off)")
    token_ttl_seconds: int = Field(default=12 * 3600, description="Lifetime of a staff token")
    max_body_bytes: int = Field(default=64 * 1024, description="Largest JSON body accepted")
    max_text_chars: int = Field(default=5000, description="Longest message text accepted")
    reopen_window_hours: int = Field(default=72, description="A message this soon reopens a case")
    sqlite_synchronous: str = Field(
        default="FULL", description="SQLite synchronous pragma (FULL survives power loss)"
    )
    pg_pool_size: int = Field(default=10, description="PostgreSQL connection pool size")

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
    def report_zone(self) -> ZoneInfo:
        return ZoneInfo(self.report_timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()
