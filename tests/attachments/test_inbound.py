"""What channel adapters hand over: Kakao image URLs, LINE content, e-mail parts."""

from __future__ import annotations

from dataclasses import dataclass

from consult119.attachments.inbound import kakao_files, line_file, store_mail_parts
from consult119.attachments.service import RemoteFile, StoredFile
from consult119.config import Settings
from tests.attachments import images


def test_kakao_secure_image_plugin_and_media_urls():
    payload = {
        "userRequest": {
            "utterance": "사진",
            "params": {"media": {"type": "image", "url": "https://talk.kakaocdn.net/m/3.jpg"}},
        },
        "action": {
            "params": {
                "secureimage": '{"privacyAgreement":"Y","imageQuantity":"2","secureUrls":'
                '"List(https://talk.kakaocdn.net/a/1.jpg, https://talk.kakaocdn.net/a/2.jpg)"}'
            },
            "detailParams": {"photo": {"value": "List(https://talk.kakaocdn.net/a/1.jpg)"}},
        },
    }
    files = kakao_files(payload)
    assert [f.ref for f in files] == [
        "https://talk.kakaocdn.net/a/1.jpg",
        "https://talk.kakaocdn.net/a/2.jpg",
        "https://talk.kakaocdn.net/m/3.jpg",
    ]
    assert all(f.source == "kakao" for f in files)


def test_kakao_without_images_and_odd_values():
    assert kakao_files({"userRequest": {"utterance": "배가 아파요"}}) == []
    assert kakao_files({"action": {"params": {"x": "List(ftp://a, javascript:alert(1))"}}}) == []
    assert kakao_files({"action": "nope", "userRequest": {"params": {"media": "x"}}}) == []


def test_line_content_messages():
    assert line_file("image", "5551", None) == RemoteFile("line", "5551", "line-image-5551")
    assert line_file("file", "7", "퇴원 소견서.pdf").filename == "퇴원 소견서.pdf"
    assert line_file("video", "8", None).content_type == "video/mp4"
    assert line_file("text", "9", None) is None
    assert line_file("sticker", "9", None) is None


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes


def test_mail_parts_are_stored_or_noted(tmp_path):
    settings = Settings(attachment_dir=str(tmp_path / "store"))
    stored, notes = store_mail_parts(
        settings,
        [
            Part("약봉투.png", "image/png", images.photo("PNG")),
            Part("invoice.pdf.exe", "application/pdf", images.WINDOWS_EXE),
        ],
    )
    assert [type(s) for s in stored] == [StoredFile]
    assert stored[0].filename == "약봉투.png"
    assert notes == [{"code": "unsupported_type", "filename": "invoice.pdf.exe"}]
