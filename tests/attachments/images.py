"""Real files for the attachment tests, made with Pillow and pillow-heif (no fixtures on disk)."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

#: EXIF tags: Orientation, Make, Model, and the GPS block's pointer.
ORIENTATION, MAKE, MODEL, GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8825
SEOUL_GPS = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}


def exif(*, orientation: int | None = None) -> Image.Exif:
    """An iPhone-like EXIF block: the device and where the photo was taken."""
    data = Image.Exif()
    data[MAKE] = "Apple"
    data[MODEL] = "iPhone 15 Pro"
    data[GPS_IFD] = SEOUL_GPS
    if orientation is not None:
        data[ORIENTATION] = orientation
    return data


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 32), **save: object) -> bytes:
    """A small picture (red left half, blue right half) in ``fmt`` with EXIF GPS."""
    im = Image.new("RGB", size, (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    if fmt in ("JPEG", "PNG", "WEBP", "HEIF"):
        save.setdefault("exif", exif().tobytes())
    im.save(out, format=fmt, **save)
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a ``width`` × ``height`` canvas: a decompression bomb."""
    raw = photo("PNG", size=(1, 1), exif=b"")
    ihdr = struct.pack(">II", width, height) + raw[24:29]
    chunk = b"IHDR" + ihdr
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
