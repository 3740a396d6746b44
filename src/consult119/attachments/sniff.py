"""What a file is, decided from its first bytes (magic numbers) alone.

The name and the declared type come from the sender and are never believed: a program renamed
``photo.jpg`` is still a program, and is refused.
"""

from __future__ import annotations

from enum import StrEnum

#: Bytes :func:`kind_of` needs to decide.
HEAD_BYTES = 64

#: ISO base media ``ftyp`` brands of HEIF still images and sequences (iPhones write ``heic``).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"heif"})
#: Generic HEIF brands: HEIF only when a HEIC brand is among the compatible ones (else AVIF …).
GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})


class Kind(StrEnum):
    """The types accepted, each with the content type it is stored as."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    GIF = "image/gif"
    HEIF = "image/heif"  # converted to JPEG on intake
    PDF = "application/pdf"

    @property
    def is_image(self) -> bool:
        return self is not Kind.PDF


def kind_of(head: bytes) -> Kind | None:
    """The accepted type ``head`` (a file's first bytes) starts, or None: not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Kind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind.WEBP
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    if _is_heif(head):
        return Kind.HEIF
    return None


def _is_heif(head: bytes) -> bool:
    if head[4:8] != b"ftyp" or len(head) < 16:
        return False
    box_size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    if major in HEIF_BRANDS:
        return True
    if major not in GENERIC_HEIF_BRANDS:
        return False
    end = min(box_size, len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    return bool(compatible & HEIF_BRANDS)
