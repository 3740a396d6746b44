"""The e-mail parser on recorded and hand-made mail: charsets, HTML, quotes, files, machines."""

from __future__ import annotations

import pytest

from consult119.channels.email.parser import html_to_text, parse_email, strip_quoted
from consult119.config import Settings
from consult119.errors import Invalid, PayloadTooLarge
from tests.channels.conftest import fixture_bytes

SETTINGS = Settings(database_url="sqlite://", max_attachment_bytes=1024)


def mail(headers: str, body: bytes = b"hello", extra: str = "") -> bytes:
    head = "From: A Traveller <a@example.com>\r\nSubject: help\r\n" + headers + extra
    return head.encode() + b"\r\n" + body


def test_outlook_euc_kr_mail_with_a_korean_file_name():
    parsed = parse_email(fixture_bytes("outlook_euckr.eml"), SETTINGS)
    assert parsed.sender == "minsu.kim@example.kr"
    assert parsed.sender_name == "김민수"
    assert parsed.subject == "방콕 여행 중 고열과 설사"
    assert "열이 39도이고 설사가" in parsed.text
    assert parsed.message_id == "<20240305021409.4f2a@mail.example.kr>"
    assert parsed.locale == "ko"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("약봉투.png", "image/png")
    ]
    assert parsed.attachments[0].data.startswith(b"\x89PNG")
    assert parsed.auto_reason is None


def test_iso_2022_kr_header_and_body():
    parsed = parse_email(fixture_bytes("iso2022kr.eml"), SETTINGS)
    assert parsed.subject == "선원 손 부상"
    assert parsed.text == "배에서 선원이 손을 크게 베었습니다. 지혈이 잘 되지 않습니다."


def test_html_only_gmail_reply_keeps_only_the_new_words():
    parsed = parse_email(fixture_bytes("html_only.eml"), SETTINGS)
    assert parsed.text == "아이가 벌에 쏘였는데 입술이 붓고 있어요.\n어떻게 해야 하나요?"
    assert "접수" not in parsed.text


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Thanks, the fever is down.\n\nOn Tue, Mar 5, 2024 at 2:20 AM consult119 <c@x.kr> wrote:\n> Take paracetamol.",
            "Thanks, the fever is down.",
        ),
        (
            "열이 내렸어요.\n\n2024년 3월 5일 (화) 오전 2:20, 재외국민119 <c@x.kr>님이\n작성:\n> 해열제를 드세요.",
            "열이 내렸어요.",
        ),
        (
            "Still hurts.\n\n-----Original Message-----\nFrom: consult119\nSent: Tuesday\n\nTake rest.",
            "Still hurts.",
        ),
        (
            "아직 아파요\n\n보낸 사람: 재외국민119 <c@x.kr>\n보낸 날짜: 2024년 3월 5일 화요일\n받는 사람: me\n\n휴식하세요",
            "아직 아파요",
        ),
        ("> only a quote\n> nothing new", "> only a quote\n> nothing new"),
    ],
)
def test_quoted_reply_stripping(text, expected):
    assert strip_quoted(text) == expected


def test_html_to_text_drops_scripts_and_styles():
    assert html_to_text("<style>p{}</style><p>Hi&nbsp;there</p><script>x()</script>") == "Hi there"


def test_unknown_charset_is_read_as_utf8_or_cp949_never_refused():
    raw = mail("Content-Type: text/plain; charset=x-klingon\r\n", "나".encode("cp949"))
    assert parse_email(raw, SETTINGS).text == "나"
    raw = mail("Content-Type: text/plain; charset=x-klingon\r\n", b"help \xff\xfe\xff")
    assert parse_email(raw, SETTINGS).text == "help \ufffd\ufffd\ufffd"


def test_unknown_charset_label_on_utf8_bytes_is_read():
    raw = mail("Content-Type: text/plain; charset=x-unknown\r\n", "도와주세요".encode())
    assert parse_email(raw, SETTINGS).text == "도와주세요"


def test_undeclared_cp949_body_is_read():
    raw = mail("", "숨이 차요".encode("cp949"))
    assert parse_email(raw, SETTINGS).text == "숨이 차요"


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"", "empty_message"),
        (b"   \r\n", "empty_message"),
        (b"\x00\xff garbage without headers", "missing_sender"),
        (b"From: not an address\r\n\r\nhi", "missing_sender"),
        (b"From: a@example.com\r\nSubject: \r\n\r\n", "empty_message"),
    ],
)
def test_unusable_mail_is_refused_with_a_code(raw, code):
    with pytest.raises(Invalid) as exc:
        parse_email(raw, SETTINGS)
    assert exc.value.code == code


def test_over_the_limit_is_too_large():
    with pytest.raises(PayloadTooLarge):
        parse_email(b"x" * 2048, Settings(database_url="sqlite://", max_mail_bytes=1024))


def test_broken_multipart_keeps_what_it_can():
    raw = mail(
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zz"\r\n',
        b"--zz\r\nContent-Type: text/plain\r\n\r\nbleeding badly\r\n",
    )  # no closing line
    assert parse_email(raw, SETTINGS).text == "bleeding badly"


def test_attachments_over_the_limit_are_dropped_and_noted():
    big = b"A" * 2000
    import base64

    raw = mail(
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee photo\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=big.jpg\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(big)
        + b"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=small.jpg\r\n\r\n"
        b"tiny\r\n--b--\r\n",
    )
    parsed = parse_email(raw, SETTINGS)
    assert [a.filename for a in parsed.attachments] == ["small.jpg"]
    assert parsed.dropped == [{"filename": "big.jpg", "size": 2000, "reason": "too_large"}]


@pytest.mark.parametrize(
    "raw, reason",
    [
        (fixture_bytes("auto_reply.eml"), "auto_submitted"),
        (fixture_bytes("bounce.eml"), "delivery_report"),
        (mail("Precedence: bulk\r\n"), "precedence"),
        (mail("X-Autoreply: yes\r\n"), "auto_reply_header"),
        (b"From: postmaster@example.com\r\nSubject: x\r\n\r\nfailed", "mailer_daemon"),
        (mail("List-Id: <travel.example.com>\r\n"), "mailing_list"),
    ],
)
def test_machines_are_recognised(raw, reason):
    assert parse_email(raw, SETTINGS).auto_reason == reason


def test_null_envelope_sender_is_a_bounce():
    assert parse_email(mail(""), SETTINGS, envelope_from="<>").auto_reason == "null_sender"


def test_threading_inputs():
    raw = mail(
        "In-Reply-To: <a@x>\r\nReferences: <r1@x> <r2@x> <a@x>\r\n", extra="Message-ID: <m@x>\r\n"
    ).replace(b"Subject: help", b"Subject: Re: [C119-2024-000123] help")
    parsed = parse_email(raw, SETTINGS)
    assert parsed.refs == ("<a@x>", "<r2@x>", "<r1@x>")
    assert parsed.case_token == "C119-2024-000123"
    assert parsed.message_id == "<m@x>"


def test_mail_without_message_id_dedupes_on_its_bytes():
    raw = mail("")
    assert parse_email(raw, SETTINGS).message_id == parse_email(raw, SETTINGS).message_id
    assert parse_email(raw, SETTINGS).message_id.startswith("sha256:")
