"""The content-addressed store: files on disk named by their SHA-256, outside the database.

Layout under the attachments folder (``CONSULT119_ATTACHMENT_DIR``)::

    ab/abcdef…            a file, by its hash (two-character fan-out)
    thumbs/abcdef….jpg    its thumbnail, made on first request
    .incoming/            files being received (removed when done or refused)

A file is streamed into ``.incoming/`` (the same file system, so the move is one ``rename``),
hashed as it is written, flushed to disk (``fsync``) and moved into place with ``os.replace``
before the message that names it commits: a committed row always finds its file. A crash between
the move and the commit leaves a file no row names, which is harmless (and the same photo sent
again reuses it). Identical files are stored once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from consult119.attachments.sniff import HEAD_BYTES

INCOMING = ".incoming"
THUMBS = "thumbs"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    """More bytes came than the limit allows."""


class Spool:
    """A file being received into the store: written in chunks, hashed, then committed."""

    def __init__(self, store: AttachmentStore, *, limit: int | None = None) -> None:
        store.incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store.incoming, prefix="in-")
        self.path = Path(name)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._store = store
        self._hash = hashlib.sha256()
        self._limit = limit
        self.size = 0
        self.head = b""

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; :class:`TooLarge` past the limit (the spool is then discarded)."""
        self.size += len(chunk)
        if self._limit is not None and self.size > self._limit:
            self.discard()
            raise TooLarge
        if len(self.head) < HEAD_BYTES:  # what the type is read from
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> None:
        """Flush the bytes to disk (the file stays in ``.incoming/``, readable at ``path``)."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def commit(self) -> str:
        """Move the file into place under its hash and return the hash."""
        self.finish()
        sha = self._hash.hexdigest()
        target = self._store.path_of(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)
        _fsync_dir(target.parent)
        return sha

    def discard(self) -> None:
        """Drop the file (refused, too large, or the request ended)."""
        if not self._file.closed:
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        # Whatever was not committed goes: a refused or interrupted file leaves nothing behind.
        if self.path.exists():
            self.discard()


class AttachmentStore:
    """Files by hash under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def incoming(self) -> Path:
        return self.root / INCOMING

    def path_of(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def thumbnail_path(self, sha256: str) -> Path:
        self.path_of(sha256)  # the same check
        return self.root / THUMBS / f"{sha256}.jpg"

    def spool(self, *, limit: int | None = None) -> Spool:
        return Spool(self, limit=limit)

    def put(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store ``chunks`` whole; (hash, size)."""
        with self.spool() as spool:
            for chunk in chunks:
                spool.write(chunk)
            return spool.commit(), spool.size

    def put_thumbnail(self, sha256: str, data: bytes) -> Path:
        """Keep ``data`` as the thumbnail of ``sha256`` (atomically: a reader sees all or none)."""
        target = self.thumbnail_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.spool() as spool:
            spool.write(data)
            spool.finish()
            os.replace(spool.path, target)
        return target

    def remove(self, sha256: str) -> None:
        """Delete the file of ``sha256`` and its thumbnail (either may be gone already)."""
        for path in (self.path_of(sha256), self.thumbnail_path(sha256)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (the directory entry), as SQLite does for its journal."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
