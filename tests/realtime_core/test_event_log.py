"""The event log: ids strictly increasing in commit order, so "after N" never skips one."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select

from consult119.realtime import events
from consult119.realtime.models import Event


def test_reader_following_after_n_never_skips_with_concurrent_writers(db):
    writers, per_writer = 6, 15
    stop = threading.Event()
    seen: list[int] = []

    def write(w: int) -> None:
        rnd = random.Random(w)
        for i in range(per_writer):
            with db.unit_of_work() as session:
                events.append(session, "test.written", data={"w": w, "i": i})
                # Hold the transaction open a little, so commits interleave.
                time.sleep(rnd.random() * 0.004)

    def read() -> None:
        last = 0
        while True:
            done = stop.is_set()
            with db.read_session() as session:
                ids = list(
                    session.scalars(select(Event.id).where(Event.id > last).order_by(Event.id))
                )
            for i in ids:
                seen.append(i)
                last = i
            if done:
                return
            time.sleep(0.0005)

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    reader.join()

    total = writers * per_writer
    assert seen == list(range(1, total + 1))


def test_events_roll_back_with_their_transaction(db):
    try:
        with db.unit_of_work() as session:
            events.append(session, "test.doomed")
            raise RuntimeError("fail after appending")
    except RuntimeError:
        pass
    with db.unit_of_work() as session:
        events.append(session, "test.kept")
    with db.read_session() as session:
        rows = list(session.execute(select(Event.id, Event.name)))
    assert rows == [(1, "test.kept")]
