"""Tokens and passwords. The only module that imports python-jose.

Tokens are HS256 JWTs carrying ``sub`` (staff id), ``role``, ``iat``, ``exp`` and ``jti``. The
allowed algorithm list is explicit on every decode, so ``alg: none`` and algorithm-confusion
tokens are refused. The key comes from ``CONSULT119_SECRET_KEY``; when unset, a random key is
made once, stored beside the database with owner-only permissions, and a warning says so.
"""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from consult119.config import Settings

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]
KEY_FILE = ".consult119-secret-key"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class TokenClaims:
    staff_id: int
    role: str
    jti: str
    issued_at: datetime
    expires_at: datetime


class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or signed with another key."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the account does not exist, so a wrong e-mail address takes as
# long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def signing_key(settings: Settings) -> str:
    """The configured key, or the one kept beside the database (made on first use)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 32:
            raise ValueError("CONSULT119_SECRET_KEY must be at least 32 characters")
        return value
    path = Path(settings.data_dir) / KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    log.warning(
        "CONSULT119_SECRET_KEY is not set: made a random signing key in %s (owner-only). "
        "Set CONSULT119_SECRET_KEY when running more than one process.",
        path,
    )
    return key


def issue_token(key: str, *, staff_id: int, role: str, now: datetime, ttl: int) -> str:
    claims = {
        "sub": str(staff_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_token(key: str, token: str) -> TokenClaims:
    """Verify signature, algorithm and expiry; raise :class:`InvalidToken` otherwise."""
    if not token or len(token) > 4096:
        raise InvalidToken("missing or oversized token")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALLOWED_ALGORITHMS,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_jti": True,
            },
        )
        staff_id = int(claims["sub"])
        role = str(claims["role"])

        return TokenClaims(
            staff_id=staff_id,
            role=role,
            jti=str(claims["jti"]),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
