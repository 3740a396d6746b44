"""Staff as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    on_duty: bool
    presence: str


class PresenceIn(BaseModel):
    status: str = Field(max_length=20)


class StaffCreate(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(max_length=10)
    password: str = Field(max_length=1000)


class RoleIn(BaseModel):
    role: str = Field(max_length=10)


class StaffPage(BaseModel):
    items: list[StaffPublic]
    total: int


class ShiftIn(BaseModel):
    staff_id: int
    start: AwareDatetime
    end: AwareDatetime


class ShiftPublic(BaseModel):
    id: int
    staff_id: int
    name: str
    role: str
    start: datetime
    end: datetime


class ShiftPage(BaseModel):
    items: list[ShiftPublic]
    total: int
