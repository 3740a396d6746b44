"""``GET /metrics`` scraped from a real server during a real load: the counters match what the
load did, the gauges what the database holds, and only allowed callers read any of it."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.console.helpers import open_socket

TOKEN = "metrics-token-0123456789abcdef"
#: One sender past its burst (30 at once): the rest of its messages are refused.
FLOODER_MESSAGES = 36


def scrape(server, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, parsed by the client library's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(parsed, name: str, **labels: str) -> float:
    return parsed.get((name, tuple(sorted(labels.items()))), 0.0)


def total(parsed, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in parsed.items() if n == name and want <= set(ls))


def post_chat(server, client: httpx.Client, sender: str, message: str, text: str) -> int:
    body = {"source": "kakao", "sender_id": sender, "message_id": message, "text": text}
    return client.post(f"{server.url}/api/v1/intake/chat", json=body, timeout=30).status_code


def test_counters_match_a_load_run(start_server):
    server = start_server(CONSULT119_METRICS_ALLOW="10.1.2.0/24", CONSULT119_METRICS_TOKEN=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    # Refused first: the loopback address is not on this server's list.
    refused = scrape(server)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "metrics_forbidden"
    wrong = scrape(server, Authorization="Bearer not-the-token")
    assert wrong.status_code == 401
    assert wrong.json()["detail"]["code"] == "invalid_metrics_token"
    assert TOKEN not in wrong.text
    assert scrape(server, Authorization=TOKEN).status_code == 401  # no scheme, no entry
    assert scrape(server, **auth).status_code == 200

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def traveller(i: int) -> None:
        with httpx.Client() as client:
            got = [post_chat(server, client, f"metrics-{i}", f"m{i}-1", "가슴이 아파요")]
            got.append(post_chat(server, client, f"metrics-{i}", f"m{i}-2", "still hurts"))
            got.append(post_chat(server, client, f"metrics-{i}", f"m{i}-1", "가슴이 아파요"))
        with lock:
            statuses.update(got)

    def flooder() -> None:
        with httpx.Client() as client:
            got = [
                post_chat(server, client, "metrics-flood", f"f{j}", "help")
                for j in range(FLOODER_MESSAGES)
            ]
        with lock:
            statuses.update(got)

    scrapes: list[int] = []
    stop = threading.Event()

    def scraper() -> None:  # Prometheus does not wait for a quiet moment
        with httpx.Client() as client:
            while not stop.is_set():
                scrapes.append(client.get(f"{server.url}/metrics", headers=auth).status_code)

    travellers = 24
    watcher = threading.Thread(target=scraper)
    watcher.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(traveller, i) for i in range(travellers)]
            jobs.append(pool.submit(flooder))
            for job in jobs:
                job.result()
    finally:
        stop.set()
        watcher.join()
    assert scrapes and set(scrapes) == {200}

    # What the load did, from its answers: 201 a new case; 200 joined or a redelivery; 429 refused.
    new = statuses[201]
    refused_n = statuses[429]
    assert new == travellers + 1
    assert 1 <= refused_n <= FLOODER_MESSAGES - 30  # the bucket refills at one a second
    joined = (travellers * 1) + (FLOODER_MESSAGES - refused_n - 1)
    duplicate = travellers
    assert statuses[200] == joined + duplicate

    response = scrape(server, **auth)
    assert response.headers["content-type"].startswith("text/plain")
    parsed = samples(response.text)
    kakao = {"channel": "chat", "source": "kakao"}
    assert value(parsed, "consult119_intakes_total", **kakao, outcome="new") == new
    assert value(parsed, "consult119_intakes_total", **kakao, outcome="joined") == joined
    assert value(parsed, "consult119_intakes_total", **kakao, outcome="duplicate") == duplicate
    assert value(parsed, "consult119_intakes_total", **kakao, outcome="refused") == refused_n
    taken = new + joined + duplicate
    assert value(parsed, "consult119_intake_seconds_count", channel="chat") == taken
    # Every committed intake went through the group-commit writer, in batches of one or more.
    assert value(parsed, "consult119_group_commit_batch_size_sum") == taken
    batches = value(parsed, "consult119_group_commit_batch_size_count")
    assert 1 <= batches <= taken
    # The gauges read the database: every case opened is open, untriaged (rank 2).
    assert total(parsed, "consult119_open_cases") == new
    assert value(parsed, "consult119_open_cases", channel="chat", rank="2") == new
    assert value(parsed, "consult119_open_cases", channel="chat", rank="1") == 0
    assert total(parsed, "consult119_outbox_failed") == 0
    assert value(parsed, "consult119_database_errors_total", kind="unavailable") == 0
    assert value(parsed, "consult119_console_connections") == 0
    assert ("consult119_sla_breaches_total", ()) not in parsed  # labelled by level, none yet
    # No label carries a traveller's id or words.
    for needle in ("metrics-", "가슴", "hurts", "m1-1"):
        assert needle not in response.text


def test_console_connections_and_proxied_addresses(start_server):
    # Behind a trusted proxy the client is the forwarded address, and the list applies to it.
    server = start_server(CONSULT119_TRUSTED_PROXIES="127.0.0.1")
    assert scrape(server).status_code == 200  # loopback, on the default list
    outside = scrape(server, **{"X-Forwarded-For": "203.0.113.9"})
    assert outside.status_code == 403
    assert outside.json()["detail"]["code"] == "metrics_forbidden"
    assert scrape(server, **{"X-Forwarded-For": "127.0.0.1"}).status_code == 200

    async def consoles() -> None:
        sockets = [await open_socket(server) for _ in range(3)]
        parsed = samples((await asyncio.to_thread(scrape, server)).text)
        assert value(parsed, "consult119_console_connections") == 3
        for ws in sockets:
            await ws.close()
        for _ in range(50):
            parsed = samples((await asyncio.to_thread(scrape, server)).text)
            if value(parsed, "consult119_console_connections") == 0:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("console connections did not fall back to 0")

    asyncio.run(consoles())
