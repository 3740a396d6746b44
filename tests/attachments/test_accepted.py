"""What is accepted: the type from the bytes alone, images re-encoded without metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from consult119.attachments import images as imaging
from consult119.attachments.service import Refused, accept_bytes, safe_filename
from consult119.attachments.sniff import Kind, kind_of
from consult119.attachments.store import AttachmentStore
from tests.attachments import images

LIMIT = 5 * 1024 * 1024


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(tmp_path / "attachments")


def stored_image(store, stored):
    return Image.open(store.path_of(stored.sha256))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (images.photo("JPEG"), Kind.JPEG),
        (images.photo("PNG"), Kind.PNG),
        (images.photo("WEBP"), Kind.WEBP),
        (images.photo("GIF"), Kind.GIF),
        (images.photo("HEIF"), Kind.HEIF),
        (images.pdf(), Kind.PDF),
        (images.ELF, None),
        (images.WINDOWS_EXE, None),
        (b"<html><script>alert(1)</script>", None),
        (b"PK\x03\x04" + b"\x00" * 60, None),  # a zip (or a .docx)
        (b"", None),
    ],
)
def test_the_type_is_read_from_the_bytes(data, kind):
    assert kind_of(data[:64]) is kind


@pytest.mark.parametrize(
    ("fmt", "content_type", "name", "stored_name"),
    [
        ("JPEG", "image/jpeg", "wound.jpg", "wound.jpg"),
        ("PNG", "image/png", "약봉투.png", "약봉투.png"),
        ("WEBP", "image/webp", "rash.webp", "rash.webp"),
        ("GIF", "image/gif", "x.gif", "x.gif"),
        ("HEIF", "image/jpeg", "IMG_0042.HEIC", "IMG_0042.jpg"),
    ],
)
def test_each_image_type_is_kept_re_encoded(store, fmt, content_type, name, stored_name):
    stored = accept_bytes(store, images.photo(fmt), name, limit=LIMIT)
    assert (stored.content_type, stored.filename) == (content_type, stored_name)
    assert (stored.width, stored.height) == (64, 32)
    with stored_image(store, stored) as im:
        assert im.format == ("JPEG" if fmt == "HEIF" else fmt)
        assert im.size == (64, 32)
        # Red on the left, blue on the right, as taken.
        assert im.convert("RGB").getpixel((4, 16))[0] > 200
        assert im.convert("RGB").getpixel((60, 16))[2] > 200
    assert stored.size == store.path_of(stored.sha256).stat().st_size


def test_a_pdf_is_kept_byte_for_byte(store):
    stored = accept_bytes(store, images.pdf(), "discharge letter", limit=LIMIT)
    assert (stored.content_type, stored.filename) == ("application/pdf", "discharge letter.pdf")
    assert store.path_of(stored.sha256).read_bytes() == images.pdf()
    assert stored.width is None


@pytest.mark.parametrize(
    "data", [images.ELF, images.WINDOWS_EXE, b"#!/bin/sh\nrm -rf /\n", b"just text"]
)
def test_a_renamed_program_is_refused_and_leaves_no_file(store, data):
    with pytest.raises(Refused) as refused:
        accept_bytes(store, data, "photo.jpg", limit=LIMIT)
    assert refused.value.code == "unsupported_type"
    assert refused.value.note() == {"code": "unsupported_type", "filename": "photo.jpg"}
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_bytes_that_start_like_a_jpeg_but_are_not_one_are_refused(store):
    with pytest.raises(Refused) as refused:
        accept_bytes(store, b"\xff\xd8\xff\xe0" + b"MZ" * 100, "photo.jpg", limit=LIMIT)
    assert refused.value.code == "unreadable_image"


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (8_000, 7_000)],  # past Pillow's error, past the warning only
)
def test_a_decompression_bomb_is_refused(store, width, height):
    assert width * height > imaging.MAX_PIXELS
    bomb = images.png_claiming(width, height)
    assert len(bomb) < 100
    with pytest.raises(Refused) as refused:
        accept_bytes(store, bomb, "big.png", limit=LIMIT)
    assert refused.value.code == "too_many_pixels"


def test_a_file_over_the_limit_is_refused(store):
    data = images.photo("PNG", size=(300, 300))
    with pytest.raises(Refused) as refused:
        accept_bytes(store, data, "a.png", limit=len(data) - 1)
    assert refused.value.code == "too_large"
    assert accept_bytes(store, data, "a.png", limit=len(data)).content_type == "image/png"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_gps_and_device_are_removed(store, fmt):
    original = images.photo(fmt)
    with Image.open(io.BytesIO(original)) as im:  # the test's own photo does carry them
        assert im.getexif().get_ifd(images.GPS_IFD)
    stored = accept_bytes(store, original, "p", limit=LIMIT)
    with stored_image(store, stored) as im:
        tags = im.getexif()
        assert not tags.get_ifd(images.GPS_IFD)
        assert images.MAKE not in tags and images.MODEL not in tags
        assert "exif" not in im.info and "xmp" not in im.info
    raw = store.path_of(stored.sha256).read_bytes()
    assert b"iPhone" not in raw and b"Apple" not in raw


def test_an_iphone_heic_turned_sideways_becomes_an_upright_jpeg(store):
    # The camera stored the pixels landscape (64 × 32) and EXIF orientation 6: "turn 90° right".
    heic = images.photo("HEIF", exif=images.exif(orientation=6).tobytes())
    assert kind_of(heic[:64]) is Kind.HEIF
    stored = accept_bytes(store, heic, "IMG_0001.HEIC", limit=LIMIT)
    assert stored.content_type == "image/jpeg" and stored.filename == "IMG_0001.jpg"
    with stored_image(store, stored) as im:
        assert im.format == "JPEG"
        assert im.size == (32, 64) == (stored.width, stored.height)
        assert im.getexif().get(images.ORIENTATION) in (None, 1)
        assert not im.getexif().get_ifd(images.GPS_IFD)


def test_a_jpeg_orientation_is_applied(store):
    stored = accept_bytes(
        store, images.photo("JPEG", exif=images.exif(orientation=8).tobytes()), "p.jpg", limit=LIMIT
    )
    with stored_image(store, stored) as im:
        assert im.size == (32, 64)
        # Orientation 8 turns the picture 90° left: the red left half ends at the bottom.
        assert im.convert("RGB").getpixel((16, 60))[0] > 200


def test_an_animated_gif_keeps_its_frames(store):
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(
        out, format="GIF", save_all=True, append_images=frames[1:], duration=200, comment=b"x"
    )
    stored = accept_bytes(store, out.getvalue(), "a.gif", limit=LIMIT)
    with stored_image(store, stored) as im:
        assert im.n_frames == 3
        assert "comment" not in im.info


def test_the_same_photo_twice_is_one_file(store):
    data = images.photo("PNG")
    a = accept_bytes(store, data, "a.png", limit=LIMIT)
    b = accept_bytes(store, data, "b.png", limit=LIMIT)
    assert a.sha256 == b.sha256
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1


def test_a_thumbnail_is_a_small_jpeg(store):
    stored = accept_bytes(store, images.photo("PNG", size=(2000, 1000)), "a.png", limit=LIMIT)
    data = imaging.thumbnail(store.path_of(stored.sha256))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (320, 160)


@pytest.mark.parametrize(
    ("name", "content_type", "safe"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\kim\\상처.JPG", "image/jpeg", "상처.JPG"),
        ('a"b\r\nc.png', "image/png", "a_b_c.png"),
        ("", "image/png", "attachment.png"),
        ("report.exe", "application/pdf", "report.pdf"),
    ],
)
def test_file_names_are_made_safe(name, content_type, safe):
    assert safe_filename(name, content_type) == safe
