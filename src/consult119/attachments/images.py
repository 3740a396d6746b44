"""Images re-encoded on intake: decoded, oriented, stripped of metadata, HEIC made JPEG.

A photo of a wound carries the traveller's GPS position and their phone's make and serial in
its EXIF block; none of it is needed to read the photo and all of it is personal data. Every
image is therefore decoded and written anew from its pixels alone (the colour profile kept, so
skin and wounds look as they did): the EXIF, XMP, comments and text chunks stay behind. The
EXIF orientation is applied first, so a photo taken upright shows upright without it. HEIC and
HEIF (what iPhones send) become JPEG, which every browser opens.

A small file may claim an enormous canvas (a "decompression bomb"): a file whose width times
height exceeds :data:`MAX_PIXELS` is refused before its pixels are decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from consult119.attachments.sniff import Kind

pillow_heif.register_heif_opener()

#: Largest canvas decoded, in pixels: a 48-megapixel phone photo passes, a bomb does not.
MAX_PIXELS = 50_000_000
#: Pillow's own guard (a warning above it, an error at twice it) at the same limit. Between the
#: two, :func:`_check_canvas` refuses the file itself, so the warning would only be noise.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
#: Frames of an animation kept (the pixels of all of them count against MAX_PIXELS).
MAX_FRAMES = 300
#: Longest side of a thumbnail, in pixels.
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 80

#: What each accepted type is written back as.
_OUTPUT = {
    Kind.JPEG: ("JPEG", "image/jpeg"),
    Kind.HEIF: ("JPEG", "image/jpeg"),
    Kind.PNG: ("PNG", "image/png"),
    Kind.WEBP: ("WEBP", "image/webp"),
    Kind.GIF: ("GIF", "image/gif"),
}


class ImageRefused(Exception):
    """The bytes do not decode as the image they start as, or claim too many pixels."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int


def reencode(path: Path, kind: Kind) -> Encoded:
    """The image at ``path`` written anew: oriented, without metadata, HEIF as JPEG."""
    fmt, content_type = _OUTPUT[kind]
    try:
        with Image.open(path) as im:
            _check_canvas(im)
            frames = getattr(im, "n_frames", 1) if kind in (Kind.GIF, Kind.WEBP) else 1
            if frames > 1 and frames <= MAX_FRAMES and frames * im.width * im.height <= MAX_PIXELS:
                return _animation(im, fmt, content_type, frames)
            im.load()
            icc = im.info.get("icc_profile")
            clean = _clean(ImageOps.exif_transpose(im))
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRefused("unreadable_image") from None
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = _flatten(clean)
        options.update(quality=JPEG_QUALITY)
    elif fmt == "WEBP":
        options.update(quality=JPEG_QUALITY)
    clean.save(out, format=fmt, **options)
    return Encoded(out.getvalue(), content_type, clean.width, clean.height)


def thumbnail(path: Path) -> bytes:
    """A small JPEG of the (already clean) image at ``path``."""
    with Image.open(path) as im:
        _check_canvas(im)
        im.seek(0)
        im.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at a reduced scale
        small = _flatten(im.copy()) if im.mode not in ("RGB", "L") else im.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def _check_canvas(im: Image.Image) -> None:
    if im.width * im.height > MAX_PIXELS or im.width <= 0 or im.height <= 0:
        raise ImageRefused("too_many_pixels")


def _clean(im: Image.Image) -> Image.Image:
    """``im`` with no metadata left to write (Pillow writes ``info``'s comment, EXIF, XMP)."""
    im.info = {}
    if hasattr(im, "_exif"):
        im._exif = None  # noqa: SLF001 - Pillow caches the parsed EXIF here
    return im


def _flatten(im: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white, palettes and CMYK converted."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im.convert("RGB")


def _animation(im: Image.Image, fmt: str, content_type: str, frames: int) -> Encoded:
    """An animated GIF or WebP, frame by frame, with only the timing kept."""
    out_frames: list[Image.Image] = []
    durations: list[int] = []
    for index in range(frames):
        im.seek(index)
        durations.append(int(im.info.get("duration", 100)))
        out_frames.append(_clean(im.convert("RGBA")))
    first, rest = out_frames[0], out_frames[1:]
    out = io.BytesIO()
    first.save(out, format=fmt, save_all=True, append_images=rest, duration=durations, loop=0)
    return Encoded(out.getvalue(), content_type, first.width, first.height)
