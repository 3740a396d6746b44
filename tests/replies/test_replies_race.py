"""Two admins writing the same key at once, on both databases: one reply, one 409, never a
500 (on PostgreSQL the second writer's check cannot see the first's uncommitted row; the
unique index refuses it, and the refusal becomes ``reply_exists``)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from consult119.db import utcnow
from consult119.errors import Conflict
from consult119.replies import service
from consult119.replies.models import CannedReply

VALUES = {"key": "same", "language": "en", "title": "T", "body": "B", "position": 0, "active": True}


def _race(db, second_write) -> object:
    inside = threading.Event()
    result: dict[str, object] = {}

    def first() -> None:
        with db.unit_of_work() as session:
            service.create_reply(session, values=VALUES, by=None, now=utcnow())
            inside.set()
            time.sleep(0.5)  # the second writer runs into the uncommitted row meanwhile

    def second() -> None:
        assert inside.wait(10)
        try:
            with db.unit_of_work() as session:
                second_write(session)
            result["outcome"] = "written"
        except Conflict as exc:
            result["outcome"] = exc.code
        except Exception as exc:  # noqa: BLE001 - the test reports what escaped
            result["outcome"] = type(exc).__name__

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return result.get("outcome")


def _count(db) -> int:
    with db.read_session() as session:
        return session.scalar(
            select(func.count()).select_from(CannedReply).where(CannedReply.key == "same")
        )


def test_adding_the_same_key_at_once(db):
    outcome = _race(
        db, lambda session: service.create_reply(session, values=VALUES, by=None, now=utcnow())
    )
    assert outcome == "reply_exists"
    assert _count(db) == 1


def test_renaming_onto_a_key_being_added(db):
    with db.unit_of_work() as session:
        other = service.create_reply(
            session, values={**VALUES, "key": "other"}, by=None, now=utcnow()
        )
    outcome = _race(
        db,
        lambda session: service.update_reply(
            session, other.id, version=1, values={"key": "same"}, by=None, now=utcnow()
        ),
    )
    assert outcome == "reply_exists"
    assert _count(db) == 1
