"""``POST /api/v1/intake/kakao``: a Kakao i Open Builder skill in, a skill response out.

Kakao sends no message id. Duplicate rule: the message id is a hash of the botUserKey, the
utterance and a time bucket of ``kakao_dedupe_seconds`` (30 s by default), unless the request
carries the request-id header the operator configured (``kakao_request_id_header``; off by
default, as a proxy minting a fresh id per retry would defeat the rule), which is used instead.
So a redelivered or double-submitted request inside the bucket makes nothing new. Limits (docs/channels.md): the same words sent twice
by the same user inside one bucket count once (harmless: same words), and a redelivery that
straddles a bucket boundary is stored twice (visible to staff as a repeated line, never lost).

The skill answer comes back at once after the commit: version "2.0", up to three simpleText
outputs (each at most 1,000 characters): staff replies waiting for the traveller first, then the
acknowledgement with the case number, and quick replies that help the traveller tell the doctor
what they will ask (age, when symptoms began, medicines, a photo). A new case is first asked
where the patient is (land / sea / air), and "on land" then the country: a tapped answer comes
back as the next utterance, which this adapter recognises and hands to the intake as an answer
for the record (the intake's rule decides what it may fill; see docs/channels.md).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from consult119.attachments.inbound import kakao_files
from consult119.channels.edge import read_json
from consult119.channels.edge.http import channel_secret
from consult119.channels.kakao.schemas import (
    SkillRequest,
    SkillResponse,
)
from consult119.context import ContextDep
from consult119.errors import Unauthorized
from consult119.i18n import LazyText
from consult119.i18n import lazy_gettext as _l
from consult119.intake.ack import (
    WaitEstimate,
    acknowledgement,
    opened_by_this_message,
)
from consult119.intake.pipeline import Ack, take
from consult119.intake.schemas import clean_locale, clean_timezone
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.outbound import service as outbound
from consult119.tickets.models import Message

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])

SOURCE = "kakao"
SIMPLE_TEXT_MAX = 1000
#: Outputs a skill response may hold; the last one is always the acknowledgement.
MAX_OUTPUTS = 3
#: Quick replies a skill response may hold.
MAX_QUICK_REPLIES = 10
ELLIPSIS = " …"
LEASE = timedelta(seconds=30)

# Quick replies: (label ≤ 14 characters in every language — Kakao's limit, the utterance it
# sends, the prompt answered to it), rendered in the traveller's language from the catalogs.
QUICK_REPLIES: tuple[tuple[LazyText, LazyText, LazyText], ...] = (
    (
        _l("Age and sex"),
        _l("Patient age and sex"),
        _l("Please write the patient's age and sex (e.g. 34, female)."),
    ),
    (
        _l("Symptoms began"),
        _l("When symptoms began"),
        _l("Please write when the symptoms began (e.g. 2 a.m. today)."),
    ),
    (
        _l("Medicines"),
        _l("Medicines taken"),
        _l("Please write the medicines taken, or send a photo of them."),
    ),
    (
        _l("Send a photo"),
        _l("Send a photo"),
        _l("Use the + button in the chat to send a photo of the wound or the medicines."),
    ),
)


#: Where the patient is, asked on the acknowledgement of a case's first message: (the record's
#: ``location_type``, label, utterance, prompt answered to it).
LOCATION_REPLIES: tuple[tuple[str, LazyText, LazyText, LazyText], ...] = (
    (
        "land",
        _l("On land"),
        _l("Location: on land"),
        _l("Noted: on land."),
    ),
    (
        "sea",
        _l("At sea (ship)"),
        _l("Location: at sea (ship)"),
        _l("Noted: at sea. If you can, write the ship's name and its position."),
    ),
    (
        "air",
        _l("In the air"),
        _l("Location: in the air (aircraft)"),
        _l("Noted: in the air. If you can, write the flight number."),
    ),
)
#: The countries asked after "on land" (where Koreans abroad most often call from), and
#: "another country" (``None``: nothing is recorded, the traveller writes it).
COUNTRY_REPLIES: tuple[tuple[str | None, LazyText, LazyText, LazyText], ...] = (
    ("US", _l("USA"), _l("Country: USA"), _l("Noted: the USA.")),
    ("JP", _l("Japan"), _l("Country: Japan"), _l("Noted: Japan.")),
    ("CN", _l("China"), _l("Country: China"), _l("Noted: China.")),
    ("VN", _l("Vietnam"), _l("Country: Vietnam"), _l("Noted: Vietnam.")),
    ("PH", _l("Philippines"), _l("Country: Philippines"), _l("Noted: the Philippines.")),
    (
        None,
        _l("Other country"),
        _l("Country: another country"),
        _l("Please write the country you are in."),
    ),
)
#: Locales the quick replies are rendered in (a tap is recognised in any of them).
LOCALES = ("ko", "en")
Choice = tuple[str | None, str, str, str]


def quick_replies(locale: str) -> list[tuple[str, str, str]]:
    """``QUICK_REPLIES`` in ``locale``: (label, utterance, prompt)."""
    return [(a.render(locale), b.render(locale), c.render(locale)) for a, b, c in QUICK_REPLIES]


def _choices(
    table: tuple[tuple[str | None, LazyText, LazyText, LazyText], ...], locale: str
) -> list[Choice]:
    return [(code, a.render(locale), b.render(locale), c.render(locale)) for code, a, b, c in table]


def location_replies(locale: str) -> list[Choice]:
    """``LOCATION_REPLIES`` in ``locale``: (location_type, label, utterance, prompt)."""
    return _choices(LOCATION_REPLIES, locale)


def country_replies(locale: str) -> list[Choice]:
    """``COUNTRY_REPLIES`` in ``locale``: (country or None, label, utterance, prompt)."""
    return _choices(COUNTRY_REPLIES, locale)


@functools.cache
def _tap_table() -> dict[str, tuple[dict[str, str], LazyText]]:
    """Each quick reply's words, in every locale, to what it answers and its prompt: rendered
    once per process, not per request."""
    table: dict[str, tuple[dict[str, str], LazyText]] = {}
    for replies, field in ((LOCATION_REPLIES, "location_type"), (COUNTRY_REPLIES, "country")):
        for code, _label, utter, prompt in replies:
            for other in LOCALES:
                table.setdefault(utter.render(other), (({field: code} if code else {}), prompt))
    return table


def tapped(utterance: str, locale: str) -> tuple[dict[str, str] | None, str | None]:
    """What a tapped location or country quick reply answers (its words in any of
    ``LOCALES``), and the prompt that answers it in ``locale``: ``(None, None)`` for any other
    utterance."""
    found = _tap_table().get(utterance.strip())
    if found is None:
        return None, None
    answer, prompt = found
    return dict(answer), prompt.render(locale)


#: The question each set of choices asks, after the acknowledgement.
QUESTIONS = {
    "location_type": _l("Where is the patient now? Tap one: on land, at sea or in the air."),
    "country": _l("Which country are you in? Tap it below or write it."),
}


def _locale(lang: str | None) -> str:
    lang = (lang or "ko").lower()
    return "en" if lang.startswith("en") else "ko"


def message_key(bot_user_key: str, utterance: str, bucket: int) -> str:
    digest = hashlib.sha256(f"{bot_user_key}\x1f{utterance}\x1f{bucket}".encode()).hexdigest()
    return f"kakao:{digest[:48]}"


def clip(text: str, limit: int = SIMPLE_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def _ack_text(
    result: IntakeResult,
    locale: str,
    utterance: str,
    wait: WaitEstimate | None = None,
    prompt: str | None = None,
) -> str:
    text = acknowledgement(result, locale, wait=wait)
    if prompt is None:
        prompt = next((p for _, said, p in quick_replies(locale) if said == utterance), None)
    if prompt:
        text = f"{prompt}\n\n{text}"
    text = clip(text)
    if result.case_number not in text:  # the case number is never clipped away
        text = clip(f"{result.case_number}\n{text}")
    return text


def skill_response(
    outputs: list[str], locale: str, asking: list[Choice] | None = None
) -> dict[str, Any]:
    """The skill answer: ``outputs`` as simpleTexts, then quick replies: ``asking`` (a
    question's choices) first, then the usual ones — ten at most, Kakao's limit."""
    replies = [(label, said) for _, label, said, _ in asking or ()]
    replies += [(label, said) for label, said, _ in quick_replies(locale)]
    return {
        "version": "2.0",
        "template": {
            "outputs": [{"simpleText": {"text": t}} for t in outputs],
            "quickReplies": [
                {"label": label, "action": "message", "messageText": said}
                for label, said in replies[:MAX_QUICK_REPLIES]
            ],
        },
    }


def asking(
    result: IntakeResult, answered: dict[str, str] | None, locale: str
) -> tuple[str | None, list[Choice]]:
    """The question the response asks with quick replies, and its choices: where the patient
    is, on the acknowledgement of a case's first message (and its redelivery) while the record
    has no location; the country, once the traveller tapped "on land" and the record has none;
    else nothing."""
    if opened_by_this_message(result) and result.ticket.location_type is None:
        return QUESTIONS["location_type"].render(locale), location_replies(locale)
    if answered and answered.get("location_type") == "land" and result.ticket.country is None:
        return QUESTIONS["country"].render(locale), country_replies(locale)
    return None, []


def _pack_replies(messages: list[Message], room: int) -> tuple[list[str], set[int]]:
    """Staff replies as at most ``room`` simpleTexts; returns the texts and the message ids in.

    Short replies are joined while they fit; a long one is split over the outputs left, and
    clipped only when it is longer than all of them together.
    """
    outputs: list[str] = []
    included: set[int] = set()
    for m in messages:
        if outputs and len(outputs[-1]) + 2 + len(m.text) <= SIMPLE_TEXT_MAX:
            outputs[-1] += "\n\n" + m.text
        elif len(outputs) < room:
            left = room - len(outputs)
            if len(m.text) > SIMPLE_TEXT_MAX * left and outputs:
                break  # it fits better in the next response, with all the room
            chunks = [
                m.text[i : i + SIMPLE_TEXT_MAX] for i in range(0, len(m.text), SIMPLE_TEXT_MAX)
            ]
            if len(chunks) > left:
                chunks = [*chunks[: left - 1], clip("".join(chunks[left - 1 :]))]
            outputs.extend(chunks)
        else:
            break
        included.add(m.id)  # type: ignore[arg-type]
    return outputs, included


def _take_replies(session: Session, result: IntakeResult, now: datetime) -> list[str]:
    """Staff replies waiting for this traveller, as the outputs this answer has room for; the
    outbox decides what they are and settles them (:func:`outbound.replies_for_answer`)."""
    outputs = outbound.replies_for_answer(
        session,
        contact_id=result.contact.id,  # type: ignore[arg-type]
        source=SOURCE,
        now=now,
        lease=LEASE,
        pack=lambda messages: _pack_replies(messages, MAX_OUTPUTS - 1),
    )
    return outputs or []


@router.post("/kakao", response_model=SkillResponse)
async def intake_kakao(request: Request, ctx: ContextDep) -> dict[str, Any]:
    """One skill call: the utterance recorded, then the skill response (version 2.0)."""
    settings = ctx.settings
    expected = channel_secret(settings, "kakao_skill_secret")
    if expected is not None:
        given = request.headers.get(settings.kakao_skill_secret_header, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("bad_signature", _l("The skill secret header is missing or wrong."))
    skill = await read_json(request, SkillRequest, max_bytes=settings.max_body_bytes)
    user_request = skill.userRequest
    bot_user_key = user_request.user.id
    locale = _locale(user_request.lang)
    id_header = settings.kakao_request_id_header
    request_id = (request.headers.get(id_header) or "").strip() if id_header else ""
    if request_id and len(request_id) <= 150 and "\x00" not in request_id:
        external_id = f"kakao-req:{request_id}"
    else:
        bucket = int(ctx.now().timestamp()) // max(1, settings.kakao_dedupe_seconds)
        external_id = message_key(bot_user_key, user_request.utterance, bucket)
    plusfriend = user_request.user.properties.plusfriendUserKey
    # A tapped location or country quick reply is an answer for the record (the words are
    # still recorded as the message); the intake decides what it may fill.
    answers, prompt = tapped(user_request.utterance, locale)
    inbound = InboundMessage(
        source=SOURCE,
        sender_id=bot_user_key,
        external_id=external_id,
        text=user_request.utterance,
        locale=clean_locale(locale),
        timezone=clean_timezone(user_request.timezone),
        meta={"plusfriend_user_key": plusfriend} if plusfriend else None,
        answers=answers or None,
        # Photos are fetched after the commit, only from CONSULT119_KAKAO_MEDIA_HOSTS: the
        # 5-second answer never waits for a download.
        attachments=tuple(
            kakao_files(
                {
                    "action": skill.action or {},
                    "userRequest": {"params": user_request.params or {}},
                },
                limit=settings.max_attachments,
            )
        ),
    )
    taken = await take(ctx, inbound, ack=Ack.WAIT, then=_take_replies)
    result, replies, wait = taken.result, taken.then or [], taken.wait
    question, choices = asking(result, answers, locale)
    ack = _ack_text(result, locale, user_request.utterance, wait, prompt=prompt)
    if question:
        ack = clip(f"{ack}\n\n{question}")
    return skill_response([*replies, ack], locale, choices)
