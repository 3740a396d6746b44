"""Tokens and passwords. The only module that imports python-jose.

Tokens are HS256 JWTs carrying ``sub`` (staff id), ``role``, ``ver`` (the account's security
version, see :attr:`consult119.staff.models.Staff.security_version`), ``iat``, ``exp`` and
``jti``. The allowed algorithm list is explicit on every decode, so ``alg: none`` and
algorithm-confusion tokens are refused; every claim is then checked for its type and range here,
so a validly signed but odd token (a float or text ``exp``, an ``iat`` in the future, a huge
``sub``) is an :class:`InvalidToken`, never an error further in. The key comes from ``CONSULT119_SECRET_KEY``; when unset, a random key is
made once, stored beside the database with owner-only permissions, and a warning says so.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from consult119.config import Settings

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]
KEY_FILE = ".consult119-secret-key"

_hasher = PasswordHasher()


#: An ``iat`` this far ahead of our clock is still taken (clocks of several processes differ).
IAT_LEEWAY_SECONDS = 30
#: The longest lifetime a token may claim (``exp - iat``); ``CONSULT119_TOKEN_TTL_SECONDS`` is
#: bounded by it too.
MAX_TOKEN_LIFETIME = 31 * 24 * 3600
#: Staff ids and security versions are positive 63-bit integers (the databases' BIGINT).
MAX_ID = 2**63 - 1
_SUB = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class TokenClaims:
    staff_id: int
    role: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    #: The account's security version when the token was issued.
    version: int = 0


class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or signed with another key."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so a wrong e-mail address
    takes as long as a wrong password and does not reveal which accounts exist. Made on the
    first sign-in, not at import: a command that signs nobody in does not pay for it."""
    return _hasher.hash(secrets.token_hex(16))


def burn_password_check(password: str) -> None:
    verify_password(_dummy_hash(), password)


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


def issue_token(
    key: str, *, staff_id: int, role: str, now: datetime, ttl: int, version: int = 0
) -> str:
    """A signed token for ``staff_id``; ``version`` is the account's security version."""
    claims = {
        "sub": str(staff_id),
        "role": role,
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def _whole_number(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    # bool is an int in Python; a JWT's true is not a number.
    if type(value) is not int:
        raise InvalidToken(f"{name} must be a whole number")
    return value


def decode_token(key: str, token: str, *, now: datetime | None = None) -> TokenClaims:
    """Verify signature, algorithm, expiry and every claim's type and range; raise
    :class:`InvalidToken` otherwise. ``now`` is the app clock (default: the current time)."""
    if not token or len(token) > 4096:
        raise InvalidToken("missing or oversized token")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALLOWED_ALGORITHMS,
            # Times are checked below, against the app clock and with strict types.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    sub, role, jti = claims.get("sub"), claims.get("role"), claims.get("jti")
    if not isinstance(sub, str) or not _SUB.fullmatch(sub) or int(sub) > MAX_ID:
        raise InvalidToken("sub must be a staff id")
    if not isinstance(role, str) or not 0 < len(role) <= 20:
        raise InvalidToken("role must be a role code")
    if not isinstance(jti, str) or not 0 < len(jti) <= 64:
        raise InvalidToken("jti must be an id")
    iat, exp = _whole_number(claims, "iat"), _whole_number(claims, "exp")
    # Tokens issued before security versions existed carry none: version 0, like their rows.
    version = _whole_number(claims, "ver") if "ver" in claims else 0
    if not 0 <= version <= MAX_ID:
        raise InvalidToken("ver out of range")
    clock = int((now or datetime.now(UTC)).timestamp())
    if iat > clock + IAT_LEEWAY_SECONDS:
        raise InvalidToken("issued in the future")
    if not iat < exp <= iat + MAX_TOKEN_LIFETIME:
        raise InvalidToken("exp out of range")
    if exp <= clock:
        raise InvalidToken("expired")
    return TokenClaims(
        staff_id=int(sub),
        role=role,
        jti=jti,
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=datetime.fromtimestamp(exp, UTC),
        version=version,
    )
