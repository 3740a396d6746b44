"""``POST /api/v1/auth/token``: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import func, select

from consult119.auth.security import burn_password_check, issue_token, verify_password
from consult119.context import ContextDep
from consult119.errors import Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.staff.models import Staff

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=TokenOut)
def token(ctx: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Exchange an e-mail address and password for a bearer token."""
    email = form.username.strip().lower()
    with ctx.db.read_session() as session:
        staff = session.scalars(select(Staff).where(func.lower(Staff.email) == email)).first()
    if staff is None:
        burn_password_check(form.password)
        raise Unauthorized("bad_credentials", _l("E-mail address or password is wrong."))
    if not verify_password(staff.password_hash, form.password) or staff.disabled:
        raise Unauthorized("bad_credentials", _l("E-mail address or password is wrong."))
    ttl = ctx.settings.token_ttl_seconds
    assert staff.id is not None
    access = issue_token(
        ctx.signing_key,
        staff_id=staff.id,
        role=staff.role,
        now=ctx.now(),
        ttl=ttl,
        version=staff.security_version,
    )
    return TokenOut(access_token=access, expires_in=ttl)
