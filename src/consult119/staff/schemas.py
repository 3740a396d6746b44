"""Staff as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    on_duty: bool
    presence: str
