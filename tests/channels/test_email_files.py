"""A staff reply with files goes out by e-mail with them as MIME parts, through a real SMTP
sink as the relay."""

from __future__ import annotations

import httpx

from consult119.attachments.models import Attachment
from tests.attachments import images
from tests.attachments.test_staff_files import reply, staff_upload
from tests.channels.conftest import FAST_OUTBOX, wait_for
from tests.channels.test_email_live import new_mail, smtp_send
from tests.factories import make_staff


def test_an_e_mail_reply_carries_the_file_as_a_mime_part(start_server, db, smtp_sink):
    smtp_sink.start()
    server = start_server(
        CONSULT119_SMTP_RELAY=smtp_sink.relay,
        CONSULT119_MAIL_FROM="central119ems@korea.kr",
        **FAST_OUTBOX,
    )
    doctor = make_staff(db, "doctor", on_duty=True)
    headers = doctor.headers(server.url)
    smtp_send(server, new_mail("minsu.kim@example.kr", "처방전 문의", "약 이름을 알려주세요"))
    wait_for(lambda: smtp_sink.received, what="the acknowledgement mail")
    ticket_id = httpx.get(f"{server.url}/api/v1/tickets", headers=headers).json()["items"][0]["id"]
    photo = staff_upload(server, headers, images.photo("PNG"), "약봉투.png")
    letter = staff_upload(server, headers, images.pdf(), "안내문.pdf")
    r = reply(
        server,
        headers,
        ticket_id,
        text="첨부 파일을 보세요.",
        attachments=[photo["id"], letter["id"]],
    )
    assert r.status_code == 201, r.text
    wait_for(lambda: len(smtp_sink.received) == 2, what="the reply mail")
    _, rcpts, mail = smtp_sink.received[1]
    assert rcpts == ["minsu.kim@example.kr"]
    assert "첨부 파일을 보세요." in mail.get_body(("plain",)).get_content()
    parts = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()
    ]
    with db.read_session() as s:
        stored_png = s.get(Attachment, photo["id"])
    assert [(n, t) for n, t, _ in parts] == [
        ("약봉투.png", stored_png.content_type),
        ("안내문.pdf", "application/pdf"),
    ]
    assert parts[1][2] == images.pdf()
