"""The reference client logic: a console's state, built from a snapshot and kept by events.

This is what docs/realtime.md asks of a client; the tests hold it to "snapshot before +
events == snapshot after".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_NEVER = datetime.max.replace(tzinfo=UTC)
OPEN = {"new", "triaged", "assigned", "in_progress", "waiting"}


def queue_key(ticket: dict[str, Any]) -> tuple:
    """The server's queue order: rank, red-flagged first, the earliest SLA deadline (none
    last), untriaged first, the longest waiting."""
    due = ticket.get("sla_due_at")
    return (
        ticket["priority"],
        0 if ticket.get("red_flags") or ticket.get("red_flagged") else 1,
        due is None,
        datetime.fromisoformat(due) if due else _NEVER,
        0 if ticket.get("acuity") is None else 1,
        ticket["created_at"],
        ticket["id"],
    )


def alert_key(alert: dict[str, Any]) -> tuple:
    """The server's alert order: by level (none last), then the oldest."""
    level = alert["level"]
    return (level is None, level or 0, alert["raised_at"], alert["id"])


class ConsoleState:
    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.me = snapshot["me"]
        self.last_event_id = snapshot["last_event_id"]
        self.queue = {t["id"]: t for t in snapshot["queue"]["items"]}
        self.queue_total = snapshot["queue"]["total"]
        self.mine = {t["id"]: t for t in snapshot["my_cases"]["items"]}
        self.mine_total = snapshot["my_cases"]["total"]
        self.staff = {s["id"]: dict(s) for s in snapshot["staff"]}
        # Managers' snapshots have no alerts (nor do their events carry them).
        alerts = snapshot.get("alerts")
        self.alerts = None if alerts is None else {a["id"]: a for a in alerts["items"]}
        self.alerts_total = None if alerts is None else alerts["total"]

    @staticmethod
    def _put(items: dict, total: int, ticket: dict, keep: bool) -> int:
        present = ticket["id"] in items
        if keep:
            items[ticket["id"]] = ticket
            return total + (0 if present else 1)
        if present:
            del items[ticket["id"]]
            return total - 1
        return total

    def apply(self, event: dict[str, Any]) -> None:
        if event["id"] <= self.last_event_id:
            return  # already reflected
        self.last_event_id = event["id"]
        data = event["data"]
        ticket = data.get("ticket")
        if ticket is not None:
            is_open = ticket["status"] in OPEN
            self.queue_total = self._put(self.queue, self.queue_total, ticket, is_open)
            mine = is_open and ticket.get("assignee_id") == self.me["id"]
            self.mine_total = self._put(self.mine, self.mine_total, ticket, mine)
        name = event["name"]
        alert = data.get("alert")
        if alert is not None and self.alerts is not None and name.startswith("alert."):
            self.alerts_total = self._put(
                self.alerts, self.alerts_total, alert, alert["state"] == "open"
            )
        if name == "presence.changed" and data["staff_id"] in self.staff:
            self.staff[data["staff_id"]]["presence"] = data["to"]
            if data["staff_id"] == self.me["id"]:
                self.me = {**self.me, "presence": data["to"]}
        elif name == "staff.disabled":
            self.staff.pop(data["staff_id"], None)
        elif name == "staff.role_changed" and data["staff_id"] in self.staff:
            self.staff[data["staff_id"]]["role"] = data["to"]
        elif name in ("duty.started", "duty.ended"):
            # The snapshot lists on-duty staff only.
            on_duty = name == "duty.started"
            if on_duty:
                self.staff[data["staff_id"]] = dict(data["staff"])
            else:
                self.staff.pop(data["staff_id"], None)
            if self.me and data["staff_id"] == self.me["id"]:
                self.me = {**self.me, "on_duty": on_duty}

    def view(self) -> dict[str, Any]:
        return {
            "me": self.me,
            "queue": sorted(self.queue.values(), key=queue_key),
            "queue_total": self.queue_total,
            "my_cases": sorted(self.mine.values(), key=queue_key),
            "my_total": self.mine_total,
            "staff": [self.staff[k] for k in sorted(self.staff)],
            "alerts": None if self.alerts is None else sorted(self.alerts.values(), key=alert_key),
            "alerts_total": self.alerts_total,
        }
