"""Strict e-mail addresses and header-safe text, shared by the mail intake and the mail sender.

The stdlib's ``email.utils.parseaddr``/``getaddresses`` read ``"<victim@x>"@attacker`` as
``victim@x``; a From header like that once made the service write to a third party. So an
address the service answers must be plain: one ``local@domain`` whose local part is a dot-atom
(no quoting, no comments) and whose domain is a host name. Anything else is still taken as a
case, but never written to.
"""

from __future__ import annotations

import re
import unicodedata
from email.headerregistry import Address

#: RFC 5321's limit on a forward path.
MAX_ADDRESS_CHARS = 254
# atext of RFC 5322, plus any non-ASCII character (RFC 6532 internationalised mail).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL_RE = re.compile(
    r"[A-Za-z0-9\u0080-\U0010ffff](?:[A-Za-z0-9\-\u0080-\U0010ffff]{0,61}"
    r"[A-Za-z0-9\u0080-\U0010ffff])?"
)
#: Unicode categories dropped from text that goes into a header: controls, format characters
#: (bidi overrides), line and paragraph separators, unassigned and surrogates.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def plain_address(value: str) -> str | None:
    """``value`` lower-cased when it is one plain ``local@host.domain`` address, else None."""
    if not value or len(value) > MAX_ADDRESS_CHARS or value.count("@") != 1:
        return None
    local, domain = value.rsplit("@", 1)
    if not _plain_local(local) or not _host_name(domain):
        return None
    return value.lower()


def address_of(addr: Address) -> str | None:
    """The plain address of one parsed mailbox (``email.headerregistry``), or None."""
    if not (addr.username and addr.domain):
        return None
    if not _plain_local(addr.username) or not _host_name(addr.domain):
        return None
    return plain_address(f"{addr.username}@{addr.domain}")


def _plain_local(local: str) -> bool:
    return (
        0 < len(local) <= 64 and all(_safe(c) for c in local) and bool(_LOCAL_RE.fullmatch(local))
    )


def _host_name(domain: str) -> bool:
    labels = domain.split(".")
    # At least two labels: mail to a bare host name never leaves the relay's own network.
    return (
        len(domain) <= 253
        and len(labels) >= 2
        and all(_safe(c) for c in domain)
        and all(_LABEL_RE.fullmatch(label) for label in labels)
    )


def _safe(char: str) -> bool:
    return unicodedata.category(char) not in _UNSAFE_CATEGORIES and not char.isspace()


def one_line(text: str | None, limit: int) -> str:
    """``text`` made safe to copy into a header: one line, no control or format characters,
    runs of white space made one space, at most ``limit`` characters."""
    if not text:
        return ""
    kept = "".join(" " if c.isspace() else c for c in text if c.isspace() or _safe_text(c))
    return " ".join(kept.split())[:limit].strip()


def _safe_text(char: str) -> bool:
    return unicodedata.category(char) not in _UNSAFE_CATEGORIES
