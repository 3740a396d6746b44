"""Attachment benchmark: server memory during a large upload, and text intake while files come.

A live ``consult119 serve`` on a scratch SQLite database (``--backend postgresql`` for the
other). Measured:

1. **Memory of a 20 MB upload.** The server is warmed up (one small photo through the whole
   path, so Pillow and the multipart parser are loaded), its peak resident set is reset
   (``/proc/PID/clear_refs``), a 20 MB PDF is uploaded to ``POST /api/v1/webchat/attachments``,
   and the new peak (``VmHWM``) is compared with the resident set before: the body streams
   into the store, so the difference stays far below the file's size.
2. **Text intake under uploads.** Chat-gateway messages, closed loop, for ``--seconds``; then
   again while two clients upload 5 MB photos back to back. The ratio is intake's rate with
   uploads over its rate without.

    .venv/bin/python bench/attachments.py [--seconds 10] [--concurrency 8] [--backend sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from PIL import Image
from rich.console import Console
from rich.table import Table

from _server import scratch_database, spawn_server, stop_server

MB = 1024 * 1024


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def pdf_stream(size: int, chunk: int = 64 * 1024):
    """A ``size``-byte PDF, generated as it is sent (the client holds no copy either)."""
    head = b"%PDF-1.4\n% bench\n"
    yield head
    left = size - len(head)
    block = b"0" * chunk
    while left > 0:
        yield block[: min(chunk, left)]
        left -= chunk


def multipart(name: str, content_type: str, chunks, boundary: str):
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    yield from chunks
    yield f"\r\n--{boundary}--\r\n".encode()


def photo(size_bytes: int) -> bytes:
    """A noisy JPEG of about ``size_bytes`` (noise does not compress)."""
    side = int((size_bytes / 0.9) ** 0.5 / 1.2)
    im = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=95)
    return out.getvalue()


def session_token(url: str) -> str:
    r = httpx.post(f"{url}/api/v1/webchat/sessions", json={}, timeout=10)
    r.raise_for_status()
    return r.json()["token"]


def upload(client: httpx.Client, url: str, token: str, body, *, content_type: str) -> int:
    boundary = uuid.uuid4().hex
    r = client.post(
        f"{url}/api/v1/webchat/attachments",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=multipart("file", content_type, body, boundary),
        timeout=120,
    )
    if r.status_code != 201:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:200]}")
    return r.json()["size"]


def memory_of_upload(pid: int, url: str, size: int) -> tuple[int, int]:
    token = session_token(url)
    with httpx.Client() as client:
        upload(client, url, token, [photo(200_000)], content_type="image/jpeg")  # warm up
        before = rss_kb(pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        stored = upload(client, url, token, pdf_stream(size), content_type="application/pdf")
        peak = rss_kb(pid, "VmHWM")
    assert stored == size
    return before, peak


async def intake_rate(url: str, seconds: float, concurrency: int) -> float:
    done = 0
    stop = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient, w: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < stop:
            i += 1
            r = await client.post(
                f"{url}/api/v1/intake/chat",
                json={
                    "source": "kakao",
                    "sender_id": f"bench-{w}-{i % 50}",
                    "message_id": f"{uuid.uuid4().hex}",
                    "text": "배가 아파요",
                },
            )
            r.raise_for_status()
            done += 1

    start = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client, w) for w in range(concurrency)))
    return done / (time.monotonic() - start)


def uploads_running(url: str, stop_at: float, counter: list[int], image: bytes) -> None:
    token = session_token(url)
    with httpx.Client() as client:
        while time.monotonic() < stop_at:
            upload(client, url, token, [image], content_type="image/jpeg")
            counter[0] += 1


async def intake_with_uploads(url: str, seconds: float, concurrency: int) -> tuple[float, int]:
    image = photo(5 * MB - 200_000)
    counter = [0]
    stop_at = time.monotonic() + seconds
    uploaders = [asyncio.to_thread(uploads_running, url, stop_at, counter, image) for _ in range(2)]
    rate, *_ = await asyncio.gather(intake_rate(url, seconds, concurrency), *uploaders)
    return rate, counter[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--upload-mb", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    console = Console()
    with scratch_database(args.backend) as database_url, tempfile.TemporaryDirectory() as store:
        proc, url = spawn_server(
            database_url,
            CONSULT119_ATTACHMENT_DIR=store,
            CONSULT119_MAX_ATTACHMENT_BYTES=str((args.upload_mb + 5) * MB),
        )
        try:
            before, peak = memory_of_upload(proc.pid, url, args.upload_mb * MB)
            alone = asyncio.run(intake_rate(url, args.seconds, args.concurrency))
            loaded, uploads = asyncio.run(intake_with_uploads(url, args.seconds, args.concurrency))
        finally:
            stop_server(proc)
    table = Table(title=f"Attachments ({args.backend}, {os.cpu_count()} CPUs)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(f"server RSS before the {args.upload_mb} MB upload", f"{before / 1024:.1f} MB")
    table.add_row("peak RSS during it", f"{peak / 1024:.1f} MB")
    table.add_row("growth", f"{(peak - before) / 1024:.2f} MB")
    table.add_row("text intake alone", f"{alone:.0f} msg/s")
    table.add_row(f"text intake while 5 MB photos upload ({uploads} done)", f"{loaded:.0f} msg/s")
    table.add_row("ratio (with / without)", f"{loaded / alone:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
