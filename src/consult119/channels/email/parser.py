"""The e-mail parser, shared by ``POST /api/v1/intake/email`` and the SMTP listener.

The parser turns a raw RFC 5322 message into one :class:`InboundMessage`: the sender, the text
the traveller wrote (the plain part, or the HTML part made plain, with quoted earlier mail cut
off), Korean charsets decoded (UTF-8, EUC-KR/CP949, ISO-2022-KR), attachments within the size
limit, and the threading inputs (``In-Reply-To``/``References``, the ``[C119-…]`` subject token).
Bounces and auto-replies are recognised here (:mod:`consult119.channels.email.inbound` drops
them before the intake), so they never open a case and are never answered.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import logging
import re
import string
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from fastapi import APIRouter

from consult119.config import Settings
from consult119.errors import Invalid, PayloadTooLarge
from consult119.i18n import lazy_gettext as _l
from consult119.intake.service import AttachmentIn
from consult119.mailaddress import address_of, one_line
from consult119.tickets.codes import CASE_TOKEN_RE

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])
log = logging.getLogger(__name__)

#: Longest text kept from one mail; a long thread pasted below is cut, not refused.
MAX_MAIL_TEXT = 20_000
#: Longest body text scanned for quoted earlier mail (the kept text comes from its start).
MAX_BODY_CHARS = 10 * MAX_MAIL_TEXT
#: Most characters of an HTML part made plain; the rest is cut before conversion.
MAX_HTML_CHARS = 1_000_000
#: Longest subject stored, single line; replies copy at most REPLY_SUBJECT_CHARS of it.
MAX_SUBJECT_CHARS = 500
_MSGID_RE = re.compile(r"<[^<>\s]{1,250}>")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "noreply-dmarc-support"}

# Where quoted earlier mail starts. Order does not matter: the earliest match wins.
_QUOTE_MARKERS = [
    re.compile(r"^On .{1,200}wrote:\s*$", re.S),  # Gmail/Apple (English), maybe over two lines
    re.compile(r"^\d{4}년\s*\d{1,2}월\s*\d{1,2}일.{0,200}작성:\s*$", re.S),  # Gmail (Korean)
    re.compile(r"^-{2,}\s*(Original Message|원본 메시지|Forwarded message|전달된 메시지)", re.I),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above the quoted header block
]
_OUTLOOK_HEADER = re.compile(r"^(From|보낸 사람|보낸사람)\s*:", re.I)
_OUTLOOK_NEXT = re.compile(r"^(Sent|Date|보낸 날짜|날짜|To|받는 사람)\s*:", re.I)


@dataclass
class ParsedEmail:
    message_id: str
    sender: str
    sender_name: str | None
    subject: str
    text: str
    locale: str
    refs: tuple[str, ...] = ()
    case_token: str | None = None
    attachments: list[AttachmentIn] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    auto_reason: str | None = None
    truncated: bool = False
    #: The one plain address that may be answered; None when the From header is not exactly
    #: one plain address (the case is still opened, but nothing is ever sent to it).
    reply_to: str | None = None


# -- parsing ------------------------------------------------------------------------------------
def parse_email(raw: bytes, settings: Settings, *, envelope_from: str | None = None) -> ParsedEmail:
    """Parse ``raw`` or refuse it with a stable code (413 too large, 422 not usable mail)."""
    if len(raw) > settings.max_mail_bytes:
        raise PayloadTooLarge(
            "mail_too_large",
            _l("The mail is over {max_bytes:,} bytes.", max_bytes=settings.max_mail_bytes),
        )
    if not raw.strip():
        raise Invalid("empty_message", _l("The mail is empty."))
    try:
        mail = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # noqa: BLE001 - the stdlib parser is lenient; be sure anyway
        raise Invalid("broken_mime", _l("The mail cannot be parsed.")) from exc
    assert isinstance(mail, EmailMessage)
    sender, sender_name, reply_to = _sender(mail)
    subject = one_line(_header(mail, "Subject"), MAX_SUBJECT_CHARS)
    auto = _auto_reason(mail, sender, envelope_from)
    message_id = _message_id(mail, raw)
    refs = _refs(mail)
    if auto is not None:
        return ParsedEmail(
            message_id,
            sender,
            sender_name,
            subject,
            "",
            "en",
            refs,
            auto_reason=auto,
            reply_to=reply_to,
        )

    body = _body_text(mail)
    # The new words come first and at most MAX_MAIL_TEXT of them are kept: a long thread
    # below them need not go through the quote scan.
    cut_body = len(body) > MAX_BODY_CHARS
    text = strip_quoted(body[:MAX_BODY_CHARS])
    attachments, dropped = _attachments(mail, settings)
    if not text:
        text = subject
    if not text and not attachments:
        raise Invalid("empty_message", _l("The mail has no text, subject or attachment."))
    truncated = len(text) > MAX_MAIL_TEXT or cut_body
    token = CASE_TOKEN_RE.search(subject)
    language = _header(mail, "Content-Language").split(",")[0].strip()[:20]
    if not language:
        language = "ko" if _HANGUL_RE.search(subject + text) else "en"
    return ParsedEmail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text[:MAX_MAIL_TEXT].replace("\x00", ""),
        locale=language,
        refs=refs,
        case_token=token.group(1) if token else None,
        attachments=attachments,
        dropped=dropped,
        truncated=truncated,
        reply_to=reply_to,
    )


def _header(mail: EmailMessage, name: str) -> str:
    try:
        value = mail.get(name)
    except Exception:  # noqa: BLE001 - a header the registry cannot parse counts as absent
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _sender(mail: EmailMessage) -> tuple[str, str | None, str | None]:
    """``(sender id, display name, address to answer or None)`` from the From header.

    Parsed by the header registry (``policy.default``), never ``email.utils.parseaddr``, which
    reads ``"<victim@x>"@attacker`` as ``victim@x``. Only a From of exactly one plain address,
    without parse defects, is ever answered; any other From still opens a case under the
    addresses as written (so a second mail from it joins the same case).
    """
    try:
        header = mail.get("From")
        addresses = list(getattr(header, "addresses", ()) or ())
        defects = list(getattr(header, "defects", ()) or ())
    except Exception:  # noqa: BLE001
        addresses, defects = [], []
    specs = [
        a.addr_spec.lower()
        for a in addresses
        if isinstance(a, Address) and a.username and a.domain and "\x00" not in a.addr_spec
    ]
    if not specs:
        raise Invalid("missing_sender", _l("The mail has no usable From address."), field="From")
    first = addresses[0]
    reply_to = address_of(first) if len(addresses) == 1 and not defects else None
    name = one_line(first.display_name, 200) or None
    if reply_to is not None:
        return reply_to, name, reply_to
    return ", ".join(specs)[:200], name, None


def _auto_reason(mail: EmailMessage, sender: str, envelope_from: str | None) -> str | None:
    """Why this mail was written by a machine (RFC 3834 and common practice), or None."""
    auto_submitted = _header(mail, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_submitted"
    if _header(mail, "Precedence").lower() in _AUTO_PRECEDENCE:
        return "precedence"
    if mail.get("X-Autoreply") or mail.get("X-Autorespond") or mail.get("X-Auto-Reply-From"):
        return "auto_reply_header"
    if mail.get_content_type() == "multipart/report":
        return "delivery_report"
    if sender.split("@", 1)[0] in _DAEMONS:
        return "mailer_daemon"
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return "null_sender"
    if mail.get("List-Id") or mail.get("List-Unsubscribe"):
        return "mailing_list"
    return None


def _message_id(mail: EmailMessage, raw: bytes) -> str:
    found = _MSGID_RE.search(_header(mail, "Message-ID"))
    if found and len(found.group(0)) <= 200:
        return found.group(0)
    # No usable Message-ID: the same bytes delivered twice still dedupe.
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _refs(mail: EmailMessage) -> tuple[str, ...]:
    """In-Reply-To first, then References newest first; at most 50."""
    refs: list[str] = _MSGID_RE.findall(_header(mail, "In-Reply-To"))
    refs += reversed(_MSGID_RE.findall(_header(mail, "References")))
    seen: dict[str, None] = {}
    for ref in refs:
        seen.setdefault(ref, None)
    return tuple(list(seen)[:50])


#: Text codecs that are no mail charset: their decoders refuse ``errors="replace"`` or turn
#: escapes in the bytes into other characters.
_NOT_MAIL_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"}


def mail_codec(label: str) -> str | None:
    """The codec to decode a part labelled ``charset=label``, or None when the label names no
    text encoding (unknown, or a bytes-to-bytes codec such as ``rot13``, ``hex``, ``zlib``)."""
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    # Bytes-to-bytes and str-to-str codecs (base64, zlib, rot13, ...) say they are not text.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None
    return "cp949" if info.name == "euc_kr" else info.name  # real EUC-KR mail uses CP949's


def _decode(part: EmailMessage) -> str:
    """The part's text. A charset that names no text encoding, or that fails, is ignored:
    the bytes are read as UTF-8 or CP949, else UTF-8 with replacement characters, so an odd
    label never loses the mail."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    name = mail_codec((part.get_content_charset() or "").strip().lower()[:40])
    if name is not None:
        try:
            return payload.decode(name, errors="replace")
        except (UnicodeError, LookupError, ValueError):
            pass
    for guess in ("utf-8", "cp949"):
        try:
            return payload.decode(guess)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", errors="replace")


