"""Tunables of the real-time console (environment, prefix ``CONSULT119_``).

Kept beside the console rather than in :mod:`consult119.config` because nothing else reads
them; the same environment prefix applies, so an operator sets them like any other setting.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """Limits and timers of ``/ws/console`` and of the event relay."""

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


@lru_cache
def get_console_settings() -> ConsoleSettings:
    return ConsoleSettings()
