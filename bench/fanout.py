"""Console fan-out: how fast a new case reaches every open console, and what a console costs.

For 100, 500 and 1,000 consoles on one ``consult119 serve`` process (SQLite, loopback):
- latency from sending a chat intake to the ``ticket.created`` frame on each console
  (p50/p99/max over every console and round; this includes the intake's own commit, so it is
  an upper bound on "intake answered → on every screen");
- server memory per idle console (RSS growth after the consoles are open and ready, / N).

A baseline runs in the same invocation: a bare ``websockets`` broadcast server (no auth,
no database) measured the same way, the trigger being a frame to that server instead of an
intake. Clients run in this process on the same machine, so their own CPU time is in every
number; compare the ratios, not the absolute values across machines.

    .venv/bin/python bench/fanout.py                 # 100, 500, 1000 consoles
    .venv/bin/python bench/fanout.py --sizes 50 --rounds 5
    .venv/bin/python bench/fanout.py --sizes 1000 --ws websockets-sansio,websockets,wsproto

``FANOUT_DEBUG=1`` also prints each system's three slowest rounds (trigger time, spread).
Loopback only; every phase has a deadline, so the run always ends.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from _server import SECRET, free_port, spawn_server, stop_server

PASSWORD = "bench-password-123"
CREATED = '"name":"ticket.created"'
DEADLINE = 600.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- the baseline: a bare websockets broadcast server --------------------------------------


async def baseline_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    consoles = set()

    async def handler(ws) -> None:
        async for message in ws:
            frame = json.loads(message)
            if frame["type"] == "auth":
                consoles.add(ws)
                await ws.send('{"type":"ready"}')
            elif frame["type"] == "trigger":
                broadcast(consoles, frame["payload"])
        consoles.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=20):
        await asyncio.Future()


# --- clients --------------------------------------------------------------------------------


@dataclass
class Fleet:
    """N open consoles and when each received each round's ``ticket.created``."""

    sockets: list[ClientConnection] = field(default_factory=list)
    received: list[list[float]] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    round_count: int = 0
    trigger_ms: list[float] = field(default_factory=list)

    async def open(self, url: str, auth: str, n: int) -> None:
        sem = asyncio.Semaphore(50)

        async def one() -> ClientConnection:
            async with sem:
                ws = await connect(url, compression=None, open_timeout=60, max_size=None)
                await ws.send(auth)
                while json.loads(await ws.recv())["type"] != "ready":
                    pass
                return ws

        self.sockets = list(await asyncio.gather(*(one() for _ in range(n))))
        self.received = [[] for _ in range(n)]
        self.readers = [asyncio.create_task(self._read(i, ws)) for i, ws in enumerate(self.sockets)]

    async def _read(self, i: int, ws: ClientConnection) -> None:
        async for message in ws:
            if CREATED in message:
                self.received[i].append(time.perf_counter())
                if all(len(r) >= self.round_count for r in self.received):
                    self.arrived.set()

    async def round(self, trigger) -> list[float]:
        self.round_count += 1
        self.arrived.clear()
        start = time.perf_counter()
        await trigger()
        self.trigger_ms.append((time.perf_counter() - start) * 1000)
        await asyncio.wait_for(self.arrived.wait(), 60)
        return [(r[self.round_count - 1] - start) * 1000 for r in self.received]

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


@dataclass
class Result:
    system: str
    consoles: int
    latencies: list[float]
    kb_per_console: float
    #: Per round: last console's receipt minus the first's (the fan-out itself, without the
    #: intake or the trigger before it).
    spreads: list[float] = field(default_factory=list)
    #: Server CPU time per round (intake and fan-out): steadier than latency on a busy machine.
    cpu_ms_per_round: float = 0.0


async def measure(
    system: str, pid: int, url: str, auth: str, n: int, rounds: int, trigger
) -> Result:
    await asyncio.sleep(0.5)
    before = rss_kb(pid)
    fleet = Fleet()
    await fleet.open(url, auth, n)
    await asyncio.sleep(1.0)  # idle: snapshots sent, buffers settled
    per_console = (rss_kb(pid) - before) / n
    # The measuring client holds every console in one process: its own full garbage
    # collections (150 ms with 1,000 client connections) would show up as server latency, for
    # the baseline and consult119 alike. The server is left exactly as it runs.
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    spreads: list[float] = []
    cpu_before = cpu_seconds(pid)
    for _ in range(rounds):
        got = await fleet.round(trigger)
        latencies += got
        spreads.append(max(got) - min(got))
        await asyncio.sleep(0.05)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / rounds
    await fleet.close()
    gc.unfreeze()
    if os.environ.get("FANOUT_DEBUG"):
        worst = sorted(range(rounds), key=lambda i: -fleet.trigger_ms[i])[:3]
        print(
            system,
            "slowest triggers (round, ms, spread):",
            [(i, round(fleet.trigger_ms[i], 1), round(spreads[i], 1)) for i in worst],
        )
    return Result(system, n, latencies, per_console, spreads, cpu_ms)


# --- orchestration --------------------------------------------------------------------------