def _body_text(mail: EmailMessage) -> str:
    try:
        part = mail.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        part = None
    if part is None:
        if mail.is_multipart():
            return ""
        if mail.get_content_maintype() != "text":
            return ""
        part = mail
    text = _decode(part)  # type: ignore[arg-type]
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _attachments(
    mail: EmailMessage, settings: Settings
) -> tuple[list[AttachmentIn], list[dict[str, Any]]]:
    kept: list[AttachmentIn] = []
    dropped: list[dict[str, Any]] = []
    if not mail.is_multipart():
        return kept, dropped
    try:
        parts = list(mail.iter_attachments())
    except Exception:  # noqa: BLE001 - broken structure: keep the text, skip the files
        return kept, dropped
    for part in parts:
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = (part.get_filename() or "attachment").replace("\x00", "")[:255]
        ctype = part.get_content_type()[:100]
        if len(payload) > settings.max_attachment_bytes:
            dropped.append({"filename": name, "size": len(payload), "reason": "too_large"})
        elif len(kept) >= settings.max_attachments:
            dropped.append({"filename": name, "size": len(payload), "reason": "too_many"})
        else:
            kept.append(AttachmentIn(filename=name, content_type=ctype, data=payload))
    return kept, dropped


_HTML_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "table"}
# One token of markup. No alternative reads past the next "<" unless it consumes what it read
# (comments, declarations), so a search that fails costs time linear in the text it skipped.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"  # a comment, maybe never closed
    r"|<[!?][^>]*(?:>|\Z)"  # a declaration or processing instruction
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*+)((?:[^<>\"']|\"[^\"<]*+\"|'[^'<]*+')*+)/?>",
    re.S,
)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def html_to_text(markup: str) -> str:
    """The text of an HTML part: blocks as line breaks, scripts, styles, the head and quoted
    earlier mail (``<blockquote>``, Gmail's ``gmail_quote``) dropped, entities decoded.

    One left-to-right pass over at most :data:`MAX_HTML_CHARS` characters, each read a bounded
    number of times: time is linear in the input whatever its shape (the stdlib's
    ``html.parser`` takes quadratic time on unclosed tags).
    """
    markup = markup[:MAX_HTML_CHARS]
    lower = markup.translate(_ASCII_LOWER)  # ASCII-only: the same length, so offsets agree
    out: list[str] = []
    skip = quote = 0
    i, n = 0, len(markup)
    while i < n:
        token = _MARKUP.search(markup, i)
        end = token.start() if token else n
        if end > i and not skip and not quote:
            out.append(html.unescape(markup[i:end]))
        if token is None:
            break
        i = token.end()
        if token.group(2) is None:
            continue  # comment or declaration
        closing, tag = token.group(1) == "/", token.group(2).translate(_ASCII_LOWER)
        if not closing and tag in ("script", "style"):
            close = lower.find("</" + tag, i)  # their content is not markup
            i = n if close < 0 else close
        elif tag == "head":
            skip = max(0, skip + (-1 if closing else 1))
        elif tag == "blockquote" and closing:
            quote = max(0, quote - 1)
        elif not closing and (tag == "blockquote" or "gmail_quote" in token.group(3)):
            quote += 1  # quoted earlier mail: dropped like "> " lines
        if tag in _HTML_BLOCKS:
            out.append("\n")
    lines = [" ".join(line.split()) for line in "".join(out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the quote header, drop ``>`` lines.

    Falls back to the whole text when nothing new would remain (a bare forward).
    """
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        two = (stripped + " " + lines[i + 1].strip()) if i + 1 < len(lines) else stripped
        if any(m.match(stripped) or m.match(two) for m in _QUOTE_MARKERS):
            cut = i
            break
        if _OUTLOOK_HEADER.match(stripped) and any(
            _OUTLOOK_NEXT.match(x.strip()) for x in lines[i + 1 : i + 4]
        ):
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()
