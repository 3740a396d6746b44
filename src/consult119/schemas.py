"""Shapes every part of the API shares: the page of a list, and the operations answers.

A domain's own request and response models live in its ``schemas.py``; routes define none
(``tests/test_schemas.py``).
"""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Every list the API returns: the items of this page and how many there are in all."""

    items: list[T]
    total: int


class HealthOut(BaseModel):
    """``GET /healthz``: ``ok`` once the database answers (503 ``unavailable`` while not)."""

    status: Literal["ok", "unavailable"]


class SchemaRevisions(BaseModel):
    database: str | None
    code: str | None


class ReadinessOut(BaseModel):
    """``GET /readyz``: each part ``ok`` or why not (503 with ``not_ready`` naming them)."""

    model_config = ConfigDict(populate_by_name=True)

    status: Literal["ready", "not_ready"]
    checks: dict[str, str]
    schema_: SchemaRevisions = Field(alias="schema")
    not_ready: list[str] | None = None
