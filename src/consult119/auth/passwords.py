"""Which new passwords are accepted: the one rule set for the API and the CLI.

Refused, each with its own reason: fewer than 8 characters, more than 1,000, only whitespace,
a control character (NUL, tab, newline…), one character repeated, and one of the most common
passwords (a short list bundled in ``consult119/data/common_passwords.txt``, compared without
case and surrounding whitespace). Sign-in checks none of this: an account keeps working with
the password it has until it is changed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 1000


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list, lowercased."""
    text = resources.files("consult119").joinpath("data", "common_passwords.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _weak(message: object) -> Invalid:
    return Invalid("weak_password", message, field="password")  # type: ignore[arg-type]


def check_new_password(password: str) -> None:
    """Raise ``422 weak_password`` (with the reason) unless ``password`` may be set."""
    if len(password) < MIN_LENGTH:
        raise _weak(_l("A password needs at least 8 characters."))
    if len(password) > MAX_LENGTH:
        raise _weak(_l("A password may have at most 1,000 characters."))
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise _weak(_l("A password must not contain control characters (such as NUL or tab)."))
    if not password.strip():
        raise _weak(_l("A password must not be only spaces."))
    if len(set(password)) == 1:
        raise _weak(_l("A password must not be one character repeated."))
    if password.strip().lower() in common_passwords():
        raise _weak(_l("This password is one of the most common ones; choose another."))
