"""``consult119 retention show`` and ``consult119 retention purge [--dry-run]``.

Run on the command line by whoever administers the server (it needs the database's settings,
which is the admin's privilege); each purge is written to the access log with the operating-system
user who ran it.
"""

from __future__ import annotations

import getpass

import typer
from pydantic import ValidationError
from rich.table import Table

from consult119.config import Settings, get_settings
from consult119.db import Database, utcnow
from consult119.retention import service
from consult119.terminal import err, out, progress_bar

retention_app = typer.Typer(
    help="Retention of personal data: the policy, and purging what is due (docs/privacy.md).",
    no_args_is_help=True,
)
#: (phase, its cut-off, what it covers) in the order `show` lists them; the setting is
#: ``retention_<cut-off>_days``.
POLICY = (
    ("cases", "case", "finished cases"),
    ("attachments", "attachment", "files of finished cases"),
    ("events", "event", "event log"),
    ("audit", "audit", "access log"),
    ("contacts", "contact", "contacts, no case left"),
)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            name = "CONSULT119_" + "_".join(str(p) for p in problem["loc"]).upper()
            err.print(f"[red]{name}: {problem['msg']}[/red]")
        raise typer.Exit(2) from None


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


@retention_app.command("show")
def show() -> None:
    """Print the retention policy and how many records are due now."""
    settings = _settings()
    db = Database(settings)
    try:
        with db.read_session() as session:
            plan = service.plan(session, settings, now=utcnow())
    finally:
        db.dispose()
    table = Table(title="Retention")
    table.add_column("records")
    table.add_column("days", justify="right")
    table.add_column("older than (UTC)")
    table.add_column("due", justify="right")
    table.add_column("setting")
    for phase, cutoff, what in POLICY:
        name = f"retention_{cutoff}_days"
        table.add_row(
            what,
            f"{getattr(settings, name):,}",
            getattr(plan.cutoffs, cutoff).strftime("%Y-%m-%d"),
            f"{plan.phases[phase]:,}",
            f"CONSULT119_{name.upper()}",
        )
    out.print(table)
    _print_counts("A purge now would remove", plan.counts)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("records")
    table.add_column("rows", justify="right")
    for kind in service.KINDS:
        table.add_row(kind, f"{counts[kind]:,}")
    out.print(table)


@retention_app.command("purge")
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what is due and change nothing."),
) -> None:
    """Purge every record past its retention, in batches; open cases are never touched.

    Cases are de-identified (their messages, files, outbox rows, links and events deleted), so
    reports keep counting them. The purge is written to the access log with its counts.
    """
    settings = _settings()
    db = Database(settings)
    try:
        now = utcnow()
        with db.read_session() as session:
            plan = service.plan(session, settings, now=now)
        if dry_run:
            _print_counts("Due now (dry run: nothing changed)", plan.counts)
            return
        with progress_bar(12) as bar:
            totals = {phase: max(plan.phases[phase], 1) for phase in service.PHASES}
            tasks = {phase: bar.add_task(phase, total=totals[phase]) for phase in service.PHASES}
            done = dict.fromkeys(service.PHASES, 0)

            def advance(phase: str, rows: int) -> None:
                done[phase] += rows
                bar.update(tasks[phase], completed=done[phase])

            result = service.purge(db, settings, now=now, by=_who(), progress=advance)
            for phase, task in tasks.items():  # a phase with nothing due shows as done too
                bar.update(task, completed=max(totals[phase], done[phase]))
        _print_counts("Purged", result.counts)
        out.print(f"Recorded in the access log (entry {result.audit_id}, action purge).")
    finally:
        db.dispose()
