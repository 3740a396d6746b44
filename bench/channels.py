"""Channel intake latency against the generic chat gateway, measured in the same run.

Starts ``consult119 serve`` on a fresh SQLite database (loopback only), sends N messages through
each channel one at a time, and prints a table of p50/p95 latency with the ratio to the chat
gateway's p50 (the baseline: same intake service, the least adapter work). Stops by itself.

    .venv/bin/python bench/channels.py [N]
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
import websockets
from rich.console import Console
from rich.table import Table

from _server import free_port, spawn_server, stop_server

LINE_SECRET = "bench-line-secret"


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """A live server on SQLite in ``folder``, with LINE signatures on and SMTP intake open."""
    smtp_port = free_port()
    proc, url = spawn_server(
        f"sqlite:///{folder / 'bench.db'}",
        smtp_port=smtp_port,
        CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET,
    )
    return proc, url, smtp_port


def timed(n: int, send: Callable[[int], None]) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        send(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, smtp_port = start_server(Path(tmp))
        client = httpx.Client(timeout=10)
        try:
            results: dict[str, list[float]] = {}

            def chat(i: int) -> None:
                body = {
                    "source": "telegram",
                    "sender_id": f"s{i % 50}",
                    "message_id": f"c{i}",
                    "text": "가슴이 답답해요",
                }
                client.post(f"{url}/api/v1/intake/chat", json=body).raise_for_status()

            def kakao(i: int) -> None:
                body = {
                    "userRequest": {
                        "utterance": f"머리가 아파요 {i}",
                        "lang": "ko",
                        "user": {"id": f"bot-user-{i % 50}", "properties": {}},
                    }
                }
                client.post(f"{url}/api/v1/intake/kakao", json=body).raise_for_status()

            def line(i: int) -> None:
                raw = json.dumps(
                    {
                        "destination": "U0",
                        "events": [
                            {
                                "type": "message",
                                "webhookEventId": f"ev{i}",
                                "timestamp": 1700000000000,
                                "source": {"type": "user", "userId": f"U{i % 50}"},
                                "message": {"type": "text", "id": f"m{i}", "text": "열이 나요"},
                            }
                        ],
                    }
                ).encode()
                sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), raw, hashlib.sha256).digest())
                client.post(
                    f"{url}/api/v1/intake/line",
                    content=raw,
                    headers={"Content-Type": "application/json", "X-Line-Signature": sig.decode()},
                ).raise_for_status()

            def mail(i: int) -> bytes:
                m = EmailMessage()
                m["From"] = f"traveller{i % 50}@example.com"
                m["To"] = "central119ems@korea.kr"
                m["Subject"] = "도움이 필요합니다"
                m["Message-ID"] = f"<bench{i}.{time.time_ns()}@example.com>"
                m.set_content(
                    "배가 많이 아파요.\n\nOn Mon, someone wrote:\n> old text", charset="euc-kr"
                )
                return m.as_bytes()

            def email_http(i: int) -> None:
                client.post(
                    f"{url}/api/v1/intake/email",
                    content=mail(i),
                    headers={"Content-Type": "message/rfc822"},
                ).raise_for_status()

            def email_smtp(i: int) -> None:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
                    smtp.sendmail("t@example.com", ["central119ems@korea.kr"], mail(i + n))

            async def webchat_all() -> list[float]:
                out: list[float] = []
                per_session = 20  # inside one session's burst budget
                for start in range(0, n, per_session):
                    token = client.post(f"{url}/api/v1/webchat/sessions", json={}).json()["token"]
                    async with websockets.connect(url.replace("http", "ws") + "/ws/chat") as ws:
                        await ws.send(json.dumps({"type": "auth", "token": token}))
                        await ws.recv()
                        for i in range(start, min(n, start + per_session)):
                            t = time.perf_counter()
                            await ws.send(
                                json.dumps(
                                    {"type": "message", "text": "숨이 차요", "client_id": str(i)}
                                )
                            )
                            while json.loads(await ws.recv())["type"] != "ack":
                                pass
                            out.append((time.perf_counter() - t) * 1000)
                return out

            results["chat gateway (baseline)"] = timed(n, chat)
            results["kakao skill"] = timed(n, kakao)
            results["line webhook"] = timed(n, line)
            results["email over HTTP"] = timed(n, email_http)
            results["email over SMTP (new connection each)"] = timed(n, email_smtp)
            results["web chat (socket, ack)"] = asyncio.run(webchat_all())
        finally:
            client.close()
            stop_server(proc)

    base = statistics.median(results["chat gateway (baseline)"])
    table = Table(title=f"Channel intake, {n} messages each, one at a time, SQLite, loopback")
    for col in ("channel", "p50 ms", "p95 ms", "p50 / baseline"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for name, xs in results.items():
        xs = sorted(xs)
        p50, p95 = statistics.median(xs), xs[int(len(xs) * 0.95) - 1]
        table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / base:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