def start_consult119(tmp: Path, ws: str) -> tuple[subprocess.Popen[bytes], str, str]:
    from consult119.config import Settings
    from consult119.db import Database, build_engine, utcnow
    from consult119.migrate import upgrade
    from consult119.staff.service import create_staff

    url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    db = Database(settings)
    with db.unit_of_work() as s:
        create_staff(
            s,
            email="doctor@bench.example",
            name="Bench Doctor",
            role="doctor",
            password=PASSWORD,
            now=utcnow(),
        )
    db.dispose()
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - the server writes it until stopped
    proc, base = spawn_server(url, "--ws", ws, stderr=log)
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "doctor@bench.example", "password": PASSWORD}
    ).json()
    return proc, base, token["access_token"]


def start_baseline() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--baseline-server", str(port)])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("baseline server did not start")


async def run(sizes: list[int], rounds: int, impls: list[str]) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for n in sizes:
            # Fresh servers per size and implementation, so memory is measured from the same
            # starting point.
            results += await run_size(Path(tmpdir) / str(n), n, rounds, impls)
    return results


async def run_size(tmp: Path, n: int, rounds: int, impls: list[str]) -> list[Result]:
    tmp.mkdir()
    baseline, bport = start_baseline()
    results: list[Result] = []
    try:
        async with asyncio.timeout(DEADLINE):
            control = await connect(f"ws://127.0.0.1:{bport}", compression=None)
            await control.send('{"type":"hello"}')
            # The same frame size for the baseline: a ticket.created is ~1 kB.
            payload = json.dumps(
                {"type": "event", "name": "ticket.created", "data": {"pad": "x" * 900}},
                separators=(",", ":"),
            )

            async def trigger() -> None:
                await control.send(json.dumps({"type": "trigger", "payload": payload}))

            baseline_url = f"ws://127.0.0.1:{bport}"
            await measure("warm-up", baseline.pid, baseline_url, '{"type":"auth"}', 20, 3, trigger)
            for i, ws in enumerate(impls):
                results.append(await run_consult119(tmp / f"{i}-{ws}", ws, n, rounds))
            results.append(
                await measure(
                    "websockets baseline",
                    baseline.pid,
                    baseline_url,
                    '{"type":"auth"}',
                    n,
                    rounds,
                    trigger,
                )
            )
            await control.close()
    finally:
        stop_server(baseline)
    return results


async def run_consult119(tmp: Path, ws: str, n: int, rounds: int) -> Result:
    tmp.mkdir()
    server, base, token = start_consult119(tmp, ws)
    try:
        counter = iter(range(1, 1_000_000))
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:

            async def intake() -> None:
                seq = next(counter)
                r = await http.post(
                    "/api/v1/intake/chat",
                    json={
                        "source": "kakao",
                        "sender_id": f"bench-{seq}",
                        "message_id": f"m-{seq}",
                        "text": "가슴이 아파요",
                    },
                )
                assert r.status_code == 201, r.text

            console_url = f"{base.replace('http', 'ws')}/ws/console"
            console_auth = json.dumps({"type": "auth", "token": token})
            # Warm up (imports, thread pools, first queries).
            await measure("warm-up", server.pid, console_url, console_auth, 20, 3, intake)
            return await measure(
                f"consult119 ws={ws}", server.pid, console_url, console_auth, n, rounds, intake
            )
    finally:
        stop_server(server)


def print_table(results: list[Result]) -> None:
    base = {r.consoles: r for r in results if r.system == "websockets baseline"}
    print(
        f"\n{'system':<34}{'consoles':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'spread':>9}{'CPU/rnd':>9}{'KB/idle':>9}{'p99 ×base':>11}{'spread ×base':>14}"
    )
    for r in results:
        b = base[r.consoles]
        p99 = percentile(r.latencies, 0.99)
        ratio = p99 / max(percentile(b.latencies, 0.99), 1e-6)
        spread = statistics.median(r.spreads)
        spread_ratio = spread / max(statistics.median(b.spreads), 1e-6)
        print(
            f"{r.system:<34}{r.consoles:>9}{statistics.median(r.latencies):>9.1f}{p99:>9.1f}"
            f"{max(r.latencies):>9.1f}{spread:>9.1f}{r.cpu_ms_per_round:>9.1f}"
            f"{r.kb_per_console:>9.1f}{ratio:>11.2f}"
            f"{spread_ratio:>14.2f}"
        )
    print(
        "\nlatency: intake request sent (baseline: trigger frame sent) → ticket.created "
        "received, over every console and round; spread: median over rounds of last minus "
        "first console's receipt (the fan-out alone); CPU/rnd: server CPU ms per round "
        "(baseline: per broadcast); KB/idle: server RSS growth / consoles"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,500,1000", help="console counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=20, help="new cases per size")
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        help="consult119 serve --ws implementations to compare, comma-separated "
        "(websockets-sansio, websockets, wsproto)",
    )
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        asyncio.run(baseline_server(args.baseline_server))
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    sizes = [int(s) for s in args.sizes.split(",")]
    print_table(asyncio.run(run(sizes, args.rounds, args.ws.split(","))))


if __name__ == "__main__":
    main()
