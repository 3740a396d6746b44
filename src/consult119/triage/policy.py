"""Assignment and clock policy, read from ``CONSULT119_*`` like every other setting."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AssignmentPolicy(BaseSettings):
    """How long things may wait before the scheduler acts."""

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

    @field_validator("accept_timeout_seconds")
    @classmethod
    def _all_levels(cls, value: dict[int, int]) -> dict[int, int]:
        if set(value) != {1, 2, 3, 4, 5} or any(v <= 0 for v in value.values()):
            raise ValueError("give a positive timeout for each KTAS level 1-5")
        return value

    @property
    def untriaged_wait(self) -> timedelta:
        return timedelta(seconds=self.auto_assign_untriaged_after_seconds)

    def accept_timeout(self, level: int) -> timedelta:
        return timedelta(seconds=self.accept_timeout_seconds[level])
